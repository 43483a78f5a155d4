// What the REST operations do to simulated calls: answer (by incomingCallContext, once), get, hang up,
// and media operations. Side effects (callbacks, media socket) belong to the call's session.
import { randomUUID } from 'node:crypto';
import { acsError, type CallControlHandlers, type RestResult } from './rest-server.js';
import type { AnswerRequest, SimCall } from './sim-call.js';
import { transferResponse } from './sim-transfer.js';

/** The runner side of one call: reacts to what the worker asked for. */
export interface CallSession {
  readonly call: SimCall;
  answered(): void;
  /** The worker declined the call (rejectCall): the caller hears busy. */
  rejected?(reason: string): void;
  hungUp(how: 'terminate' | 'delete'): void;
  mediaOperation(operation: string, body: Record<string, unknown>): void;
  /** transferToParticipant was accepted (202): the callbacks follow (sim-transfer.ts). */
  transferRequested?(body: Record<string, unknown>): void;
}

const MEDIA_OPERATIONS = new Set([
  'play',
  'cancelAllMediaOperations',
  'startMediaStreaming',
  'stopMediaStreaming',
  'startTranscription',
  'stopTranscription',
  'updateTranscription',
  'recognize',
  'startContinuousDtmfRecognition',
  'stopContinuousDtmfRecognition',
  'hold',
  'unhold',
]);

function isWsUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
}

