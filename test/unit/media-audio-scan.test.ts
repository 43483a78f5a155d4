// The AudioData fast path: it reads the exact ACS shape straight from bytes, declines everything else
// (the general parser then decides), and — checked on thousands of mutated messages — never accepts a
// message the general parser would read differently.
import { describe, expect, it } from 'vitest';
import { base64Bytes, newAudioDataSpan, scanAudioData, type AudioDataSpan } from '../../src/adapters/acs/audio-data-scan.js';
import { parseInbound } from '../../src/adapters/acs/media-codec.js';

const PCM = Buffer.from(Array.from({ length: 640 }, (_, i) => (i * 37) & 255));
const B64 = PCM.toString('base64');
const ACS = (body: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ kind: 'AudioData', audioData: body }));

function scan(buf: Buffer): AudioDataSpan | null {
  const span = newAudioDataSpan();
  return scanAudioData(buf, span) ? span : null;
}

/** What the media socket does with an accepted span: decode, and check the length promise. */
function decoded(buf: Buffer, span: AudioDataSpan): Buffer | null {
  const s = buf.toString('latin1', span.dataStart, span.dataEnd);
  const out = Buffer.alloc(s.length);
  const n = out.write(s, 0, 'base64');
  return n === base64Bytes(s.length, s.charCodeAt(s.length - 1), s.charCodeAt(s.length - 2)) ? out.subarray(0, n) : null;
}

describe('AudioData fast path: accepts the ACS shape', () => {
  it('reads a mixed frame (no participant) as ACS sends it', () => {
    const buf = ACS({ timestamp: '2026-01-01T00:00:00.020Z', data: B64, silent: false });
    const span = scan(buf);
    expect(span).toMatchObject({ participant: null, silent: false });
    expect(decoded(buf, span as AudioDataSpan)).toEqual(PCM);
  });

  it('reads an unmixed frame with participantRawID and silent: true, keys in any order, pretty-printed', () => {
    const text = JSON.stringify({ audioData: { silent: true, participantRawID: '8:acs:abc_123', data: B64, timestamp: null }, kind: 'AudioData' }, null, 2);
    const span = scan(Buffer.from(text));
    expect(span).toMatchObject({ participant: '8:acs:abc_123', silent: true });
    expect(decoded(Buffer.from(text), span as AudioDataSpan)).toEqual(PCM);
  });

  it('agrees with the general parser on the accepted fields', () => {
    const buf = ACS({ data: B64, participantRawID: '4:+15550100', timestamp: 't' });
    const span = scan(buf) as AudioDataSpan;
    const general = parseInbound(buf.toString());
    expect(general).toMatchObject({ kind: 'AudioData', participant: span.participant, silent: span.silent, data: buf.toString('latin1', span.dataStart, span.dataEnd) });
  });
});

