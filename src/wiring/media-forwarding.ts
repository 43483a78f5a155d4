// Transcription that reaches a replica other than the call's owner. ACS gives real-time transcription
// its own transportUrl and opens it as its own WebSocket ("Add real-time transcription into your
// application", learn.microsoft.com); behind an ingress without session affinity that socket may land
// on a replica that does not carry the call's audio. That replica authenticates the socket as usual but
// never takes the call (only the audio socket does); it parses TranscriptionData / DtmfData and sends
// the parsed events to the owner over the callback forwarding (EventRouter: Redis pub/sub to the
// owner's channel, or held for the owner to collect when it has no owner yet). The owner applies them
// to the call's media session exactly as if they had arrived on its own socket: final → turn,
// intermediate → barge-in hint, participant filtering there.
//
// Events of one call leave in the order they arrived (one chain per call), bounded: a stalled Redis
// never grows memory without limit. Final results and tones are what the caller said: they are retried
// (capped backoff) for as long as Redis may plausibly be down or stalled (retryForMs, default 60 s,
// which covers a restart, a failover and a stall past TTL_LEASE), so an outage delays them instead of
// losing them; an intermediate result is a hint that is worthless late and is sent once. Nothing here
// runs per audio frame.
// DTMF tones never reach a log; a held tone lives in Redis only until the owner collects it (pending TTL).
import { randomUUID } from 'node:crypto';
import type { Counter } from 'prom-client';
import type { MediaSession } from '../domain/audio/media-session.js';
import type { CallbackEnvelope, EventRouter } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import type { RemoteMediaEvent } from '../server/media-socket.js';

/** Envelope types of forwarded media events; never a callback type (the callback route ignores unknown types). */
export const FORWARDED_TRANSCRIPT = 'Forwarded.TranscriptionData';
export const FORWARDED_DTMF = 'Forwarded.DtmfData';

export type RemoteEventKind = 'transcript_final' | 'transcript_intermediate' | 'dtmf';
export type RemoteEventResult = 'local' | 'forwarded' | 'held' | 'direct' | 'failed' | 'dropped' | 'delivered' | 'invalid';

export function isForwardedMedia(env: Pick<CallbackEnvelope, 'type'>): boolean {
  return env.type === FORWARDED_TRANSCRIPT || env.type === FORWARDED_DTMF;
}

export function remoteKind(ev: RemoteMediaEvent): RemoteEventKind {
  if (ev.kind === 'dtmf') return 'dtmf';
  return ev.final ? 'transcript_final' : 'transcript_intermediate';
}

export function encodeRemote(callId: string, ev: RemoteMediaEvent, id: string, time: string): CallbackEnvelope {
  const data: Record<string, unknown> =
    ev.kind === 'dtmf' ? { tone: ev.tone } : { text: ev.text, final: ev.final, confidence: ev.confidence, participant: ev.participant };
  return { callId, id, type: ev.kind === 'dtmf' ? FORWARDED_DTMF : FORWARDED_TRANSCRIPT, data, time };
}

/** The event a forwarded envelope carries; null when it is not one or is malformed. */
export function decodeRemote(env: CallbackEnvelope): RemoteMediaEvent | null {
  const d = env.data;
  if (env.type === FORWARDED_DTMF) {
    return typeof d.tone === 'string' && d.tone.length > 0 && d.tone.length <= 16 ? { kind: 'dtmf', tone: d.tone } : null;
  }
  if (env.type !== FORWARDED_TRANSCRIPT) return null;
  if (typeof d.text !== 'string' || typeof d.final !== 'boolean' || typeof d.confidence !== 'number') return null;
  if (d.participant !== null && typeof d.participant !== 'string') return null;
  return { kind: 'transcript', text: d.text, final: d.final, confidence: d.confidence, participant: d.participant };
}

export interface MediaForwarderDeps {
  readonly router: Pick<EventRouter, 'forward'>;
  /** The call's media session on this replica (it carries the call's audio), if any. */
  readonly sessionOf: (callId: string) => MediaSession | undefined;
  /** voice_media_remote_events_total{kind,result}. */
  readonly counter: Counter<'kind' | 'result'>;
  readonly log: Logger;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * While the router (Redis) cannot forward: hands the envelope straight to the replica that holds
   * the call, if one of the known peers does (true). Optional (no peer addresses: Redis only).
   */
  readonly direct?: (env: CallbackEnvelope) => Promise<boolean>;
}

export interface MediaForwarderConfig {
  /** Events of one call waiting to be sent at most; more are dropped (counted). */
  readonly maxPendingPerCall: number;
  /** Attempts for a final result or a tone at least (an intermediate result gets one). */
  readonly attempts: number;
  /** First retry delay; doubles up to retryMaxDelayMs. */
  readonly retryDelayMs: number;
  /** A final result or tone is retried until this long after it arrived (a Redis outage or stall). */
  readonly retryForMs?: number;
  readonly retryMaxDelayMs?: number;
}

