// The ACS media WebSocket protocol: inbound JSON text frames parsed once into typed messages, and the
// outbound audioData / stopAudio frames. `kind` is compared exactly as ACS sends it (PascalCase); the
// body key is the camelCase kind. Transcription ticks (100 ns) may exceed 2^53: for TranscriptionData
// (a few per second at most) the raw text is reparsed with offset/duration quoted and read as BigInt.
//
// Shapes accepted are the documented ones, not only what our simulator sends: the real-time
// transcription docs' TranscriptionData sample ("Add real-time transcription into your application",
// learn.microsoft.com/azure/communication-services/how-tos/call-automation/real-time-transcription-tutorial)
// has no top-level `duration` and words without `duration`, and the SDK's StreamingData.parse
// (@azure/communication-call-automation 1.6.0, streamingData.js) copies whatever is there without
// requiring it — so duration (top level and per word) is optional here, and so are offset and format.
// DTMF tones are normalised to one character: ACS names tones elsewhere (DtmfTone: zero..nine, a..d,
// pound, asterisk — KnownDtmfTone in the SDK's generated models) and either form is accepted.

export interface AudioMetadataMsg {
  readonly kind: 'AudioMetadata';
  readonly subscriptionId: string;
  readonly encoding: string;
  readonly sampleRate: number;
  readonly channels: number;
  /** Bytes per frame, when sent. */
  readonly length: number | null;
}

export interface AudioDataMsg {
  readonly kind: 'AudioData';
  /** Base64 PCM16LE mono. */
  readonly data: string;
  readonly timestamp: string | null;
  readonly participant: string | null;
  readonly silent: boolean;
}

export interface DtmfDataMsg {
  readonly kind: 'DtmfData';
  readonly tone: string;
}

export interface TranscriptionMetadataMsg {
  readonly kind: 'TranscriptionMetadata';
  readonly subscriptionId: string;
  readonly locale: string;
  readonly callConnectionId: string;
  readonly correlationId: string;
  readonly speechRecognitionModelEndpointId: string | null;
}

export interface TranscriptionWord {
  readonly text: string;
  /** Ticks (100 ns); null when absent. */
  readonly offset: bigint | null;
  /** Ticks (100 ns); null when absent (the documented sample has none). */
  readonly duration: bigint | null;
}

export interface TranscriptionDataMsg {
  readonly kind: 'TranscriptionData';
  readonly text: string;
  readonly format: string;
  readonly confidence: number;
  /** Ticks (100 ns); null when absent. */
  readonly offset: bigint | null;
  /** Ticks (100 ns); null when absent (the documented sample has none). */
  readonly duration: bigint | null;
  readonly words: readonly TranscriptionWord[];
  readonly participant: string | null;
  readonly final: boolean;
}

export type InboundMessage = AudioMetadataMsg | AudioDataMsg | DtmfDataMsg | TranscriptionMetadataMsg | TranscriptionDataMsg;

/** Why a message was dropped: 'json' (not JSON), 'shape' (known kind, bad fields), 'unknown' (unknown kind). */
export interface InboundRejection {
  readonly kind: 'rejected';
  readonly reason: 'json' | 'shape' | 'unknown';
  /** The message's kind when it had one (for per-kind counters), else 'none'. */
  readonly messageKind: string;
}

export type InboundResult = InboundMessage | InboundRejection;

/** Known kinds and their body keys (a constant key keeps the property lookup on the fast path). */
const BODY_KEY: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  AudioMetadata: 'audioMetadata',
  AudioData: 'audioData',
  DtmfData: 'dtmfData',
  TranscriptionMetadata: 'transcriptionMetadata',
  TranscriptionData: 'transcriptionData',
});
const TICKS = /("(?:offset|duration)"\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

type Obj = Record<string, unknown>;

function rejected(reason: InboundRejection['reason'], messageKind: string): InboundRejection {
  return { kind: 'rejected', reason, messageKind };
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const optStr = (v: unknown): string | null | undefined => (v === undefined || v === null ? null : typeof v === 'string' ? v : undefined);

function ticks(v: unknown): bigint | null {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return null;
}

/** Optional ticks: null when absent or null, undefined when present but not an integer (bad shape). */
function optTicks(v: unknown): bigint | null | undefined {
  if (v === undefined || v === null) return null;
  return ticks(v) ?? undefined;
}

/** DtmfTone names ACS uses (recognize results, continuous DTMF) → the one-character tone. */
const TONE_NAMES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  a: 'A',
  b: 'B',
  c: 'C',
  d: 'D',
  pound: '#',
  hash: '#',
  asterisk: '*',
  star: '*',
});