describe('AudioData fast path: declines what is not exactly that shape', () => {
  const cases: Record<string, string> = {
    'other kind': JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { data: B64 } }),
    'kind in other case': JSON.stringify({ kind: 'audiodata', audioData: { data: B64 } }),
    'unknown top-level key': JSON.stringify({ kind: 'AudioData', audioData: { data: B64 }, extra: 1 }),
    'unknown body key': JSON.stringify({ kind: 'AudioData', audioData: { data: B64, volume: 3 } }),
    'duplicate key': `{"kind":"AudioData","audioData":{"data":"${B64}","data":"AAAA"}}`,
    'duplicate kind': `{"kind":"AudioData","kind":"AudioData","audioData":{"data":"${B64}"}}`,
    'escape anywhere': JSON.stringify({ kind: 'AudioData', audioData: { data: B64, participantRawID: 'a"b' } }),
    'no data': JSON.stringify({ kind: 'AudioData', audioData: { silent: false } }),
    'data not a string': JSON.stringify({ kind: 'AudioData', audioData: { data: 5 } }),
    'data null': JSON.stringify({ kind: 'AudioData', audioData: { data: null } }),
    'silent null': JSON.stringify({ kind: 'AudioData', audioData: { data: B64, silent: null } }),
    'silent as string': JSON.stringify({ kind: 'AudioData', audioData: { data: B64, silent: 'true' } }),
    'non-ASCII participant': JSON.stringify({ kind: 'AudioData', audioData: { data: B64, participantRawID: 'ü' } }),
    'no kind': JSON.stringify({ audioData: { data: B64 } }),
    'trailing garbage': `${JSON.stringify({ kind: 'AudioData', audioData: { data: B64 } })}x`,
    truncated: JSON.stringify({ kind: 'AudioData', audioData: { data: B64 } }).slice(0, -1),
    'an array': JSON.stringify([{ kind: 'AudioData', audioData: { data: B64 } }]),
    empty: '',
  };
  for (const [name, text] of Object.entries(cases)) {
    it(name, () => expect(scan(Buffer.from(text))).toBeNull());
  }

  it('a payload with characters outside base64 fails the length promise', () => {
    for (const bad of ['AAAA!AAA', 'AA AAAAA', 'AAAAAAA', 'AA=AAAAA', `${B64.slice(0, -4)}\u007f\u007f\u007f\u007f`]) {
      const buf = ACS({ data: bad });
      const span = scan(buf);
      expect(span, bad).not.toBeNull();
      expect(decoded(buf, span as AudioDataSpan), bad).toBeNull();
    }
  });
});

describe('AudioData fast path: never disagrees with the general parser', () => {
  // A small deterministic PRNG so a failure is reproducible.
  let seed = 0x2545f491;
  const rand = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const ALPHABET = Buffer.from('{}[]":,\\ \n\t0123456789aAtrufnlsedDkpi=+/\u00e9\u0001', 'latin1');
  const seeds = [
    ACS({ timestamp: '2026-01-01T00:00:00.020Z', data: B64.slice(0, 64), silent: false }),
    ACS({ data: B64.slice(0, 64), participantRawID: '8:acs:x', silent: true }),
    Buffer.from(JSON.stringify({ audioData: { data: B64.slice(0, 64), timestamp: null }, kind: 'AudioData' }, null, 1)),
  ];

  it('on 20,000 mutated messages: whenever it accepts and the payload decodes cleanly, JSON.parse reads the same kind, fields and audio', () => {
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = seeds[i % seeds.length] as Buffer;
      const bytes = [...base];
      for (let m = 1 + rand(3); m > 0; m--) {
        const at = rand(bytes.length + 1);
        const op = rand(3);
        if (op === 0) bytes.splice(at, 1);
        else if (op === 1) bytes.splice(at, 0, ALPHABET[rand(ALPHABET.length)] as number);
        else bytes[Math.min(at, bytes.length - 1)] = ALPHABET[rand(ALPHABET.length)] as number;
      }
      const buf = Buffer.from(bytes);
      const span = scan(buf);
      // The socket takes the fast path only when the payload also decodes cleanly.
      const d = span ? decoded(buf, span) : null;
      if (!span || !d) continue;
      accepted++;
      const text = buf.toString('latin1');
      let json: { kind?: unknown; audioData?: { data?: unknown; participantRawID?: unknown; silent?: unknown } };
      expect(() => (json = JSON.parse(text)), text).not.toThrow();
      const general = parseInbound(text);
      expect(general.kind, text).toBe('AudioData');
      if (general.kind !== 'AudioData') continue;
      expect(general.participant, text).toBe(span.participant);
      expect(general.silent, text).toBe(span.silent);
      expect(general.data, text).toBe(json!.audioData?.data);
      expect(d, text).toEqual(Buffer.from(general.data, 'base64'));
    }
    // The mutations must leave enough messages valid for the check to mean something.
    expect(accepted).toBeGreaterThan(500);
  });
});
