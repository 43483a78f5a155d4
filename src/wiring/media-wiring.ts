// Wires the media path into a worker: the /ws/media upgrade handler, the one playout scheduler, the
// VAD engine, media sessions per call (disposed when the call ends), ownership on accept (lease +
// held callbacks), transcription forwarded to and from other replicas (media-forwarding.ts), metrics,
// and shutdown.
import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import { ERR } from '../domain/errors.js';
import type { CallbackEnvelope, EventRouter, SessionStore } from '../domain/ports.js';
import type { LiveCall } from '../domain/live-call.js';
import type { LeaseKeeper } from '../domain/lease-keeper.js';
import { MediaSession } from '../domain/audio/media-session.js';
import { DEFAULT_PLAYOUT, PlayoutScheduler, type PlayoutClock, type PlayoutConfig } from '../domain/audio/playout.js';
import type { VoiceDetectorFactory } from '../domain/audio/vad.js';
import { createFvadFactory } from '../adapters/audio/fvad.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../metrics.js';
import type { AcsJwtVerifier } from '../server/acs-auth.js';
import type { UpgradeHandler } from '../server/app.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { MediaMetrics } from '../server/media-metrics.js';
import { createMediaSocketServer, type MediaSocketServer } from '../server/media-socket.js';
import { createMediaForwarder, type MediaForwarder } from './media-forwarding.js';
import { PEER_MEDIA_PATH } from '../server/peer-routes.js';

export interface MediaWiringDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly lifecycle: Lifecycle;
  readonly upgrades: Map<string, UpgradeHandler>;
  readonly sessions: SessionStore;
  readonly leases: LeaseKeeper;
  readonly router: EventRouter;
  /** The LiveCall for an authenticated media upgrade: this replica's, or resumed from the session store. */
  readonly resolveCall: (callId: string) => Promise<LiveCall | null>;
  /** Delivers a callback that was held while the call had no owner. */
  readonly dispatchCallback: (call: LiveCall, env: CallbackEnvelope) => void;
  /** The worker's one ACS JWT verifier (clients.ts), shared with the callback route. */
  readonly verifier: AcsJwtVerifier;
  readonly playout?: Partial<PlayoutConfig>;
  readonly clock?: PlayoutClock;
  /** The other replicas' addresses (PEER_URL): transcription reaches the owner directly while Redis cannot. */
  readonly peers?: () => readonly { readonly url: string }[];
  /**
   * A peer accepted a call's forwarded transcription straight (PEER_URL, Redis unreachable): it holds
   * the call's audio (peer-routes.ts answers 200 only then). The answering replica lets go of its
   * controller on this proof instead of waiting for a store that cannot say who owns the call.
   */
  readonly onHeldByPeer?: (callId: string) => void;
}

export interface MediaPath {
  readonly server: MediaSocketServer;
  readonly scheduler: PlayoutScheduler;
  readonly metrics: MediaMetrics;
  /** The media session of a call, if it has one. */
  session(callId: string): MediaSession | undefined;
  /** Transcription events of calls whose audio is elsewhere (sent), and applied here (received). */
  readonly forwarder: MediaForwarder;
  readonly sessionCount: number;
  /** Transcription sockets whose credentials are kept for direct forwarding (one per open socket). */
  readonly forwardingCredentials: number;
}

export const MEDIA_PATH = '/ws/media';
/** Real-time transcription: its own subscription and socket (call-answerer.ts gives ACS this URL). */
export const TRANSCRIPTION_PATH = '/ws/transcription';

const realClock: PlayoutClock = {
  now: () => performance.now(),
  schedule(fn, delayMs) {
    const t = setTimeout(fn, delayMs);
    return () => clearTimeout(t);
  },
};

