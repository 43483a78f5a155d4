// Media-only load: N ACS-like media streams straight at a worker's media endpoint, without the
// Call Automation side (the caller already has the call ids and secrets). It is the simulator's own
// streaming code — MediaSocket, the shared FrameClock, pre-built AudioData frames stamped per tick —
// driven by a looped recording instead of a scenario: AudioMetadata, then one AudioData per stream
// every 20 ms, each stream at its own phase of the recording, silent frames flagged. It counts what
// the worker sends back and reports its own clock lag (a late load generator invalidates a measurement).
import type { RawData } from 'ws';
import { audioBodies, audioShape, type AudioBody, type AudioShape } from './client-frames.js';
import { FrameClock, type ClockTick, type TickSubscriber } from './frame-clock.js';
import { frameBytes } from './frame-math.js';
import { audioMetadata } from './media-messages.js';
import { MediaSocket } from './media-socket.js';

export interface MediaLoadOptions {
  /** One media WebSocket URL per stream (ws:// or wss://). */
  readonly urls: readonly string[];
  /** Upgrade headers for every stream (e.g. Authorization, x-ms-call-connection-id). */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long to stream once every stream is connected. */
  readonly durationMs: number;
  /** PCM16 mono at `sampleRate`, looped; stream i starts at frame (i * 7) mod length. */
  readonly pcm: Buffer;
  readonly sampleRate?: 16000 | 24000;
  /** Streams connecting at once (default 50). */
  readonly connectBatch?: number;
  /** Slots per 20 ms period the streams are spread over (FrameClock; default DEFAULT_PHASES). */
  readonly phases?: number;
  /** Called once every stream is open, before streaming starts. */
  readonly onConnected?: (streams: number) => void;
}

export interface MediaLoadStats {
  /** Messages received from the worker: audioData, stopAudio, anything else. */
  audioIn: number;
  stopIn: number;
  otherIn: number;
  /** AudioData frames written, and frames not written because the socket's queue was full. */
  sent: number;
  dropped: number;
  /** Streams the worker closed before the end. */
  closed: number;
  /** 20 ms periods in which the clock ran more than a frame late, or skipped. */
  lateTicks: number;
  skippedTicks: number;
  maxLagMs: number;
}

/** Stop writing to a socket that has this much unsent data (counted as dropped frames). */
const MAX_BUFFERED = 512 * 1024;
const PHASE_STEP = 7;
const KIND = /audiodata|stopaudio/i;

class LoadStream implements TickSubscriber {
  constructor(
    private readonly sock: MediaSocket,
    private readonly bodies: readonly AudioBody[],
    private readonly shapes: readonly AudioShape[],
    private readonly phase: number,
    private readonly stats: MediaLoadStats,
  ) {}

  onTick(now: ClockTick): void {
    const sock = this.sock;
    if (!sock.open) return;
    if (sock.buffered > MAX_BUFFERED) {
      this.stats.dropped++;
      return;
    }
    const i = (now.tick + this.phase) % this.bodies.length;
    sock.writeFrame((this.bodies[i] as AudioBody).frameAt(now.atMs, now.iso, this.shapes[i] as AudioShape));
    this.stats.sent++;
  }
}

function count(stats: MediaLoadStats, data: RawData): void {
  // Only the kind is needed: look at the start of the message (the worker's JSON begins with it).
  const head = Buffer.isBuffer(data) ? data.toString('latin1', 0, 32) : '';
  const kind = KIND.exec(head)?.[0].toLowerCase();
  if (kind === 'audiodata') stats.audioIn++;
  else if (kind === 'stopaudio') stats.stopIn++;
  else stats.otherIn++;
}

/** Connects every stream, streams for `durationMs`, starts closing them and reports. */
export async function runMediaLoad(o: MediaLoadOptions): Promise<MediaLoadStats> {
  const rate = o.sampleRate ?? 16000;
  const bytes = frameBytes(rate);
  const b64: string[] = [];
  const silent: boolean[] = [];
  for (let off = 0; off + bytes <= o.pcm.length; off += bytes) {
    const f = o.pcm.subarray(off, off + bytes);
    b64.push(f.toString('base64'));
    silent.push(f.every((b) => b === 0));
  }
  if (b64.length === 0) throw new Error('media load: the recording is shorter than one frame');
  const bodies = audioBodies(b64);
  const bodyLength = (bodies[0] as AudioBody).length;
  const shapes = silent.map((s) => audioShape(bodyLength, undefined, s));
  const stats: MediaLoadStats = { audioIn: 0, stopIn: 0, otherIn: 0, sent: 0, dropped: 0, closed: 0, lateTicks: 0, skippedTicks: 0, maxLagMs: 0 };
  const clock = new FrameClock(o.phases);
  const socks: MediaSocket[] = [];
  let running = true;
  const batch = Math.max(1, o.connectBatch ?? 50);
  try {
    for (let i = 0; i < o.urls.length; i += batch) {
      const opened = await Promise.all(o.urls.slice(i, i + batch).map((url) => MediaSocket.open({ url, headers: o.headers ?? {} })));
      for (const sock of opened) {
        socks.push(sock);
        sock.onMessage((data) => count(stats, data));
        sock.onClose(() => {
          if (running) stats.closed++;
        });
        sock.sendText(audioMetadata('load', rate, bytes));
      }
    }
    o.onConnected?.(socks.length);
    socks.forEach((sock, i) => clock.add(new LoadStream(sock, bodies, shapes, (i * PHASE_STEP) % bodies.length, stats)));
    await new Promise((r) => setTimeout(r, o.durationMs));
  } finally {
    running = false;
    clock.stop();
    // A close handshake, not a drop: frames already written reach the worker before the close frame.
    for (const s of socks) s.close(1000);
  }
  stats.lateTicks = clock.lateTicks;
  stats.skippedTicks = clock.skippedTicks;
  stats.maxLagMs = clock.maxLagMs;
  return stats;
}
