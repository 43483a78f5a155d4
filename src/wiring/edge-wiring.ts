// Wires the ACS edge into a worker: the call supervisor (state machine + timers + finalization), the
// incoming-call and callback routes, the event router's delivery into this replica, and the hooks other
// components use (onFinalize, onIncoming, resolveCall, dispatch).
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import { CallSupervisor, type FinalizeHook } from '../domain/call-lifecycle.js';
import type { CallRegistry, LiveCall } from '../domain/live-call.js';
import type { ConversationState } from '../domain/conversation.js';
import type { AffinityStore, CallControl, CallbackEnvelope, ConversationStore, EventRouter, SessionStore } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { counter, type Registry } from '../metrics.js';
import type { AcsJwtVerifier } from '../server/acs-auth.js';
import { keepAuthAlive } from '../server/auth-keeper.js';
import { createCallAnswerer, snapshotOf, type IncomingHook } from '../server/call-answerer.js';
import type { CallAdmission } from '../server/call-admission.js';
import { callbackRoutes, type DispatchOutcome } from '../server/callback-routes.js';
import { edgeMetrics, type EdgeMetrics } from '../server/edge-metrics.js';
import { incomingCallRoutes } from '../server/incoming-call-routes.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { isForwardedMedia } from './media-forwarding.js';

export interface EdgeDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
  readonly calls: CallRegistry;
  readonly leases: { drop(callId: string): Promise<void>; forget?(callId: string): void };
  readonly sessions: SessionStore;
  readonly conversations: ConversationStore;
  readonly router: EventRouter;
  /** Who owns a call now (media timers let go of calls whose socket moved to another replica). */
  readonly affinity?: Pick<AffinityStore, 'ownerOf'>;
  readonly control: CallControl;
  /** The worker's one ACS JWT verifier (clients.ts), shared with the media upgrade. */
  readonly verifier: AcsJwtVerifier;
  /** Fastify plugins the server registers (the edge pushes its two routes). */
  readonly routes: FastifyPluginAsync[];
  readonly now: () => number;
  /**
   * Admission: may this replica take one more call? Defaults to the per-replica MAX_CONCURRENT_CALLS
   * check; a cluster-wide limiter replaces it (and releases its slot in an onFinalize hook).
   */
  readonly admit?: () => boolean | Promise<boolean>;
  /** Cluster-wide slots (tenants, global cap, rate limit): reserved before answering, released when the call leaves. */
  readonly callAdmission?: CallAdmission;
  /** The state store is down or just came back (possibly empty): an absent owner proves nothing yet. */
  readonly storeSettling?: () => boolean;
  /** How long a failed stream is left to ACS to re-establish before this replica restarts it (3 s). */
  readonly streamRestartMs?: number;
}

export interface Edge {
  readonly supervisor: CallSupervisor;
  readonly metrics: EdgeMetrics;
  /** Registers a step run once per finished call (the archive step). */
  onFinalize(hook: FinalizeHook): void;
  /** Registers a step run when a call is being answered (caller profile lookup). */
  onIncoming(hook: IncomingHook): void;
  /** The local LiveCall, or one resumed from its session snapshot (media socket on another replica). */
  resolveCall(callId: string): Promise<LiveCall | null>;
  /** Applies an authenticated, de-duplicated event: here when the call is local, else forwarded. */
  dispatch(env: CallbackEnvelope): Promise<DispatchOutcome>;
  /** Applies an event to a local call only (held events replayed by the media path). False when not local. */
  dispatchLocal(env: CallbackEnvelope): boolean;
  /**
   * Where transcription events forwarded by another replica go (the media path's forwarder): they
   * travel, are held and are replayed like callbacks, but feed the call's media session.
   */
  onForwardedMedia(apply: (env: CallbackEnvelope) => boolean): void;
  /** Registers a step run when a call answered elsewhere is resumed here (with its stored conversation). */
  onResumed(hook: (call: LiveCall, conversation: ConversationState | null) => Promise<void> | void): void;
}

/** The next free turn seq of a stored conversation (turns ever stored, or the highest seq kept). */
export function nextSeqOf(state: ConversationState): number {
  let top = state.turnCount;
  for (const t of state.history) if (t.seq > top) top = t.seq;
  return top + 1;
}