export const DEFAULT_FORWARDING: MediaForwarderConfig = { maxPendingPerCall: 256, attempts: 3, retryDelayMs: 200, retryForMs: 60_000, retryMaxDelayMs: 1000 };

export interface MediaForwarder {
  /** Sending side (non-owner): queue an event for the call's owner. Never throws, never blocks. */
  send(callId: string, ev: RemoteMediaEvent): void;
  /** Receiving side (owner): apply a forwarded envelope to the local media session. False when the call has none here. */
  apply(env: CallbackEnvelope): boolean;
  /** Resolves once every queued event has been sent or given up (tests, shutdown). */
  idle(): Promise<void>;
}

interface Chain {
  tail: Promise<void>;
  pending: number;
  warned: boolean;
}

export function createMediaForwarder(deps: MediaForwarderDeps, cfg: MediaForwarderConfig = DEFAULT_FORWARDING): MediaForwarder {
  const chains = new Map<string, Chain>();
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const count = (kind: RemoteEventKind, result: RemoteEventResult) => deps.counter.inc({ kind, result });

  const applyEvent = (session: MediaSession, ev: RemoteMediaEvent): void => {
    if (ev.kind === 'dtmf') session.dtmf(ev.tone);
    else session.transcript(ev.text, ev.final, ev.confidence, ev.participant);
  };

  const localSession = (callId: string): MediaSession | undefined => {
    const s = deps.sessionOf(callId);
    return s && !s.disposed ? s : undefined;
  };

  const deliver = async (callId: string, ev: RemoteMediaEvent): Promise<void> => {
    const kind = remoteKind(ev);
    const tries = kind === 'transcript_intermediate' ? 1 : Math.max(1, cfg.attempts);
    const started = now();
    const until = kind === 'transcript_intermediate' ? started : started + (cfg.retryForMs ?? 0);
    const env = encodeRemote(callId, ev, randomUUID(), new Date(started).toISOString());
    for (let attempt = 1; ; attempt++) {
      // The call's audio socket may have come here meanwhile: apply in process.
      const local = localSession(callId);
      if (local) {
        applyEvent(local, ev);
        count(kind, 'local');
        return;
      }
      try {
        const outcome = await deps.router.forward(env);
        count(kind, outcome);
        deps.log.debug({ callId, kind, outcome }, 'transcription event sent to the call owner');
        return;
      } catch (err) {
        if (deps.direct && (await deps.direct(env).catch(() => false))) {
          count(kind, 'direct');
          deps.log.debug({ callId, kind }, 'transcription event sent straight to the call owner (state store unreachable)');
          return;
        }
        if (attempt >= tries && now() >= until) {
          count(kind, 'failed');
          deps.log.warn({ err, callId, kind, attempts: attempt }, 'transcription event could not reach the call owner');
          return;
        }
        if (attempt === tries) deps.log.warn({ err, callId, kind }, 'transcription event not forwarded yet (state store unreachable); retrying');
        await sleep(Math.min(cfg.retryDelayMs * 2 ** (attempt - 1), cfg.retryMaxDelayMs ?? cfg.retryDelayMs * attempt));
      }
    }
  };

  return {
    send(callId, ev) {
      let chain = chains.get(callId);
      if (!chain) {
        chain = { tail: Promise.resolve(), pending: 0, warned: false };
        chains.set(callId, chain);
      }
      if (chain.pending >= cfg.maxPendingPerCall) {
        count(remoteKind(ev), 'dropped');
        if (!chain.warned) deps.log.warn({ callId, pending: chain.pending }, 'transcription forwarding backed up; dropping events');
        chain.warned = true;
        return;
      }
      chain.pending++;
      const c = chain;
      c.tail = c.tail.then(async () => {
        try {
          await deliver(callId, ev);
        } finally {
          c.pending--;
          if (c.pending === 0 && chains.get(callId) === c) chains.delete(callId);
        }
      });
    },
    apply(env) {
      const ev = decodeRemote(env);
      if (!ev) {
        // Malformed: consumed (never parked), counted.
        deps.counter.inc({ kind: env.type === FORWARDED_DTMF ? 'dtmf' : 'transcript_final', result: 'invalid' });
        deps.log.warn({ callId: env.callId }, 'dropped a malformed forwarded transcription event');
        return true;
      }
      const session = localSession(env.callId);
      if (!session) return false;
      applyEvent(session, ev);
      count(remoteKind(ev), 'delivered');
      deps.log.debug({ callId: env.callId, kind: remoteKind(ev) }, 'forwarded transcription event applied');
      return true;
    },
    async idle() {
      while (chains.size > 0) await Promise.all([...chains.values()].map((c) => c.tail));
    },
  };
}