/** One DTMF tone as '0'-'9', 'A'-'D', '#' or '*'; null when it is none of the known forms. */
export function normalizeTone(raw: string): string | null {
  if (/^[0-9#*]$/.test(raw)) return raw;
  if (/^[A-Da-d]$/.test(raw)) return raw.toUpperCase();
  return TONE_NAMES[raw.toLowerCase()] ?? null;
}

/** Parses one text frame. Never throws. */
export function parseInbound(text: string): InboundResult {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return rejected('json', 'none');
  }
  if (!isObj(msg)) return rejected('shape', 'none');
  const kind = msg.kind;
  if (typeof kind !== 'string') return rejected('shape', 'none');
  const key = BODY_KEY[kind];
  if (key === undefined) return rejected('unknown', kind.length <= 40 ? kind : 'long');
  const body = msg[key];
  if (!isObj(body)) return rejected('shape', kind);
  switch (kind) {
    case 'AudioData':
      return audioData(body);
    case 'AudioMetadata':
      return audioMetadata(body);
    case 'DtmfData': {
      const raw = str(body.data);
      const tone = raw !== null && raw.length <= 16 ? normalizeTone(raw) : null;
      return tone !== null ? { kind, tone } : rejected('shape', kind);
    }
    case 'TranscriptionMetadata':
      return transcriptionMetadata(body);
    default:
      return transcriptionData(text);
  }
}

function audioData(b: Obj): AudioDataMsg | InboundRejection {
  const data = b.data;
  const participant = optStr(b.participantRawID);
  const timestamp = optStr(b.timestamp);
  const silent = b.silent;
  if (typeof data !== 'string' || participant === undefined || timestamp === undefined) return rejected('shape', 'AudioData');
  if (silent !== undefined && typeof silent !== 'boolean') return rejected('shape', 'AudioData');
  return { kind: 'AudioData', data, timestamp, participant, silent: silent === true };
}

function audioMetadata(b: Obj): AudioMetadataMsg | InboundRejection {
  const { sampleRate, channels, length } = b;
  const encoding = str(b.encoding);
  const subscriptionId = optStr(b.subscriptionId);
  if (encoding === null || subscriptionId === undefined) return rejected('shape', 'AudioMetadata');
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) return rejected('shape', 'AudioMetadata');
  if (typeof channels !== 'number' || channels !== 1) return rejected('shape', 'AudioMetadata');
  if (length !== undefined && (typeof length !== 'number' || !Number.isInteger(length) || length <= 0)) return rejected('shape', 'AudioMetadata');
  return { kind: 'AudioMetadata', subscriptionId: subscriptionId ?? '', encoding, sampleRate, channels, length: typeof length === 'number' ? length : null };
}

function transcriptionMetadata(b: Obj): TranscriptionMetadataMsg | InboundRejection {
  const subscriptionId = optStr(b.subscriptionId);
  const locale = optStr(b.locale);
  const callConnectionId = optStr(b.callConnectionId);
  const correlationId = optStr(b.correlationId);
  const endpoint = optStr(b.speechRecognitionModelEndpointId);
  if ([subscriptionId, locale, callConnectionId, correlationId, endpoint].includes(undefined)) return rejected('shape', 'TranscriptionMetadata');
  return {
    kind: 'TranscriptionMetadata',
    subscriptionId: subscriptionId ?? '',
    locale: locale ?? '',
    callConnectionId: callConnectionId ?? '',
    correlationId: correlationId ?? '',
    speechRecognitionModelEndpointId: endpoint ?? null,
  };
}

function transcriptionData(raw: string): TranscriptionDataMsg | InboundRejection {
  const bad = rejected('shape', 'TranscriptionData');
  let msg: unknown;
  try {
    msg = JSON.parse(raw.replace(TICKS, '$1"$2"'));
  } catch {
    return bad;
  }
  const b = isObj(msg) && isObj(msg.transcriptionData) ? msg.transcriptionData : null;
  if (!b) return bad;
  const text = str(b.text);
  const status = str(b.resultStatus);
  const participant = optStr(b.participantRawID);
  const format = optStr(b.format);
  const offset = optTicks(b.offset);
  const duration = optTicks(b.duration);
  const confidence = b.confidence === undefined || b.confidence === null ? 0 : b.confidence;
  if (text === null || status === null || participant === undefined || format === undefined || offset === undefined || duration === undefined) return bad;
  if (typeof confidence !== 'number' || !Number.isFinite(confidence)) return bad;
  const lower = status.toLowerCase();
  if (lower !== 'final' && lower !== 'intermediate') return bad;
  const words: TranscriptionWord[] = [];
  if (b.words !== undefined && b.words !== null) {
    if (!Array.isArray(b.words)) return bad;
    for (const w of b.words as unknown[]) {
      if (!isObj(w)) return bad;
      const wt = str(w.text);
      const wo = optTicks(w.offset);
      const wd = optTicks(w.duration);
      if (wt === null || wo === undefined || wd === undefined) return bad;
      words.push({ text: wt, offset: wo, duration: wd });
    }
  }
  return { kind: 'TranscriptionData', text, format: format ?? 'display', confidence, offset, duration, words, participant, final: lower === 'final' };
}

const AUDIO_HEAD = '{"kind":"audioData","audioData":{"data":"';
const AUDIO_TAIL = '"}}';

/** One outbound audio frame (base64 PCM16LE). */
export function encodeAudioData(base64: string): string {
  return AUDIO_HEAD + base64 + AUDIO_TAIL;
}

const AUDIO_HEAD_BYTES = Buffer.from(AUDIO_HEAD, 'latin1');
const AUDIO_TAIL_BYTES = Buffer.from(AUDIO_TAIL, 'latin1');

/**
 * One outbound audio frame as the UTF-8 bytes of its JSON text (send as a text frame): the same text
 * as encodeAudioData, without building the concatenated string and re-encoding it. A fresh buffer per
 * frame (the socket may still hold it after the call returns).
 */
export function encodeAudioFrame(pcm: ArrayBufferView): Buffer {
  const b64 = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
  const head = AUDIO_HEAD_BYTES.length;
  const out = Buffer.allocUnsafe(head + b64.length + AUDIO_TAIL_BYTES.length);
  AUDIO_HEAD_BYTES.copy(out, 0);
  out.write(b64, head, 'latin1');
  AUDIO_TAIL_BYTES.copy(out, head + b64.length);
  return out;
}

export const STOP_AUDIO = '{"kind":"stopAudio","stopAudio":{}}';
