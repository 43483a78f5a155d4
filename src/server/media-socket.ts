// GET /ws/media and GET /ws/transcription: the ACS media and transcription WebSockets. ACS treats audio
// streaming and real-time transcription as separate subscriptions, each with its own transportUrl,
// metadata packet (AudioMetadata / TranscriptionMetadata) and connection status ("Audio streaming
// concepts" and "Add real-time transcription into your application", learn.microsoft.com): a call has
// at most one socket of each kind here. A second socket of the same kind replaces the first (ACS
// reconnecting); a socket of the other kind never does. Whatever kind of message arrives on whichever
// socket is handled; outbound audio goes to the audio socket (or to a transcription socket that turns
// out to carry the audio, when no audio socket is open). Only the audio socket's closing starts the
// media reconnect grace, and only the audio socket takes the call's ownership (lease).
// A transcription socket on a replica that does not carry the call's audio (an ingress without session
// affinity sends it anywhere) takes nothing: no lease, no resumed call, no media session. It parses
// TranscriptionData / DtmfData and hands each to `forwardRemote`, which sends it to the owner over the
// callback forwarding (media-forwarding.ts), where it enters the call's media session like a local one.
// When the call moves to another replica, a transcription socket apart from the audio stays open here
// and forwards from then on (releaseCall).
// Both kinds are authenticated in the upgrade handler before anything is
// accepted (ACS JWT + per-call secret; refused with HTTP 401 and no socket). Each message is parsed
// once: AudioData in the exact ACS shape is read straight from the received bytes (audio-data-scan),
// everything else through the general parser; audio is base64-decoded into one process-wide scratch
// buffer (the payload must decode to exactly the bytes its length promises) and copied into the call's ring;
// nothing per frame awaits I/O or logs above trace. A socket that sends mostly garbage is closed
// with 1007; every socket has an 'error' listener.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { ERR, isVoiceError } from '../domain/errors.js';
import type { SessionStore } from '../domain/ports.js';
import type { LiveCall } from '../domain/live-call.js';
import type { MediaSession } from '../domain/audio/media-session.js';
import type { PlayoutSink } from '../domain/audio/playout-channel.js';
import type { Logger } from '../logger.js';
import { encodeAudioFrame, parseInbound, STOP_AUDIO } from '../adapters/acs/media-codec.js';
import { base64Bytes, newAudioDataSpan, scanAudioData } from '../adapters/acs/audio-data-scan.js';
import { verifyCallSecret, type AcsJwtVerifier } from './acs-auth.js';
import type { UpgradeHandler } from './app.js';
import type { MediaMetrics } from './media-metrics.js';

export interface MediaSocketDeps {
  readonly verifier: AcsJwtVerifier;
  readonly sessions: SessionStore;
  readonly resolveCall: (callId: string) => Promise<LiveCall | null>;
  /** The media session of a call (created on first use, reused on reconnect). */
  readonly sessionFor: (call: LiveCall) => MediaSession;
  /** This replica accepted the call's media: take ownership. */
  readonly onAccepted: (call: LiveCall) => void;
  /**
   * A transcription result or tone from a transcription socket of a call whose audio is not on this
   * replica: sent to the call's owner. Synchronous (queues); never awaited per message.
   */
  readonly forwardRemote: (callId: string, ev: RemoteMediaEvent) => void;
  /**
   * A transcription socket accepted for a call whose audio may be elsewhere: its credentials (the ACS
   * token and call secret it was accepted with) let the forwarder reach the owner directly when Redis cannot.
   * What it returns is called when that socket closes (the credentials are of no use after it).
   */
  readonly onRemoteCredentials?: (callId: string, credentials: { readonly authorization: string; readonly secret: string }) => (() => void) | void;
  readonly metrics: MediaMetrics;
  readonly log: Logger;
}