function cognitiveEndpointOf(v: unknown): string | undefined {
  const e = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).cognitiveServicesEndpoint : undefined;
  return typeof e === 'string' && isHttpUrl(e) ? e : undefined;
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export class CallControl implements CallControlHandlers {
  private readonly byContext = new Map<string, CallSession>();
  private readonly byConnection = new Map<string, CallSession>();

  constructor(private readonly resourceId: string) {}

  offer(session: CallSession): void {
    this.byContext.set(session.call.incomingCallContext, session);
  }

  /** Forgets a finished call (its connection id then answers 404, like ACS). */
  forget(session: CallSession): void {
    this.byContext.delete(session.call.incomingCallContext);
    if (session.call.callConnectionId) this.byConnection.delete(session.call.callConnectionId);
  }

  answer(body: Record<string, unknown>): RestResult {
    const ctx = body.incomingCallContext;
    if (typeof ctx !== 'string' || ctx.length === 0) return acsError(400, 'BadRequest', 'incomingCallContext is required');
    if (!isHttpUrl(body.callbackUri)) return acsError(400, 'BadRequest', 'callbackUri must be an absolute http(s) URL');
    const session = this.byContext.get(ctx);
    const now = performance.now();
    if (!session || now > session.call.contextExpiresAt) return acsError(400, '8523', 'Invalid request: incomingCallContext is unknown or expired');
    const call = session.call;
    call.answerRequests++;
    if (call.state !== 'offered') {
      call.violations.push('answer for an already answered call');
      return acsError(400, '8522', 'Call already answered');
    }
    const media = body.mediaStreamingOptions as Record<string, unknown> | undefined;
    const transcription = body.transcriptionOptions as Record<string, unknown> | undefined;
    if (media !== undefined && (typeof media !== 'object' || media === null || !isWsUrl(media.transportUrl)))
      return acsError(400, 'BadRequest', 'mediaStreamingOptions.transportUrl must be a ws(s) URL');
    if (transcription !== undefined && (typeof transcription !== 'object' || transcription === null || !isWsUrl(transcription.transportUrl)))
      return acsError(400, 'BadRequest', 'transcriptionOptions.transportUrl must be a ws(s) URL');
    const answer: AnswerRequest = {
      callbackUri: body.callbackUri as string,
      operationContext: typeof body.operationContext === 'string' ? body.operationContext : undefined,
      mediaStreamingOptions: media,
      transcriptionOptions: transcription,
      cognitiveServicesEndpoint: cognitiveEndpointOf(body.callIntelligenceOptions),
    };
    call.answer = answer;
    call.answers++;
    call.state = 'answered';
    call.answeredAt = now - call.offeredAt;
    call.callConnectionId = `${randomUUID().slice(0, 8)}-${call.serverCallId.slice(0, 8)}-${randomUUID()}`.slice(0, 36);
    this.byConnection.set(call.callConnectionId, session);
    setImmediate(() => session.answered());
    return { status: 200, body: this.properties(call) };
  }

  /** createCall (outbound-calls.ts), set by the simulator; absent: 404 like an unknown route. */
  outbound: ((body: Record<string, unknown>) => RestResult) | undefined;

  createCall(body: Record<string, unknown>): RestResult {
    return this.outbound ? this.outbound(body) : acsError(404, 'NotFound', 'createCall is not enabled');
  }

  /** An outbound call's connection: its REST operations (hang up, media) now reach it. */
  connect(session: CallSession): void {
    if (session.call.callConnectionId) this.byConnection.set(session.call.callConnectionId, session);
  }

  /** Calls declined with rejectCall, by reason (none, busy, forbidden). */
  readonly rejections = new Map<string, number>();

  reject(body: Record<string, unknown>): RestResult {
    const ctx = body.incomingCallContext;
    if (typeof ctx !== 'string' || ctx.length === 0) return acsError(400, 'BadRequest', 'incomingCallContext is required');
    const reason = body.callRejectReason ?? 'none';
    if (reason !== 'none' && reason !== 'busy' && reason !== 'forbidden') return acsError(400, 'BadRequest', 'callRejectReason must be none, busy or forbidden');
    const session = this.byContext.get(ctx);
    if (!session || performance.now() > session.call.contextExpiresAt) return acsError(400, '8523', 'Invalid request: incomingCallContext is unknown or expired');
    const call = session.call;
    if (call.state !== 'offered') {
      call.violations.push('reject for a call already answered or rejected');
      return acsError(400, '8522', 'Call already answered or rejected');
    }
    call.rejectedWith = reason;
    call.state = 'disconnected';
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + 1);
    setImmediate(() => session.rejected?.(reason));
    return { status: 204 };
  }

  get(id: string): RestResult {
    const s = this.live(id);
    return s ? { status: 200, body: this.properties(s.call) } : notFound(id);
  }

  hangUp(id: string, how: 'terminate' | 'delete'): RestResult {
    const s = this.live(id);
    if (!s) return notFound(id);
    s.call.hangupRequests.push(how);
    setImmediate(() => s.hungUp(how));
    return { status: 204 };
  }

  mediaOperation(id: string, operation: string, body: Record<string, unknown>): RestResult {
    if (operation === 'transferToParticipant') return this.transfer(id, body);
    if (!MEDIA_OPERATIONS.has(operation)) return acsError(404, 'NotFound', `unknown operation ${operation}`);
    const s = this.live(id);
    if (!s) return notFound(id);
    if (operation === 'play' && (!Array.isArray(body.playSources) || body.playSources.length === 0))
      return acsError(400, 'BadRequest', 'playSources must be a non-empty array');
    s.call.mediaOperations.push(operation);
    if (operation === 'play') s.call.playRequests.push({ sources: body.playSources, operationContext: typeof body.operationContext === 'string' ? body.operationContext : undefined });
    setImmediate(() => s.mediaOperation(operation, body));
    return { status: operation === 'hold' || operation === 'unhold' || operation.endsWith('ContinuousDtmfRecognition') ? 200 : 202 };
  }

  transfer(id: string, body: Record<string, unknown>): RestResult {
    const s = this.live(id);
    if (!s) return notFound(id);
    const res = transferResponse(body);
    if (res.status === 202) setImmediate(() => s.transferRequested?.(body));
    return res;
  }

  private live(id: string): CallSession | undefined {
    const s = this.byConnection.get(id);
    return s && s.call.state !== 'disconnected' ? s : undefined;
  }

  private properties(call: SimCall): Record<string, unknown> {
    const media = call.answer?.mediaStreamingOptions;
    const tr = call.answer?.transcriptionOptions;
    return {
      callConnectionId: call.callConnectionId,
      serverCallId: call.serverCallId,
      targets: [call.caller],
      callConnectionState: call.state === 'connected' ? 'connected' : 'connecting',
      callbackUri: call.answer?.callbackUri,
      source: call.caller,
      ...(call.caller.kind === 'phoneNumber' ? { sourceCallerIdNumber: call.caller.phoneNumber } : {}),
      correlationId: call.correlationId,
      answeredBy: { id: `8:acs:${this.resourceId}_callautomation` },
      ...(media ? { mediaStreamingSubscription: { id: `${call.callConnectionId}-media`, state: media.startMediaStreaming ? 'active' : 'inactive', subscribedContentTypes: ['audio'] } } : {}),
      ...(tr ? { transcriptionSubscription: { id: `${call.callConnectionId}-transcription`, state: tr.startTranscription ? 'active' : 'inactive', subscribedResultTypes: ['final', 'intermediate'] } } : {}),
    };
  }
}

function notFound(id: string): RestResult {
  return acsError(404, '8522', `Call not found: ${id}`);
}
