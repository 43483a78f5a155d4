// createCall as ACS answers it (minimal): POST /calling/callConnections with {targets, source?,
// sourceCallerIdNumber, callbackUri, operationContext, mediaStreamingOptions, ...} (the body the SDK's
// createCall sends: @azure/communication-call-automation 1.6.0, callAutomationClient.js createCall →
// generated createCallOperationSpec, 201 with CallConnectionProperties). A PSTN target needs a caller
// id (sourceCallerIdNumber), as ACS requires for phone calls. The callee picks up at once: CallConnected
// goes to the callbackUri; a hang-up sends CallDisconnected.
//
// Outcomes other than an answer (configured per target, one per attempt): ACS accepts the request
// (201) and reports the failure asynchronously as CreateCallFailed with resultInformation, as the
// Call Automation troubleshooting codes say ("Troubleshooting call end response codes", Call
// Automation table, learn.microsoft.com/azure/communication-services/resources/troubleshooting/
// voice-video-calling/troubleshooting-codes): no answer = CreateCallFailed 480 / 560480 "No answer
// from callee"; forbidden/rejected = CreateCallFailed 403 / 560403. Busy is NOT listed under
// CreateCallFailed there; the PSTN table gives 486 / 560486 "remote PSTN participant was busy", and
// the page's SipDetails / Q850Details example shows 486 "Busy Here" / Q.850 17 "User busy": used here.
import { randomUUID } from 'node:crypto';
import type { CallbackSender, ResultInformation } from './callbacks.js';
import type { CallSession } from './call-control.js';
import { acsError, type RestResult } from './rest-server.js';
import { newSimCall, phoneIdentifier, type SimCall } from './sim-call.js';

interface PhoneLike {
  /** sourceCallerIdNumber is a PhoneNumberIdentifierModel on the wire: {value, isAnonymous}. */
  readonly value?: unknown;
  readonly rawId?: unknown;
  readonly kind?: unknown;
  readonly phoneNumber?: { readonly value?: unknown };
}

const E164 = /^\+[1-9]\d{6,14}$/;

function phoneOf(t: PhoneLike | undefined): string | undefined {
  const v = t?.phoneNumber?.value ?? t?.value ?? (typeof t?.rawId === 'string' && t.rawId.startsWith('4:') ? t.rawId.slice(2) : undefined);
  return typeof v === 'string' ? v : undefined;
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

export type OutboundOutcome = 'answered' | 'no-answer' | 'busy' | 'failed';

/** resultInformation of CreateCallFailed per outcome (see the header for the sources). */
export const CREATE_CALL_FAILED: Readonly<Record<Exclude<OutboundOutcome, 'answered'>, ResultInformation & Record<string, unknown>>> = {
  'no-answer': { code: 480, subCode: 560480, message: 'No answer from callee.' },
  busy: { code: 486, subCode: 560486, message: 'Call ended because remote PSTN participant was busy.', sipDetails: { code: 486, message: 'Busy Here' }, q850Details: { code: 17, message: 'User busy' } },
  failed: { code: 403, subCode: 560403, message: 'Call was forbidden, canceled, or rejected.' },
};

export interface OutboundDeps {
  readonly callbacks: CallbackSender;
  /** Registers the new call's connection (its REST operations then work) and records it. */
  connect(session: CallSession): void;
  readonly nextIndex: () => number;
  /** What the target does with this attempt (default: answers). */
  readonly outcomeFor?: (target: string) => OutboundOutcome;
  /** How long a no-answer rings before CreateCallFailed (ms). */
  readonly ringMs?: number;
  /**
   * An answered call's session: the full caller (media stream, scenario, hang-up: call-runner.ts);
   * without it the callee only connects and waits for the worker's hang-up.
   */
  readonly runner?: (call: SimCall) => CallSession & { run(): Promise<void> };
}

export function createOutboundCall(deps: OutboundDeps, body: Record<string, unknown>): { result: RestResult; call?: SimCall } {
  const targets = body.targets;
  if (!Array.isArray(targets) || targets.length === 0) return { result: acsError(400, 'BadRequest', 'targets must be a non-empty array') };
  if (!isHttpUrl(body.callbackUri)) return { result: acsError(400, 'BadRequest', 'callbackUri must be an absolute http(s) URL') };
  const target = phoneOf(targets[0] as PhoneLike);
  if (target === undefined || !E164.test(target)) return { result: acsError(400, 'BadRequest', 'target must be a PSTN number (E.164)') };
  const callerId = phoneOf(body.sourceCallerIdNumber as PhoneLike | undefined);
  if (callerId === undefined || !E164.test(callerId)) return { result: acsError(400, 'BadRequest', 'sourceCallerIdNumber is required to call a phone number') };
  const now = performance.now();
  const call = newSimCall({
    index: deps.nextIndex(),
    scenario: 'outbound',
    incomingCallContext: '',
    contextExpiresAt: 0,
    serverCallId: randomUUID(),
    correlationId: randomUUID(),
    caller: phoneIdentifier(callerId),
    callee: phoneIdentifier(target),
    offeredAt: now,
  });
  call.callConnectionId = randomUUID();
  call.state = 'connected';
  call.answeredAt = 0;
  call.answer = {
    callbackUri: body.callbackUri as string,
    operationContext: typeof body.operationContext === 'string' ? body.operationContext : undefined,
    mediaStreamingOptions: body.mediaStreamingOptions as Record<string, unknown> | undefined,
    transcriptionOptions: body.transcriptionOptions as Record<string, unknown> | undefined,
    cognitiveServicesEndpoint: undefined,
  };
  const outcome = deps.outcomeFor?.(target) ?? 'answered';
  if (outcome !== 'answered') {
    call.state = 'offered';
    call.failure = `create-call-${outcome}`;
    const delay = outcome === 'no-answer' ? (deps.ringMs ?? 200) : 20;
    setTimeout(() => {
      call.state = 'disconnected';
      call.endedAt = performance.now() - call.offeredAt;
      void deps.callbacks.send(call, 'CreateCallFailed', {}, call.answer?.operationContext, CREATE_CALL_FAILED[outcome]);
    }, delay).unref();
    return { call, result: created(call, target, callerId) };
  }
  if (deps.runner) {
    const runner = deps.runner(call);
    deps.connect(runner);
    void runner.run();
    return { call, result: created(call, target, callerId) };
  }
  const session: CallSession = {
    call,
    answered: () => undefined,
    hungUp: () => {
      if (call.state === 'disconnected') return;
      call.state = 'disconnected';
      call.disconnectedBy = 'worker';
      call.endedAt = performance.now() - call.offeredAt;
      void deps.callbacks.send(call, 'CallDisconnected', {}, undefined, { code: 200, subCode: 0, message: 'Call terminated.' });
    },
    mediaOperation: () => undefined,
  };
  deps.connect(session);
  setImmediate(() => void deps.callbacks.send(call, 'CallConnected', {}, call.answer?.operationContext));
  return { call, result: created(call, target, callerId) };
}

function created(call: SimCall, target: string, callerId: string): RestResult {
  return {
      status: 201,
      body: {
        callConnectionId: call.callConnectionId,
        serverCallId: call.serverCallId,
        correlationId: call.correlationId,
        targets: [phoneIdentifier(target)],
        callConnectionState: 'connecting',
        callbackUri: call.answer?.callbackUri,
        sourceCallerIdNumber: { value: callerId },
      },
  };
}
