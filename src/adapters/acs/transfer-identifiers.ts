// Domain transfer targets and raw ids as the SDK's CommunicationIdentifier shapes (communication-common:
// PhoneNumberIdentifier { phoneNumber }, CommunicationUserIdentifier { communicationUserId },
// MicrosoftTeamsUserIdentifier { microsoftTeamsUserId, cloud }). The SDK serializes them to the
// REST model ({ rawId, kind, phoneNumber: { value } | communicationUser: { id } | microsoftTeamsUser: {…} }).
import { tryParseTransferTarget, type TransferTarget } from '../../domain/transfer-target.js';

export type SdkIdentifier =
  | { readonly phoneNumber: string; readonly rawId?: string }
  | { readonly communicationUserId: string }
  | { readonly microsoftTeamsUserId: string; readonly cloud: 'public' | 'dod' | 'gcch'; readonly rawId: string }
  | { readonly id: string };

export function identifierOfTarget(t: TransferTarget): SdkIdentifier {
  switch (t.kind) {
    case 'phoneNumber':
      return { phoneNumber: t.phoneNumber, rawId: t.rawId };
    case 'communicationUser':
      return { communicationUserId: t.rawId };
    case 'microsoftTeamsUser':
      return { microsoftTeamsUserId: t.rawId.slice(t.rawId.indexOf(':', 2) + 1), cloud: t.cloud, rawId: t.rawId };
  }
}

/** A participant's raw id (the caller's, from IncomingCall) as an identifier; unknown forms stay raw ids. */
export function identifierOfRawId(rawId: string): SdkIdentifier {
  const t = tryParseTransferTarget(rawId);
  return t ? identifierOfTarget(t) : { id: rawId };
}
