// The fast path for the message that arrives 50 times a second per call. An AudioData frame is read
// straight from the received bytes: no UTF-8 decode of the whole message, no JSON.parse, no object
// per frame; the caller base64-decodes the payload range directly. It accepts only the shape ACS sends
// — {"kind":"AudioData","audioData":{data, timestamp, participantRawID, silent}}, keys in any order,
// any JSON whitespace — with no escapes, no duplicate or unknown keys and ASCII-only strings. Anything
// else returns false and the caller hands the message to the general parser (parseInbound), which
// decides. The payload string is not checked here: the caller base64-decodes it and requires exactly the
// bytes its length promises (base64Bytes), which fails on any character outside the alphabet. Whenever
// both accept, parseInbound would have produced the same message; the unit tests check that on
// mutated input.

/** Where the payload of an accepted AudioData message is. Reused between calls (no allocation). */
export interface AudioDataSpan {
  /** Byte range of the base64 `data` string (without quotes). */
  dataStart: number;
  dataEnd: number;
  participant: string | null;
  silent: boolean;
}

export function newAudioDataSpan(): AudioDataSpan {
  return { dataStart: 0, dataEnd: 0, participant: null, silent: false };
}

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const BACKSLASH = 0x5c;

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const K_KIND = bytes('kind');
const K_BODY = bytes('audioData');
const V_KIND = bytes('AudioData');
const K_DATA = bytes('data');
const K_TIMESTAMP = bytes('timestamp');
const K_PARTICIPANT = bytes('participantRawID');
const K_SILENT = bytes('silent');
const L_TRUE = bytes('true');
const L_FALSE = bytes('false');
const L_NULL = bytes('null');

/** Index of the first non-whitespace byte at or after p (JSON whitespace). */
function skipWs(b: Buffer, p: number): number {
  for (;;) {
    const c = b[p];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return p;
    p++;
  }
}

/** b[start, end) equals lit. */
function eq(b: Buffer, start: number, end: number, lit: Uint8Array): boolean {
  if (end - start !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (b[start + i] !== lit[i]) return false;
  return true;
}

/** b[start, end) is printable ASCII (what a JSON string holds without escapes, kept to one byte per char). */
function printable(b: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** The closing quote of the string opening at p (b[p] is a quote), or -1. */
function stringEnd(b: Buffer, p: number): number {
  return b.indexOf(QUOTE, p + 1);
}

/**
 * Reads `b` as an ACS AudioData message into `out`. True when accepted; false means "not this fast
 * shape" (the message may still be valid: use the general parser).
 */
export function scanAudioData(b: Buffer, out: AudioDataSpan): boolean {
  // A backslash anywhere means escapes somewhere: ACS never sends them in audio frames.
  if (b.indexOf(BACKSLASH) !== -1) return false;
  let p = skipWs(b, 0);
  if (b[p] !== OPEN) return false;
  p = skipWs(b, p + 1);
  let kind = false;
  let body = false;
  for (;;) {
    if (b[p] !== QUOTE) return false;
    const ks = p + 1;
    const ke = stringEnd(b, p);
    if (ke < 0) return false;
    p = skipWs(b, ke + 1);
    if (b[p] !== COLON) return false;
    p = skipWs(b, p + 1);
    if (eq(b, ks, ke, K_KIND)) {
      if (kind || b[p] !== QUOTE) return false;
      const ve = stringEnd(b, p);
      if (ve < 0 || !eq(b, p + 1, ve, V_KIND)) return false;
      kind = true;
      p = ve + 1;
    } else if (eq(b, ks, ke, K_BODY)) {
      if (body) return false;
      p = scanBody(b, p, out);
      if (p < 0) return false;
      body = true;
    } else return false;
    p = skipWs(b, p);
    if (b[p] === COMMA) {
      p = skipWs(b, p + 1);
      continue;
    }
    if (b[p] !== CLOSE) return false;
    p = skipWs(b, p + 1);
    break;
  }
  return kind && body && p === b.length;
}

const SEEN_DATA = 1;
const SEEN_TIMESTAMP = 2;
const SEEN_PARTICIPANT = 4;
const SEEN_SILENT = 8;

/** The audioData object starting at p; returns the index after its closing brace, or -1. */
function scanBody(b: Buffer, p: number, out: AudioDataSpan): number {
  if (b[p] !== OPEN) return -1;
  p = skipWs(b, p + 1);
  let seen = 0;
  let participant: string | null = null;
  let silent = false;
  for (;;) {
    if (b[p] !== QUOTE) return -1;
    const ks = p + 1;
    const ke = stringEnd(b, p);
    if (ke < 0) return -1;
    p = skipWs(b, ke + 1);
    if (b[p] !== COLON) return -1;
    p = skipWs(b, p + 1);
    let field: number;
    if (eq(b, ks, ke, K_DATA)) field = SEEN_DATA;
    else if (eq(b, ks, ke, K_TIMESTAMP)) field = SEEN_TIMESTAMP;
    else if (eq(b, ks, ke, K_PARTICIPANT)) field = SEEN_PARTICIPANT;
    else if (eq(b, ks, ke, K_SILENT)) field = SEEN_SILENT;
    else return -1;
    if ((seen & field) !== 0) return -1;
    seen |= field;
    if (field === SEEN_SILENT) {
      if (eq(b, p, p + 4, L_TRUE)) {
        silent = true;
        p += 4;
      } else if (eq(b, p, p + 5, L_FALSE)) {
        silent = false;
        p += 5;
      } else return -1;
    } else if (field !== SEEN_DATA && eq(b, p, p + 4, L_NULL)) {
      p += 4;
    } else {
      if (b[p] !== QUOTE) return -1;
      const ve = stringEnd(b, p);
      if (ve < 0) return -1;
      if (field === SEEN_DATA) {
        // Validated by the caller: the decoded length must match the string's (see base64Bytes).
        out.dataStart = p + 1;
        out.dataEnd = ve;
      } else {
        if (!printable(b, p + 1, ve)) return -1;
        if (field === SEEN_PARTICIPANT) participant = b.toString('latin1', p + 1, ve);
      }
      p = ve + 1;
    }
    p = skipWs(b, p);
    if (b[p] === COMMA) {
      p = skipWs(b, p + 1);
      continue;
    }
    if (b[p] !== CLOSE) return -1;
    break;
  }
  if ((seen & SEEN_DATA) === 0) return -1;
  out.participant = participant;
  out.silent = silent;
  return p + 1;
}

/**
 * Bytes that canonical padded base64 of `length` characters decodes to, given its last two characters
 * (char codes), or -1 when the length is not a multiple of 4. Node's decoder skips characters outside
 * the alphabet, so "decoded bytes === base64Bytes(...)" is the check that the payload was clean.
 */
export function base64Bytes(length: number, last: number, beforeLast: number): number {
  if ((length & 3) !== 0) return -1;
  const pad = last === 0x3d ? (beforeLast === 0x3d ? 2 : 1) : 0;
  return (length >> 2) * 3 - pad;
}