export function wireEdge(deps: EdgeDeps): Edge {
  const { config, log } = deps;
  const edgeLog = log.child({ component: 'acs-edge' });
  const metrics = edgeMetrics(deps.registry, deps.calls);
  const parked = counter(deps.registry, 'voice_callbacks_parked_total', 'Callbacks parked while their call secret could not be checked, and what became of them', ['outcome']);
  const incomingHooks: IncomingHook[] = [];
  const resumedHooks: ((call: LiveCall, conversation: ConversationState | null) => Promise<void> | void)[] = [];

  const streamRestartMs = deps.streamRestartMs ?? 3000;
  const supervisor = new CallSupervisor(
    {
      control: deps.control,
      registry: deps.calls,
      leases: deps.leases,
      now: deps.now,
      ...(deps.affinity ? { ownerOf: (callId: string) => deps.affinity!.ownerOf(callId), workerId: config.workerId } : {}),
      ...(deps.storeSettling ? { storeSettling: deps.storeSettling } : {}),
      observer: {
        // Keep the snapshot's phase current so a replica that resumes the call starts from the right place.
        phaseChanged: (call) =>
          void deps.sessions
            .saveSession(snapshotOf(call, { workerId: config.workerId, audioFormat: config.media.audioFormat }))
            .catch((err: unknown) => call.log.warn({ err }, 'session snapshot not stored')),
        illegal: (from, to) => metrics.illegalTransitions.inc({ from, to }),
        timeout: (kind) => metrics.timeouts.inc({ kind }),
        ended: (outcome) => metrics.ended.inc({ outcome }),
        finalizerFailed: () => metrics.finalizerFailures.inc(),
        hangUpFailed: () => metrics.hangUpFailures.inc(),
        late: (type) => metrics.callbacks.inc({ type, outcome: 'late' }),
        streamFailure: (type, decision) => metrics.streamFailures.inc({ type, decision }),
        released: (kind) => metrics.ended.inc({ outcome: kind }),
      },
    },
    {
      answerTimeoutMs: config.calls.answerTimeoutMs,
      mediaConnectTimeoutMs: config.calls.mediaConnectTimeoutMs,
      maxDurationMs: config.calls.maxDurationS * 1000,
      mediaReconnectGraceMs: config.calls.mediaReconnectGraceMs,
      streamRestartMs,
    },
  );

  if (config.acs.authDisabled) {
    edgeLog.warn('ACS_AUTH_DISABLED_DEV_ONLY is set: ACS tokens are NOT verified (call secrets still are); never use this in production');
  } else if (!config.acs.resourceId) {
    edgeLog.warn('ACS_RESOURCE_ID is not set: every callback and media connection will be refused');
  }
  const verifier = deps.verifier;

  let forwardedMedia: ((env: CallbackEnvelope) => boolean) | null = null;
  const dispatchLocal = (env: CallbackEnvelope): boolean => {
    if (isForwardedMedia(env)) return forwardedMedia ? forwardedMedia(env) : false;
    const c = supervisor.get(env.callId);
    if (!c) return false;
    c.handleCallback(env);
    return true;
  };
  const dispatch = async (env: CallbackEnvelope): Promise<DispatchOutcome> => {
    const c = supervisor.get(env.callId);
    if (c && env.type === 'CallDisconnected' && !c.finalized && c.streamsElsewhere && c.call.phase !== 'ringing' && c.call.phase !== 'answering') {
      // Answered here, streaming elsewhere: the owner holds the conversation and finalizes the call
      // (archiving it from here would archive an empty conversation first). Sent on to the owner;
      // handled here only when no replica holds it. A store that cannot route it now: the callback
      // route parks it (and replays it here once the store answers).
      const outcome = await deps.router.forward(env);
      if (outcome === 'forwarded') {
        // The owner finalizes it; nothing of the call is left here.
        c.handOver('disconnected; finalized by the replica that streams it');
        return outcome;
      }
    }
    if (c) {
      const late = c.finalized;
      c.handleCallback(env);
      return late ? 'late' : 'dispatched';
    }
    const outcome = await deps.router.forward(env);
    // Held: no live replica holds the call (its owner died with the stream). Restart the stream
    // from here, unless ACS re-establishes it first; the event waits for the call's next owner.
    if (outcome === 'held' && (env.type === 'MediaStreamingFailed' || env.type === 'TranscriptionFailed')) void restartOrphan(env);
    return outcome;
  };

  /**
   * A stream of a call whose owner is gone (SIGKILL, a crash, a lost node) failed. Whether ACS
   * re-establishes a dropped stream is not documented, so: wait streamRestartMs for it to do so (a new
   * socket means a new owner, a higher fence); if nobody took the call meanwhile, ask for a new
   * subscription through Call Automation (startMediaStreaming / startTranscription). ACS then opens a
   * new socket to the transportUrl given at answer time, which the ingress sends to a live replica;
   * that replica resumes the call from Redis (snapshot, conversation, held events). Bounded per call.
   */
  const orphanRestarts = new Map<string, number>();
  const restartOrphan = async (env: CallbackEnvelope): Promise<void> => {
    const media = env.type === 'MediaStreamingFailed';
    const key = `${env.callId}:${media ? 'media' : 'transcription'}`;
    const n = orphanRestarts.get(key) ?? 0;
    if (n >= 3) return;
    orphanRestarts.set(key, n + 1);
    if (n === 0) setTimeout(() => orphanRestarts.delete(key), config.calls.maxDurationS * 1000).unref();
    const log = edgeLog.child({ callId: env.callId });
    try {
      const before = (await deps.affinity?.ownerOf(env.callId)) ?? null;
      await new Promise((r) => setTimeout(r, streamRestartMs).unref());
      if (supervisor.get(env.callId)) return;
      const snap = await deps.sessions.loadSession(env.callId);
      if (!snap || snap.phase === 'ended' || !snap.callConnectionId) return;
      const now = (await deps.affinity?.ownerOf(env.callId)) ?? null;
      if (now !== null && now !== before) return;
      log.warn({ type: env.type, deadOwner: before }, media ? 'stream of a call without a live owner failed: restarting media streaming' : 'transcription of a call without a live owner failed: restarting it');
      metrics.streamFailures.inc({ type: env.type, decision: 'restart' });
      if (media) await deps.control.startMediaStreaming(snap.callConnectionId, env.callId);
      else await deps.control.startTranscription(snap.callConnectionId, env.callId);
    } catch (err) {
      log.warn({ err, type: env.type }, 'could not restart the stream of a call without a live owner');
    }
  };

  const answer = createCallAnswerer(
    {
      sessions: deps.sessions,
      conversations: deps.conversations,
      control: deps.control,
      supervisor,
      registry: deps.calls,
      metrics,
      incomingHooks,
      ...(deps.callAdmission ? { onAnswered: deps.callAdmission.confirm.bind(deps.callAdmission), tenantOf: deps.callAdmission.tenantOfClaim.bind(deps.callAdmission) } : {}),
      now: deps.now,
      log: edgeLog,
    },
    {
      publicBaseUrl: config.publicBaseUrl,
      workerId: config.workerId,
      audioFormat: config.media.audioFormat,
      channels: config.media.channels,
      transcriptionLocale: config.media.transcriptionLocale,
      // Realtime calls: the model transcribes the caller itself (input audio transcription).
      transcribe: config.acs.cognitiveServicesEndpoint !== undefined && config.responder.kind !== 'realtime',
    },
  );
  if (!config.eventGridWebhookKey) {
    edgeLog.warn('EVENTGRID_WEBHOOK_KEY is not set: /api/incoming-call accepts unauthenticated deliveries (development only)');
  }
  if (!config.acs.cognitiveServicesEndpoint) {
    edgeLog.warn('ACS_COGNITIVE_SERVICES_ENDPOINT is not set: transcription is not requested (ACS answers TranscriptionFailed 8522 without it); callers are heard through DTMF only');
  }

  deps.routes.push(
    incomingCallRoutes(
      {
        sessions: deps.sessions,
        metrics,
        lifecycle: deps.lifecycle,
        // Per-replica limit; the cluster-wide limiter of the Redis tier plugs in here.
        admit: deps.admit ?? (() => deps.calls.size < config.calls.maxConcurrent),
        ...(deps.callAdmission ? { slots: deps.callAdmission } : {}),
        ...(deps.control.reject ? { reject: (ctx: string) => (deps.control.reject as NonNullable<CallControl['reject']>)(ctx, 'busy') } : {}),
        answer,
        now: deps.now,
        log: edgeLog,
      },
      {
        workerId: config.workerId,
        maxAgeS: config.calls.incomingMaxAgeS,
        replyBudgetMs: config.calls.incomingReplyBudgetMs,
        webhookKey: config.eventGridWebhookKey,
      },
    ),
    callbackRoutes({
      sessions: deps.sessions,
      verifier,
      dispatch,
      metrics,
      workerId: config.workerId,
      log: edgeLog,
      parking: {
        count: (outcome, events) => parked.inc({ outcome }, events),
        onCreated: (p) => deps.lifecycle.onClose('callback-parking', () => p.stop()),
      },
    }),
  );

  deps.router
    .start((env) => {
      if (dispatchLocal(env)) {
        metrics.callbacks.inc({ type: env.type, outcome: 'delivered' });
        return;
      }
      // Forwarded here but the call is not local (it moved on, or its socket has not arrived yet):
      // park it for whoever owns the call, never drop it.
      const hold = deps.router.hold?.bind(deps.router);
      if (!hold) {
        metrics.callbacks.inc({ type: env.type, outcome: 'undeliverable' });
        return;
      }
      hold(env).then(
        (outcome) => metrics.callbacks.inc({ type: env.type, outcome: outcome === 'held' ? 'held_again' : 'forwarded_again' }),
        (err: unknown) => {
          metrics.callbacks.inc({ type: env.type, outcome: 'undeliverable' });
          edgeLog.warn({ err, callId: env.callId }, 'forwarded event for a call not held here could not be parked');
        },
      );
    })
    .catch((err: unknown) => edgeLog.error({ err }, 'event router did not start'));

  const authKeeper = keepAuthAlive({ sessions: deps.sessions, calls: deps.calls, log: edgeLog }, { ttlSeconds: config.ttl.auth });
  deps.lifecycle.onClose('auth-keeper', () => authKeeper.stop());
  // SIGTERM: live calls continue up to the drain deadline (less a margin to finalize them), then
  // every call still live is ended as 'worker-shutdown' and its archive job enqueued.
  const drainMs = config.shutdownDrainTimeoutMs;
  const finalizeMarginMs = Math.min(5000, Math.floor(drainMs / 4));
  deps.lifecycle.onDrain('calls', async () => {
    const live = supervisor.size;
    const ended = await supervisor.drain(Math.max(0, drainMs - finalizeMarginMs));
    edgeLog.info({ live, endedAtDeadline: ended }, 'calls drained');
  });
  deps.lifecycle.onClose('calls', () => supervisor.dispose());
  deps.lifecycle.onClose('event-router', () => deps.router.stop());

  return {
    supervisor,
    metrics,
    onFinalize: (hook) => supervisor.onFinalize(hook),
    onIncoming: (hook) => void incomingHooks.push(hook),
    async resolveCall(callId) {
      const local = deps.calls.get(callId);
      if (local) return local;
      const snap = await deps.sessions.loadSession(callId);
      if (!snap) return null;
      // The snapshot's nextSeq may be stale (it is saved on phase changes): continue after the
      // highest turn stored, so the resumed call neither greets again nor writes over earlier turns.
      let conversation: ConversationState | null = null;
      try {
        conversation = await deps.conversations.getState(callId);
      } catch (err) {
        edgeLog.warn({ err, callId }, 'stored conversation unreadable on resume; continuing from the snapshot');
      }
      if (deps.calls.get(callId)) return deps.calls.get(callId) ?? null;
      const nextSeq = Math.max(snap.nextSeq, conversation ? nextSeqOf(conversation) : 1);
      const resumed = supervisor.resume({ ...snap, nextSeq }, edgeLog)?.call ?? null;
      if (resumed) {
        for (const hook of resumedHooks) {
          try {
            await hook(resumed, conversation);
          } catch (err) {
            resumed.log.warn({ err }, 'resume hook failed');
          }
        }
      }
      return resumed;
    },
    onResumed: (hook) => void resumedHooks.push(hook),
    dispatch,
    dispatchLocal,
    onForwardedMedia: (apply) => void (forwardedMedia = apply),
  };
}
