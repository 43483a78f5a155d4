// Where a call is transferred to a human: a PSTN number, an ACS user or a Teams user, written as
// the raw identifier ACS uses ("4:+14255550123", "8:acs:…", "8:orgid:…"; communication-common's
// createIdentifierFromRawId reads the same forms). A bare "+E164" is a phone number too.
// Phone numbers never appear in clear in a log line: maskTarget.

export type TransferTarget =
  | { readonly kind: 'phoneNumber'; readonly rawId: string; readonly phoneNumber: string }
  | { readonly kind: 'communicationUser'; readonly rawId: string }
  | { readonly kind: 'microsoftTeamsUser'; readonly rawId: string; readonly cloud: 'public' | 'dod' | 'gcch' };

/** E.164: a plus, a leading digit 1-9, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;
/** The part after "8:acs:" / "8:orgid:": ACS resource id and user id, or a Teams object id. */
const ID_PART = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;

const TEAMS_PREFIXES: readonly [string, 'public' | 'dod' | 'gcch'][] = [
  ['8:orgid:', 'public'],
  ['8:dod:', 'dod'],
  ['8:gcch:', 'gcch'],
];

/** Parses a target; throws an Error saying what is wrong (the caller names the variable or argument). */
export function parseTransferTarget(input: string): TransferTarget {
  const s = input.trim();
  if (s.length === 0) throw new Error('is empty');
  const phone = s.startsWith('4:') ? s.slice(2) : s.startsWith('+') ? s : null;
  if (phone !== null) {
    const compact = phone.replace(/[\s().-]/g, '');
    if (!E164.test(compact)) throw new Error('is not an E.164 phone number (+ and 7 to 15 digits)');
    return { kind: 'phoneNumber', rawId: `4:${compact}`, phoneNumber: compact };
  }
  if (s.startsWith('8:acs:')) {
    if (!ID_PART.test(s.slice(6))) throw new Error('is not an ACS user id (8:acs:<resource>_<user>)');
    return { kind: 'communicationUser', rawId: s };
  }
  for (const [prefix, cloud] of TEAMS_PREFIXES) {
    if (!s.startsWith(prefix)) continue;
    if (!ID_PART.test(s.slice(prefix.length))) throw new Error(`is not a Teams user id (${prefix}<object id>)`);
    return { kind: 'microsoftTeamsUser', rawId: s, cloud };
  }
  throw new Error('is not a transfer target (+E164, 4:+E164, 8:acs:…, 8:orgid:…, 8:dod:… or 8:gcch:…)');
}

/** The target parsed, or null when it does not parse (a model's tool argument, say). */
export function tryParseTransferTarget(input: unknown): TransferTarget | null {
  if (typeof input !== 'string') return null;
  try {
    return parseTransferTarget(input);
  } catch {
    return null;
  }
}

/** For logs: a phone number keeps its last two digits only; a user id its kind and last four characters. */
export function maskTarget(t: TransferTarget): string {
  if (t.kind === 'phoneNumber') return `4:+***${t.phoneNumber.slice(-2)}`;
  const prefix = t.rawId.slice(0, t.rawId.indexOf(':', 2) + 1);
  return `${prefix}…${t.rawId.slice(-4)}`;
}

/** What CallControl.transfer takes besides the target. */
export interface TransferRequestOptions {
  /** Echoed in CallTransferAccepted / CallTransferFailed. */
  readonly operationContext: string;
  /** The caller's raw id ("4:+…", "8:acs:…"): the participant transferred away; null when unknown. */
  readonly transfereeRawId: string | null;
}

