// Client → server WebSocket text frames (RFC 6455 §5.2) built ahead of time and written straight to
// the media socket, so sending one AudioData costs one socket write and one small copy instead of a
// JSON string, a Buffer conversion, a masking pass and a two-chunk writev per frame.
//
// Masking: every frame is masked, as a client must, with ONE random non-zero key per process rather
// than a fresh key per frame. The per-frame key exists to stop a hostile web page from steering a
// proxy's cache with predictable bytes; a load generator on its own connections has no such page.
// What matters here is the receiver's work, and that is unchanged: it still unmasks every byte (a
// server skips unmasking for an all-zero key, so zero keys would make the worker under test look
// cheaper than it is under real ACS traffic). The unmasked bytes are exactly the JSON ACS sends.
//
// An AudioData message is split in two at the timestamp: the BODY (`{"kind":"AudioData","audioData":
// {"data":"<base64>","timestamp":"<ISO>`) is the same for every stream sending that audio frame in a
// clock slot, the SHAPE (the frame header, and the tail `","participantRawID":…,"silent":…}}`) is the
// same for every frame of one stream. The body starts at payload offset 0 for every stream, so its
// masked bytes are shared; it is restamped once per clock slot and the finished frame is cached for
// the slot, so all mixed-audio streams sending silence in a slot write one shared Buffer.
import { randomBytes } from 'node:crypto';
import { audioDataHead, audioDataTail } from './media-messages.js';

const ISO_LENGTH = 24;
const ISO_PLACEHOLDER = '1970-01-01T00:00:00.000Z';

function processMask(): Buffer {
  for (;;) {
    const m = randomBytes(4);
    if ((m[0]! | m[1]! | m[2]! | m[3]!) !== 0) return m;
  }
}

/** The masking key of every pre-built frame of this process. */
export const FRAME_MASK: Buffer = processMask();

/** XORs `src` into `dst` at `dstOffset`, as payload bytes starting at payload position `payloadPos`. */
function maskInto(src: Buffer, dst: Buffer, dstOffset: number, payloadPos: number): void {
  for (let i = 0; i < src.length; i++) dst[dstOffset + i] = (src[i] as number) ^ (FRAME_MASK[(payloadPos + i) & 3] as number);
}

/** FIN + text opcode, the masked payload length and the masking key. */
function frameHeader(payloadLength: number): Buffer {
  const lenBytes = payloadLength < 126 ? 0 : payloadLength < 65536 ? 2 : 8;
  const h = Buffer.alloc(2 + lenBytes + 4);
  h[0] = 0x81;
  if (lenBytes === 0) h[1] = 0x80 | payloadLength;
  else if (lenBytes === 2) {
    h[1] = 0x80 | 126;
    h.writeUInt16BE(payloadLength, 2);
  } else {
    h[1] = 0x80 | 127;
    h.writeBigUInt64BE(BigInt(payloadLength), 2);
  }
  FRAME_MASK.copy(h, 2 + lenBytes);
  return h;
}

/** A complete masked client text frame carrying `text`. */
export function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const head = frameHeader(payload.length);
  const frame = Buffer.allocUnsafe(head.length + payload.length);
  head.copy(frame, 0);
  maskInto(payload, frame, head.length, 0);
  return frame;
}

/** One stream's end of its AudioData frames (participant and silent flag), for bodies of one length. */
export class AudioShape {
  /** Frame header + masking key for a body of `bodyLength` bytes plus this tail. */
  readonly header: Buffer;
  /** The tail, masked as it sits after the body. */
  readonly tail: Buffer;

  constructor(
    readonly bodyLength: number,
    participantRawId: string | undefined,
    silent: boolean,
  ) {
    const tail = Buffer.from(audioDataTail(participantRawId, silent), 'utf8');
    this.header = frameHeader(bodyLength + tail.length);
    this.tail = Buffer.allocUnsafe(tail.length);
    maskInto(tail, this.tail, 0, bodyLength);
  }
}

/** One audio frame's message up to its timestamp, masked; stamped with a slot's time on demand. */
export class AudioBody {
  /** Masked head + timestamp; only ever copied out, so restamping it in place is safe. */
  private readonly masked: Buffer;
  private readonly isoAt: number;
  private stampedAt = -1;
  private builtAt = -1;
  private frameShape: AudioShape | undefined;
  private frame: Buffer = Buffer.alloc(0);

  /** `b64`: the frame's base64 PCM. */
  constructor(b64: string) {
    const head = Buffer.from(audioDataHead(b64), 'utf8');
    this.isoAt = head.length;
    const body = Buffer.concat([head, Buffer.from(ISO_PLACEHOLDER, 'latin1')]);
    this.masked = Buffer.allocUnsafe(body.length);
    maskInto(body, this.masked, 0, 0);
  }

  get length(): number {
    return this.masked.length;
  }

  /**
   * The whole frame for `shape` stamped `iso` (the time `atMs`, epoch ms, which keys the cache: two
   * clocks' slots at the same millisecond have the same timestamp). Built once per (time, shape) and
   * shared; the returned Buffer is never modified afterwards (it may still sit in a socket's queue).
   */
  frameAt(atMs: number, iso: string, shape: AudioShape): Buffer {
    if (atMs === this.builtAt && shape === this.frameShape) return this.frame;
    if (atMs !== this.stampedAt) {
      if (iso.length !== ISO_LENGTH) throw new Error(`timestamp of unexpected length: ${iso}`);
      const m = this.masked;
      for (let i = 0; i < ISO_LENGTH; i++) m[this.isoAt + i] = iso.charCodeAt(i) ^ (FRAME_MASK[(this.isoAt + i) & 3] as number);
      this.stampedAt = atMs;
    }
    const h = shape.header;
    const f = Buffer.allocUnsafe(h.length + this.masked.length + shape.tail.length);
    h.copy(f, 0);
    this.masked.copy(f, h.length);
    shape.tail.copy(f, h.length + this.masked.length);
    this.frame = f;
    this.builtAt = atMs;
    this.frameShape = shape;
    return f;
  }
}

const bodyCache = new WeakMap<readonly string[], AudioBody[]>();

/** Bodies for a list of base64 frames, built once per list (per process) and shared by every stream. */
export function audioBodies(frames: readonly string[]): AudioBody[] {
  let b = bodyCache.get(frames);
  if (!b) {
    b = frames.map((f) => new AudioBody(f));
    bodyCache.set(frames, b);
  }
  return b;
}

const silenceBodies = new Map<string, AudioBody>();

/** The body of a silence frame (one per sample rate, so the map stays tiny), shared by every stream. */
export function silenceBody(b64: string): AudioBody {
  let b = silenceBodies.get(b64);
  if (!b) {
    b = new AudioBody(b64);
    silenceBodies.set(b64, b);
  }
  return b;
}

const mixedShapes = new Map<string, AudioShape>();

/**
 * The shape of a stream's frames. Streams without a participant (mixed audio) share one shape per
 * (body length, silent), so their identical frames in a slot are one Buffer.
 */
export function audioShape(bodyLength: number, participantRawId: string | undefined, silent: boolean): AudioShape {
  if (participantRawId !== undefined) return new AudioShape(bodyLength, participantRawId, silent);
  const key = `${bodyLength}:${silent}`;
  let s = mixedShapes.get(key);
  if (!s) {
    s = new AudioShape(bodyLength, undefined, silent);
    mixedShapes.set(key, s);
  }
  return s;
}