export interface MediaSocketConfig {
  readonly maxPayloadBytes: number;
  /** Garbage score at which a socket is closed: +1 per bad message, -1/16 per good one. */
  readonly badScoreLimit: number;
  /** Upgrades being authenticated at once; more are refused with 503. */
  readonly maxPendingUpgrades: number;
  /**
   * A transcription socket that forwards to another replica is closed after this long (the call's
   * maximum duration): this replica never learns that the call ended, ACS closes it first.
   */
  readonly remoteMaxMs: number;
}

/** What a transcription socket on a non-owner replica forwards to the owner (already parsed). */
export type RemoteMediaEvent =
  | { readonly kind: 'transcript'; readonly text: string; readonly final: boolean; readonly confidence: number; readonly participant: string | null }
  | { readonly kind: 'dtmf'; readonly tone: string };

const INBOUND_SAMPLE_MASK = 15;
/** The fast path's result: one per process, filled and read within one synchronous message handler. */
const SPAN = newAudioDataSpan();
/** Outbound audio is JSON text sent from bytes already encoded. */
const TEXT_FRAME = { binary: false } as const;

export type SocketKind = 'audio' | 'transcription';

export interface MediaSocketServer {
  /** GET /ws/media upgrades (audio streaming). */
  readonly handle: UpgradeHandler;
  /** GET /ws/transcription upgrades (real-time transcription), same authentication. */
  readonly handleTranscription: UpgradeHandler;
  /** Open connections (at most one audio and one transcription socket per call). */
  readonly size: number;
  closeAll(code: number, reason: string): void;
  /** Closes the call's socket, if one is open. */
  closeCall(callId: string, code: number, reason: string): void;
  /**
   * The call moved to another replica: closes its audio socket here; a transcription socket that does
   * not carry the audio stays open and forwards to the new owner from now on.
   */
  releaseCall(callId: string, code: number, reason: string): void;
}