export function wireMedia(deps: MediaWiringDeps): MediaPath {
  const { config, log } = deps;
  const mlog = log.child({ component: 'media' });
  const metrics = new MediaMetrics(deps.registry);
  metrics.start();
  const perWrite = config.media.playoutFramesPerWrite;
  const batching = { tickMs: DEFAULT_PLAYOUT.frameMs * perWrite, leadMs: DEFAULT_PLAYOUT.frameMs * perWrite, maxBurst: perWrite + 2, maxLagMs: DEFAULT_PLAYOUT.frameMs * (perWrite + 2) };
  const scheduler = new PlayoutScheduler(deps.clock ?? realClock, { ...DEFAULT_PLAYOUT, ...batching, ...deps.playout }, {
    onFrameSent: (lateMs) => {
      if ((++lateSamples & 7) === 0) metrics.playoutLateness.observe(Math.max(0, lateMs) / 1000);
    },
    onSlowSocket: () => metrics.slowSockets.inc(),
    onResync: () => metrics.resyncs.inc(),
  });
  let lateSamples = 0;

  // The VAD wasm loads once, asynchronously; the server does not accept media until it has.
  let detectors: VoiceDetectorFactory | null = null;
  const vadReady = createFvadFactory(config.media.vadMode).then((f) => (detectors = f));
  vadReady.catch((err: unknown) => mlog.error({ err }, 'VAD failed to load'));

  const sessions = new Map<string, MediaSession>();
  const sessionFor = (call: LiveCall): MediaSession => {
    const existing = sessions.get(call.callId);
    if (existing && existing.call === call && !existing.disposed) return existing;
    existing?.dispose();
    const session = new MediaSession(
      {
        call,
        scheduler,
        detectors: (rate) => (detectors as VoiceDetectorFactory)(rate),
        monotonic: () => performance.now(),
        wall: () => Date.now(),
        onBargeIn: (cause) => metrics.bargeIns.inc({ cause }),
        onPause: (outcome) => metrics.bargeInPauses.inc({ outcome }),
        onIgnoredParticipant: (kind) => metrics.ignoredParticipant.inc({ kind }),
      },
      {
        ringSeconds: config.media.ringSeconds,
        vadOnsetFrames: config.media.vadOnsetFrames,
        vadHangoverMs: config.media.vadHangoverMs,
        sampleRate: config.media.sampleRate,
        channels: config.media.channels,
        maxStreams: config.media.channels === 'mixed' ? 1 : 4,
      },
    );
    sessions.set(call.callId, session);
    metrics.sessions.set(sessions.size);
    const letGo = (reason: string, moved = false) => {
      // Moved: the transcription socket (if apart from the audio) stays and forwards to the new owner.
      if (moved) server.releaseCall(call.callId, 1000, reason);
      else server.closeCall(call.callId, 1000, reason);
      session.dispose();
      if (sessions.get(call.callId) === session) sessions.delete(call.callId);
      metrics.sessions.set(sessions.size);
    };
    call.events.on('ended', () => letGo('call ended'));
    // Handed over to the replica that owns the call now: close this stale socket, free the session.
    call.events.on('released', () => letGo('call moved to another replica', true));
    return session;
  };

  const onAccepted = (call: LiveCall): void => {
    const callId = call.callId;
    if (!deps.leases.holds(callId)) {
      // On failure (Redis down) the keeper keeps the lease pending and takes it on a later renewal.
      deps.leases.hold(callId).catch(() => undefined);
    }
    deps.router.takeHeld(callId).then(
      (held) => {
        for (const env of held) deps.dispatchCallback(call, env);
      },
      (err: unknown) => mlog.warn({ err, callId }, 'could not take held callbacks'),
    );
  };

  const verifier = deps.verifier;
  // The credentials each open transcription socket was accepted with: dropped when that socket
  // closes (kept for the whole run before, up to the 10,000 bound: the soak's largest retained
  // growth); the bound stays as a backstop.
  const credentials = new Map<string, { readonly authorization: string; readonly secret: string }>();
  const peers = deps.peers;
  const direct = peers
    ? async (env: CallbackEnvelope): Promise<boolean> => {
        const cred = credentials.get(env.callId);
        if (!cred) return false;
        for (const p of peers()) {
          try {
            const res = await fetch(`${p.url}${PEER_MEDIA_PATH}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: cred.authorization },
              body: JSON.stringify({ secret: cred.secret, event: env }),
              signal: AbortSignal.timeout(1000),
            });
            await res.text();
            if (res.status === 200) {
              deps.onHeldByPeer?.(env.callId);
              return true;
            }
          } catch {
            // that peer is unreachable: the next one
          }
        }
        return false;
      }
    : undefined;
  const forwarder = createMediaForwarder({
    router: deps.router,
    sessionOf: (callId) => sessions.get(callId),
    counter: metrics.remoteEvents,
    log: mlog,
    ...(direct ? { direct } : {}),
  });

  const server = createMediaSocketServer(
    {
      verifier,
      sessions: deps.sessions,
      resolveCall: async (callId) => {
        await vadReady;
        return deps.resolveCall(callId);
      },
      sessionFor,
      onAccepted,
      forwardRemote: (callId, ev) => forwarder.send(callId, ev),
      onRemoteCredentials: (callId, cred) => {
        credentials.delete(callId);
        credentials.set(callId, cred);
        if (credentials.size > 10_000) credentials.delete(credentials.keys().next().value as string);
        // A newer socket of the same call has put its own: only this socket's credentials go.
        return () => {
          if (credentials.get(callId) === cred) credentials.delete(callId);
        };
      },
      metrics,
      log: mlog,
    },
    { maxPayloadBytes: config.media.maxPayloadBytes, badScoreLimit: 32, maxPendingUpgrades: 1024, remoteMaxMs: config.calls.maxDurationS * 1000 },
  );
  deps.upgrades.set(MEDIA_PATH, server.handle);
  deps.upgrades.set(TRANSCRIPTION_PATH, server.handleTranscription);

  deps.lifecycle.onClose('media', () => {
    server.closeAll(ERR.SHUTDOWN.closeCode, 'worker shutting down');
    scheduler.stop();
    for (const s of sessions.values()) s.dispose();
    sessions.clear();
    metrics.stop();
  });

  return {
    server,
    scheduler,
    metrics,
    session: (callId) => sessions.get(callId),
    forwarder,
    get sessionCount() {
      return sessions.size;
    },
    get forwardingCredentials() {
      return credentials.size;
    },
  };
}
