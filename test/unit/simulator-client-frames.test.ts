import { describe, expect, it } from 'vitest';
import { FRAME_MASK, audioBodies, audioShape, clientTextFrame, silenceBody } from '../../src/simulator/client-frames.js';

/** Decodes one client frame as a server would (RFC 6455 §5.2): must be FIN + text + masked. */
function decode(frame: Buffer): { text: string; key: Buffer; rest: number } {
  expect(frame[0]).toBe(0x81);
  expect(frame[1]! & 0x80).toBe(0x80);
  let len = frame[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    len = frame.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    len = Number(frame.readBigUInt64BE(2));
    off = 10;
  }
  const key = frame.subarray(off, off + 4);
  const payload = Buffer.from(frame.subarray(off + 4, off + 4 + len));
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return { text: payload.toString('utf8'), key: Buffer.from(key), rest: frame.length - (off + 4 + len) };
}

const B64 = Buffer.alloc(640, 3).toString('base64');
const T1 = '2026-11-22T08:00:00.020Z';
const T2 = '2026-11-22T08:00:00.040Z';

describe('pre-built client frames', () => {
  it('a text frame decodes to the text, masked with a non-zero key, for every length form', () => {
    for (const text of ['x', 'é'.repeat(70), 'a'.repeat(70_000)]) {
      const d = decode(clientTextFrame(text));
      expect(d.text).toBe(text);
      expect(d.rest).toBe(0);
      expect(d.key.equals(FRAME_MASK)).toBe(true);
      expect(d.key.readUInt32BE(0)).not.toBe(0);
    }
  });

  it('an AudioData frame decodes to the documented JSON with the given timestamp, participant and silent flag', () => {
    const [body] = audioBodies([B64]);
    const mixed = audioShape(body!.length, undefined, false);
    const unmixed = audioShape(body!.length, '4:+14255550100', true);
    expect(JSON.parse(decode(body!.frameAt(Date.parse(T1), T1, mixed)).text)).toEqual({ kind: 'AudioData', audioData: { data: B64, timestamp: T1, silent: false } });
    const d = decode(body!.frameAt(Date.parse(T1), T1, unmixed));
    expect(d.rest).toBe(0);
    expect(JSON.parse(d.text)).toEqual({ kind: 'AudioData', audioData: { data: B64, timestamp: T1, participantRawID: '4:+14255550100', silent: true } });
  });

  it('restamping for the next slot leaves frames already handed out untouched', () => {
    const body = silenceBody(Buffer.alloc(640).toString('base64'));
    const shape = audioShape(body.length, undefined, true);
    const first = body.frameAt(Date.parse(T1), T1, shape);
    const copy = Buffer.from(first);
    const second = body.frameAt(Date.parse(T2), T2, shape);
    expect(first.equals(copy)).toBe(true);
    expect(JSON.parse(decode(first).text).audioData.timestamp).toBe(T1);
    expect(JSON.parse(decode(second).text).audioData.timestamp).toBe(T2);
  });

  it('mixed streams share one frame per slot; bodies and silence are built once per process', () => {
    const bodies = audioBodies([B64, B64]);
    expect(audioBodies([B64]).length).toBe(1);
    const frames = [B64];
    expect(audioBodies(frames)).toBe(audioBodies(frames));
    const s = Buffer.alloc(960).toString('base64');
    expect(silenceBody(s)).toBe(silenceBody(s));
    const shapeA = audioShape(bodies[0]!.length, undefined, false);
    expect(audioShape(bodies[0]!.length, undefined, false)).toBe(shapeA);
    const at = Date.parse(T1);
    expect(bodies[0]!.frameAt(at, T1, shapeA)).toBe(bodies[0]!.frameAt(at, T1, shapeA));
    const other = audioShape(bodies[0]!.length, '8:acs:x', false);
    expect(decode(bodies[0]!.frameAt(at, T1, other)).text).toContain('"participantRawID":"8:acs:x"');
  });
});