export function createMediaSocketServer(deps: MediaSocketDeps, cfg: MediaSocketConfig): MediaSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: cfg.maxPayloadBytes, clientTracking: false });
  /** Open sockets by kind, then call id. */
  const open: Record<SocketKind, Map<string, MediaConnection>> = { audio: new Map(), transcription: new Map() };
  // One decode scratch for the process: the largest frame a message of maxPayload bytes can carry.
  const scratch = Buffer.allocUnsafeSlow(Math.ceil((cfg.maxPayloadBytes * 3) / 4) + 4);
  const views = new Map<number, Int16Array>();
  const pcmView = (samples: number): Int16Array => {
    let v = views.get(samples);
    if (!v) {
      v = new Int16Array(scratch.buffer, scratch.byteOffset, samples);
      if (views.size < 16) views.set(samples, v);
    }
    return v;
  };

  const refuse = (socket: Duplex, reason: string, status = '401 Unauthorized'): void => {
    deps.metrics.refused.inc({ reason });
    if (!socket.destroyed) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  let pending = 0;
  const handlerFor = (kind: SocketKind): UpgradeHandler => (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    if (pending >= cfg.maxPendingUpgrades) return refuse(socket, 'overloaded', '503 Service Unavailable');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 'bad_request', '400 Bad Request');
    }
    const callId = url.searchParams.get('callId') ?? undefined;
    const secret = url.searchParams.get('secret') ?? undefined;
    pending++;
    void (async () => {
      let stage = 'jwt';
      let call: LiveCall | null = null;
      try {
        await deps.verifier.verify(req.headers.authorization);
        stage = 'secret';
        await verifyCallSecret(deps.sessions, callId, secret);
        if (kind === 'transcription') {
          // The secret proves the call exists. Never resume it here for transcription: the socket
          // joins the call's audio socket on this replica, or forwards to the owner (accept below).
          if (socket.destroyed) return;
          const id = callId as string;
          const cred = { authorization: req.headers.authorization ?? '', secret: secret as string };
          wss.handleUpgrade(req, socket, head, (ws) => acceptTranscription(ws, id, socket, cred));
          return;
        }
        stage = 'unknown_call';
        call = await deps.resolveCall(callId as string);
      } catch (err) {
        if (!isVoiceError(err, 'UNAUTHENTICATED')) deps.log.warn({ err, callId, stage }, 'media upgrade check failed');
        refuse(socket, isVoiceError(err, 'UNAUTHENTICATED') ? stage : 'error');
        return;
      } finally {
        pending--;
      }
      if (!call) return refuse(socket, 'unknown_call');
      if (socket.destroyed) return;
      const live = call;
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, live, socket, kind));
    })();
  };

  const links: SocketLinks = {
    audioOpen: (callId) => open.audio.has(callId),
    promote: (conn) => {
      const callId = conn.callId;
      if (open.audio.has(callId)) return false;
      if (open.transcription.get(callId) === conn) open.transcription.delete(callId);
      open.audio.set(callId, conn);
      return true;
    },
  };

  const register = (ws: WebSocket, callId: string, session: MediaSession | null, socket: Duplex, kind: SocketKind, onGone?: () => void): MediaConnection => {
    const previous = open[kind].get(callId);
    if (previous) previous.replace();
    const conn = new MediaConnection(ws, socket, callId, session, deps, cfg, pcmView, scratch, kind, links, () => {
      for (const k of ['audio', 'transcription'] as const) if (open[k].get(callId) === conn) open[k].delete(callId);
      onGone?.();
    });
    open[kind].set(callId, conn);
    deps.metrics.accepted.inc();
    return conn;
  };

  const accept = (ws: WebSocket, call: LiveCall, socket: Duplex, kind: SocketKind): void => {
    register(ws, call.callId, deps.sessionFor(call), socket, kind);
    if (kind === 'audio') deps.onAccepted(call);
  };

  // The audio socket's replica owns the call; a transcription socket never takes the lease from it.
  // With the call's audio here it feeds the same media session; otherwise it forwards to the owner.
  const acceptTranscription = (ws: WebSocket, callId: string, socket: Duplex, cred: { readonly authorization: string; readonly secret: string }): void => {
    const audio = open.audio.get(callId);
    const session = audio?.session && !audio.session.disposed ? audio.session : null;
    const release = deps.onRemoteCredentials?.(callId, cred);
    const conn = register(ws, callId, session, socket, 'transcription', release ?? undefined);
    if (!session) conn.forwardFor(cfg.remoteMaxMs);
  };

  const all = (): MediaConnection[] => [...open.audio.values(), ...open.transcription.values()];
  return {
    handle: handlerFor('audio'),
    handleTranscription: handlerFor('transcription'),
    get size() {
      return open.audio.size + open.transcription.size;
    },
    closeAll(code, reason) {
      for (const c of all()) c.close(code, reason);
    },
    closeCall(callId, code, reason) {
      open.audio.get(callId)?.close(code, reason);
      open.transcription.get(callId)?.close(code, reason);
    },
    releaseCall(callId, code, reason) {
      open.audio.get(callId)?.close(code, reason);
      open.transcription.get(callId)?.toForwarding(cfg.remoteMaxMs, code, reason);
    },
  };
}

/** What a connection needs to know about its call's other socket. */
interface SocketLinks {
  audioOpen(callId: string): boolean;
  /** A transcription socket carries the audio (no audio socket open): it becomes the call's audio socket. */
  promote(conn: MediaConnection): boolean;
}

class MediaConnection {
  #score = 0;
  #messages = 0;
  #closed = false;
  /** This socket carries the call's outbound audio and its closing counts as media lost. */
  #carriesAudio: boolean;
  /** AudioMetadata arrived on a forwarding socket: the call is being resolved here. */
  #adopting = false;
  #remoteTimer: NodeJS.Timeout | null = null;
  readonly #log: Logger;
  readonly #sink: PlayoutSink;

