// Answers one claimed IncomingCall: new call id and per-call secret, auth state and session snapshot
// stored, the LiveCall put under control, then answerCall with media streaming on /ws/media and — only
// when a Cognitive Services endpoint is configured — transcription on its own socket, /ws/transcription.
// ACS treats the two as separate subscriptions, each with its own transportUrl, metadata packet and
// status ("Add real-time transcription into your application", learn.microsoft.com/azure/
// communication-services/how-tos/call-automation/real-time-transcription-tutorial); transcription
// without callIntelligenceOptions.cognitiveServicesEndpoint is answered with TranscriptionFailed
// (8522), so it is not requested then. A failed answer is logged with the correlation id and counted;
// a transient failure is reported as 'retry' (the route retries in process, keeping the claim).
import { randomBytes, randomUUID } from 'node:crypto';
import type { CallSessionSnapshot } from '../domain/call-records.js';
import type { CallSupervisor } from '../domain/call-lifecycle.js';
import { isVoiceError } from '../domain/errors.js';
import { LiveCall, type CallRegistry } from '../domain/live-call.js';
import type { CallControl, ConversationStore, SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { EdgeMetrics } from './edge-metrics.js';
import { partyOf, type EventGridEvent, type IncomingCallData } from './event-grid.js';
import type { AnswerOutcome } from './incoming-call-routes.js';

export interface CallerInfo {
  readonly rawId: string;
  readonly kind: string;
  readonly displayName: string | null;
}

/** Runs when a call is being answered (caller profile lookup, ...). Must not block; errors are logged. */
export type IncomingHook = (call: LiveCall, caller: CallerInfo) => Promise<void> | void;

export interface CallAnswererDeps {
  readonly sessions: SessionStore;
  readonly conversations: ConversationStore;
  readonly control: CallControl;
  readonly supervisor: CallSupervisor;
  readonly registry: CallRegistry;
  readonly metrics: EdgeMetrics;
  readonly incomingHooks: readonly IncomingHook[];
  /** ACS accepted the call claimed as `claimId` (admission confirms its slot with the call id). */
  readonly onAnswered?: (claimId: string, callId: string) => void;
  /** The tenant admission resolved for this claim (carried into the archive job for analytics). */
  readonly tenantOf?: (claimId: string) => string | null;
  readonly now: () => number;
  readonly log: Logger;
}

export interface CallAnswererConfig {
  readonly publicBaseUrl: string;
  readonly workerId: string;
  readonly audioFormat: 'pcm16KMono' | 'pcm24KMono';
  readonly channels: 'mixed' | 'unmixed';
  readonly transcriptionLocale: string | null;
  /** ACS_COGNITIVE_SERVICES_ENDPOINT is set: ask ACS to transcribe (otherwise it answers TranscriptionFailed 8522). */
  readonly transcribe: boolean;
}

/** 192 random bits, base64url. */
export function newCallSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function callUrls(publicBaseUrl: string, callId: string, secret: string): { callbackUrl: string; mediaUrl: string; transcriptionUrl: string } {
  const q = `callId=${encodeURIComponent(callId)}&secret=${encodeURIComponent(secret)}`;
  const ws = publicBaseUrl.replace(/^http(s?):/i, 'ws$1:');
  return { callbackUrl: `${publicBaseUrl}/api/callbacks?${q}`, mediaUrl: `${ws}/ws/media?${q}`, transcriptionUrl: `${ws}/ws/transcription?${q}` };
}

export function snapshotOf(call: LiveCall, cfg: Pick<CallAnswererConfig, 'workerId' | 'audioFormat'>): CallSessionSnapshot {
  return {
    callId: call.callId,
    phase: call.phase,
    callConnectionId: call.callConnectionId,
    correlationId: call.correlationId,
    serverCallId: call.serverCallId,
    from: call.from,
    to: call.to,
    startedAt: call.startedAt,
    ownerWorkerId: cfg.workerId,
    audioFormat: cfg.audioFormat,
    nextSeq: call.nextSeq,
    ...(call.tenantId ? { tenantId: call.tenantId } : {}),
    ...(call.direction !== 'inbound' ? { direction: call.direction } : {}),
  };
}

export function createCallAnswerer(deps: CallAnswererDeps, cfg: CallAnswererConfig) {
  const { metrics } = deps;
  return async function answer(_ev: EventGridEvent, data: IncomingCallData, claimId: string): Promise<AnswerOutcome> {
    const callId = randomUUID();
    const secret = newCallSecret();
    const correlationId = data.correlationId ?? null;
    const from = partyOf(data.from);
    const to = partyOf(data.to);
    const log = deps.log.child({ callId, correlationId });
    const call = new LiveCall({ callId, from: from.masked, to: to.masked, correlationId, startedAt: deps.now(), log, callerRawId: from.rawId || null });
    call.tenantId = deps.tenantOf?.(claimId) ?? null;
    const ctl = deps.supervisor.attach(call);
    ctl.answering();

    try {
      await deps.sessions.putAuthState(callId, { secret, callerVerified: false, failedAttempts: 0 });
      await deps.sessions.saveSession(snapshotOf(call, cfg));
    } catch (err) {
      log.error({ err }, 'cannot store the call before answering');
      metrics.answers.inc({ outcome: 'transient' });
      ctl.abandon('session store unavailable');
      return 'retry';
    }

    const caller: CallerInfo = { rawId: from.rawId, kind: from.kind, displayName: data.callerDisplayName ?? null };
    deps.conversations
      .updateContext(callId, { caller })
      .catch((err: unknown) => log.warn({ err }, 'caller context not stored'));
    for (const hook of deps.incomingHooks) {
      try {
        void Promise.resolve(hook(call, caller)).catch((err: unknown) => log.warn({ err }, 'incoming hook failed'));
      } catch (err) {
        log.warn({ err }, 'incoming hook failed');
      }
    }

    const { callbackUrl, mediaUrl, transcriptionUrl } = callUrls(cfg.publicBaseUrl, callId, secret);
    let res;
    try {
      res = await deps.control.answer({
        incomingCallContext: data.incomingCallContext,
        callbackUrl,
        mediaTransportUrl: mediaUrl,
        transcriptionTransportUrl: transcriptionUrl,
        audioFormat: cfg.audioFormat,
        channels: cfg.channels,
        transcriptionLocale: cfg.transcribe ? cfg.transcriptionLocale : null,
        operationContext: ctl.operationContext,
      });
    } catch (err) {
      const transient = isVoiceError(err, 'CALL_CONTROL_TRANSIENT');
      log.warn({ err, correlationId, transient }, 'answer failed');
      metrics.answers.inc({ outcome: transient ? 'transient' : 'failed' });
      ctl.abandon('answer failed');
      return transient ? 'retry' : 'failed';
    }

    if (ctl.finalized) {
      // The answer timer gave up on this call while ACS was still answering: end it rather than leak it.
      log.warn({ correlationId }, 'answer arrived after the call was given up; hanging up');
      await deps.control.hangUp(res.callConnectionId, ctl.operationContext).catch(() => undefined);
      metrics.answers.inc({ outcome: 'failed' });
      return 'failed';
    }
    deps.registry.bindConnection(call, res.callConnectionId);
    deps.onAnswered?.(claimId, callId);
    call.serverCallId = res.serverCallId ?? null;
    if (res.correlationId) call.correlationId = res.correlationId;
    metrics.answers.inc({ outcome: 'answered' });
    log.info({ correlationId }, 'call answered');
    call.events.emit('answered', { callConnectionId: res.callConnectionId });
    deps.sessions.saveSession(snapshotOf(call, cfg)).catch((err: unknown) => log.warn({ err }, 'session snapshot not stored'));
    return 'answered';
  };
}