  constructor(
    private readonly ws: WebSocket,
    socket: Duplex,
    readonly callId: string,
    /** The call's media session here; null on a transcription socket that forwards to the owner. */
    public session: MediaSession | null,
    private readonly deps: MediaSocketDeps,
    private readonly cfg: MediaSocketConfig,
    private readonly pcmView: (samples: number) => Int16Array,
    private readonly scratch: Buffer,
    readonly kind: SocketKind,
    private readonly links: SocketLinks,
    private readonly onGone: () => void,
  ) {
    this.#carriesAudio = kind === 'audio';
    this.#log = deps.log.child({ callId, component: 'media', socket: kind });
    deps.metrics.sockets.inc();
    ws.on('error', (err) => this.#log.debug({ err }, 'media socket error'));
    ws.on('message', (data, isBinary) => this.#message(data, isBinary));
    ws.on('close', (code, reason) => this.#gone(code, reason.toString('utf8').slice(0, 120)));
    const sink: PlayoutSink = {
      bufferedAmount: () => ws.bufferedAmount,
      sendFrame: (pcm) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(encodeAudioFrame(pcm), TEXT_FRAME);
        deps.metrics.framesOut++;
      },
      sendStop: () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(STOP_AUDIO);
      },
      // The TCP socket under ws (ws writes each frame synchronously with compression off): a wake-up's
      // frames leave in one write.
      cork: () => socket.cork(),
      uncork: () => socket.uncork(),
    };
    this.#sink = sink;
    if (this.#carriesAudio) session?.attach(sink);
    this.#log.debug({ reconnect: (session?.counters.connects ?? 0) > 0 }, 'media socket open');
  }

  /** This transcription socket forwards to the call's owner (its audio is on another replica). */
  forwardFor(maxMs: number): void {
    this.#log.info('transcription socket on a replica without the call audio: forwarding to the call owner');
    this.#remoteTimer = setTimeout(() => {
      this.#log.warn({ maxMs }, 'closing a forwarding transcription socket at the call length limit');
      this.close(1000, 'call length limit');
    }, maxMs);
    this.#remoteTimer.unref();
  }

  /** The call's audio moved to another replica: forward from now on (or close, if this socket carries the audio). */
  toForwarding(maxMs: number, code: number, reason: string): void {
    if (this.#carriesAudio || this.#closed) {
      this.close(code, reason);
      return;
    }
    if (!this.session) return;
    this.session = null;
    this.forwardFor(maxMs);
  }

  /** AudioMetadata arrived on a transcription socket while no audio socket is open: it carries the audio. */
  #takeAudio(sampleRate: number): void {
    const s = this.session;
    if (!s) {
      this.#adopt(sampleRate);
      return;
    }
    if (this.#carriesAudio || !this.links.promote(this)) return;
    this.#carriesAudio = true;
    s.attach(this.#sink);
    this.deps.onAccepted(s.call);
  }

  /** A forwarding socket turns out to carry the audio: resolve the call here, then take the audio. */
  #adopt(sampleRate: number): void {
    if (this.#adopting || this.links.audioOpen(this.callId)) return;
    this.#adopting = true;
    this.deps.resolveCall(this.callId).then(
      (call) => {
        if (this.#closed) return;
        if (!call) {
          this.#log.warn('audio on a forwarding transcription socket for a call unknown here; ignored');
          return;
        }
        if (this.#remoteTimer) clearTimeout(this.#remoteTimer);
        this.#remoteTimer = null;
        this.session = this.deps.sessionFor(call);
        this.#takeAudio(sampleRate);
        if (this.#carriesAudio) this.session.metadata(sampleRate);
      },
      (err: unknown) => this.#log.warn({ err }, 'could not resolve the call for audio on a transcription socket'),
    );
  }

  /** A newer socket for the same call took over. */
  replace(): void {
    this.#gone(1000, 'replaced');
    this.ws.close(1000, 'replaced by a newer stream');
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  #message(data: RawData, isBinary: boolean): void {
    const sampled = (++this.#messages & INBOUND_SAMPLE_MASK) === 0;
    const t0 = sampled ? performance.now() : 0;
    if (isBinary) {
      this.#bad('binary', 'binary');
      return;
    }
    const s = this.session;
    if (Buffer.isBuffer(data) && scanAudioData(data, SPAN)) {
      const { dataStart, dataEnd } = SPAN;
      const bytes = dataEnd > dataStart ? this.scratch.write(data.toString('latin1', dataStart, dataEnd), 0, 'base64') : 0;
      // A payload that does not decode cleanly goes to the general path, which classifies it.
      if (bytes === base64Bytes(dataEnd - dataStart, data[dataEnd - 1] ?? 0, data[dataEnd - 2] ?? 0)) {
        this.#audio(bytes, SPAN.participant, SPAN.silent, sampled, t0);
        return;
      }
    }
    const msg = parseInbound(data.toString());
    switch (msg.kind) {
      case 'AudioData': {
        const bytes = this.scratch.write(msg.data, 0, 'base64');
        const d = msg.data;
        if (bytes !== base64Bytes(d.length, d.charCodeAt(d.length - 1), d.charCodeAt(d.length - 2))) {
          s?.badFrame();
          this.#bad('shape', 'AudioData');
          return;
        }
        this.#audio(bytes, msg.participant, msg.silent, sampled, t0);
        return;
      }
      case 'AudioMetadata':
        if (msg.encoding.toUpperCase() !== 'PCM') {
          this.#bad('shape', 'AudioMetadata');
          return;
        }
        if (!this.#carriesAudio) this.#takeAudio(msg.sampleRate);
        if (this.#carriesAudio) s?.metadata(msg.sampleRate);
        break;
      case 'DtmfData':
        if (s) s.dtmf(msg.tone);
        else this.deps.forwardRemote(this.callId, { kind: 'dtmf', tone: msg.tone });
        break;
      case 'TranscriptionData':
        if (s) s.transcript(msg.text, msg.final, msg.confidence, msg.participant);
        else this.deps.forwardRemote(this.callId, { kind: 'transcript', text: msg.text, final: msg.final, confidence: msg.confidence, participant: msg.participant });
        break;
      case 'TranscriptionMetadata':
        this.#log.debug({ locale: msg.locale, forwarding: s === null }, 'transcription metadata');
        break;
      default:
        this.#bad(msg.reason, msg.reason === 'unknown' ? 'unknown' : msg.messageKind);
        return;
    }
    if (this.#score > 0) this.#score = Math.max(0, this.#score - 1 / 16);
    if (sampled) this.deps.metrics.inbound.observe((performance.now() - t0) / 1000);
  }

  #audio(bytes: number, participant: string | null, silent: boolean, sampled: boolean, t0: number): void {
    const s = this.session;
    if (bytes === 0 || (bytes & 1) === 1) {
      s?.badFrame();
      this.#bad('shape', 'AudioData');
      return;
    }
    // A forwarding socket has no session (until AudioMetadata makes it the call's audio here): dropped.
    if (!s) return;
    s.audio(participant, this.pcmView(bytes >> 1), silent);
    this.deps.metrics.framesIn++;
    if (this.#score > 0) this.#score = Math.max(0, this.#score - 1 / 16);
    if (sampled) this.deps.metrics.inbound.observe((performance.now() - t0) / 1000);
  }

  #bad(reason: string, kind: string): void {
    this.deps.metrics.protocolErrors.inc({ reason, kind });
    this.#log.trace({ reason, kind }, 'media message dropped');
    this.#score += 1;
    if (this.#score > this.cfg.badScoreLimit && !this.#closed) {
      const code = ERR.INVALID_PAYLOAD.closeCode;
      this.deps.metrics.closedInvalid.inc({ code: String(code) });
      this.#log.warn({ reason, kind }, 'closing media socket: invalid payloads');
      this.ws.close(code, 'invalid payload');
      this.#gone(code, 'invalid payload');
    }
  }

  #gone(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#remoteTimer) clearTimeout(this.#remoteTimer);
    this.#remoteTimer = null;
    this.deps.metrics.sockets.dec();
    // A transcription socket closing leaves the audio (and the call) alone.
    if (this.#carriesAudio) this.session?.detach(code, reason);
    this.onGone();
    this.#log.debug({ code }, 'media socket closed');
  }
}
