// The ACS media protocol codec: every documented inbound shape, exact ticks beyond 2^53, rejections
// with their reason and kind, and the outbound frames.
import { describe, expect, it } from 'vitest';
import { encodeAudioData, encodeAudioFrame, parseInbound, STOP_AUDIO } from '../../src/adapters/acs/media-codec.js';

const BIG = '9007199254740993123'; // > 2^53, not representable as a double

describe('media codec: inbound', () => {
  it('parses AudioMetadata (with and without length)', () => {
    const m = parseInbound(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 's1', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 } }));
    expect(m).toEqual({ kind: 'AudioMetadata', subscriptionId: 's1', encoding: 'PCM', sampleRate: 16000, channels: 1, length: 640 });
    const n = parseInbound(JSON.stringify({ kind: 'AudioMetadata', audioMetadata: { subscriptionId: 's1', encoding: 'PCM', sampleRate: 24000, channels: 1 } }));
    expect(n).toMatchObject({ kind: 'AudioMetadata', sampleRate: 24000, length: null });
  });

  it('parses AudioData with participantRawID present and absent', () => {
    const data = Buffer.alloc(640).toString('base64');
    const unmixed = parseInbound(JSON.stringify({ kind: 'AudioData', audioData: { data, timestamp: '2024-01-01T00:00:00.000Z', participantRawID: '8:acs:abc', silent: false } }));
    expect(unmixed).toEqual({ kind: 'AudioData', data, timestamp: '2024-01-01T00:00:00.000Z', participant: '8:acs:abc', silent: false });
    const mixed = parseInbound(JSON.stringify({ kind: 'AudioData', audioData: { data, timestamp: '2024-01-01T00:00:00.000Z', silent: true } }));
    expect(mixed).toEqual({ kind: 'AudioData', data, timestamp: '2024-01-01T00:00:00.000Z', participant: null, silent: true });
  });

  it('parses DtmfData and TranscriptionMetadata (endpoint id optional)', () => {
    expect(parseInbound('{"kind":"DtmfData","dtmfData":{"data":"3"}}')).toEqual({ kind: 'DtmfData', tone: '3' });
    const meta = { subscriptionId: 's', locale: 'en-US', callConnectionId: 'c', correlationId: 'r' };
    expect(parseInbound(JSON.stringify({ kind: 'TranscriptionMetadata', transcriptionMetadata: meta }))).toMatchObject({ kind: 'TranscriptionMetadata', locale: 'en-US', speechRecognitionModelEndpointId: null });
    expect(parseInbound(JSON.stringify({ kind: 'TranscriptionMetadata', transcriptionMetadata: { ...meta, speechRecognitionModelEndpointId: 'e' } }))).toMatchObject({ speechRecognitionModelEndpointId: 'e' });
  });

  it.each(['Final', 'final', 'FINAL', 'Intermediate', 'intermediate', 'INTERMEDIATE'])('parses TranscriptionData with resultStatus %s and exact ticks', (status) => {
    const raw = `{"kind":"TranscriptionData","transcriptionData":{"text":"hello there","format":"display","confidence":0.93,"offset":${BIG},"duration":12000000,"words":[{"text":"hello","offset":${BIG},"duration":5000000},{"text":"there","offset":9007199254740999999,"duration":7000000}],"participantRawID":"4:+15550100","resultStatus":"${status}"}}`;
    const m = parseInbound(raw);
    expect(m).toMatchObject({ kind: 'TranscriptionData', text: 'hello there', final: status.toLowerCase() === 'final', confidence: 0.93, participant: '4:+15550100' });
    if (m.kind !== 'TranscriptionData') throw new Error('not transcription');
    expect(m.offset).toBe(BigInt(BIG));
    expect(m.duration).toBe(12000000n);
    expect(m.words.map((w) => w.offset)).toEqual([BigInt(BIG), 9007199254740999999n]);
  });

  it('parses TranscriptionData without words and without participantRawID', () => {
    const m = parseInbound(JSON.stringify({ kind: 'TranscriptionData', transcriptionData: { text: 'hi', format: 'display', confidence: 0.5, offset: 1, duration: 2, resultStatus: 'Final' } }));
    expect(m).toMatchObject({ kind: 'TranscriptionData', words: [], participant: null, final: true });
  });

  it('keeps a quoted "offset" inside the text untouched', () => {
    const m = parseInbound(JSON.stringify({ kind: 'TranscriptionData', transcriptionData: { text: 'say "offset": 5 please', format: 'display', confidence: 1, offset: 10, duration: 20, resultStatus: 'Final' } }));
    expect(m).toMatchObject({ text: 'say "offset": 5 please', offset: 10n });
  });

  it.each([
    ['not json', 'json', 'none'],
    ['[1,2]', 'shape', 'none'],
    ['{"audioData":{}}', 'shape', 'none'],
    ['{"kind":"audioData","audioData":{"data":"AAAA"}}', 'unknown', 'audioData'],
    ['{"kind":"Somethingnew","somethingnew":{}}', 'unknown', 'Somethingnew'],
    ['{"kind":"AudioData","AudioData":{"data":"AAAA"}}', 'shape', 'AudioData'],
    ['{"kind":"AudioData","audioData":{"data":5}}', 'shape', 'AudioData'],
    ['{"kind":"AudioData","audioData":{"data":"AAAA","silent":"yes"}}', 'shape', 'AudioData'],
    ['{"kind":"AudioData","audioData":{"data":"AAAA","participantRawID":7}}', 'shape', 'AudioData'],
    ['{"kind":"AudioMetadata","audioMetadata":{"encoding":"PCM","sampleRate":"16000","channels":1}}', 'shape', 'AudioMetadata'],
    ['{"kind":"AudioMetadata","audioMetadata":{"encoding":"PCM","sampleRate":16000,"channels":2}}', 'shape', 'AudioMetadata'],
    ['{"kind":"DtmfData","dtmfData":{"data":""}}', 'shape', 'DtmfData'],
    ['{"kind":"TranscriptionData","transcriptionData":{"text":"x","offset":1,"duration":1,"resultStatus":"Maybe"}}', 'shape', 'TranscriptionData'],
    ['{"kind":"TranscriptionData","transcriptionData":{"text":"x","offset":1.5,"duration":1,"resultStatus":"Final"}}', 'shape', 'TranscriptionData'],
    ['{"kind":"TranscriptionData","transcriptionData":{"text":"x","offset":1,"duration":1,"resultStatus":"Final","words":{}}}', 'shape', 'TranscriptionData'],
    ['{"kind":"TranscriptionMetadata","transcriptionMetadata":{"locale":5}}', 'shape', 'TranscriptionMetadata'],
  ])('rejects %s as %s/%s', (raw, reason, kind) => {
    expect(parseInbound(raw)).toEqual({ kind: 'rejected', reason, messageKind: kind });
  });

  it('never throws on arbitrary input', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const base = '{"kind":"TranscriptionData","transcriptionData":{"text":"a","offset":1,"duration":2,"resultStatus":"Final"}}';
    for (let i = 0; i < 2000; i++) {
      const chars = base.split('');
      for (let k = 0; k < 3; k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(32 + Math.floor(rnd() * 90));
      expect(() => parseInbound(chars.join(''))).not.toThrow();
    }
  });
});

describe('media codec: outbound', () => {
  it('emits camelCase audioData and stopAudio', () => {
    expect(JSON.parse(encodeAudioData('AAEC'))).toEqual({ kind: 'audioData', audioData: { data: 'AAEC' } });
    expect(JSON.parse(STOP_AUDIO)).toEqual({ kind: 'stopAudio', stopAudio: {} });
  });

  it('encodes a PCM frame to the same JSON bytes as the text encoder, from a view into a larger buffer', () => {
    const backing = new Int16Array(16).map((_, i) => (i % 2 === 0 ? i * 1000 : -i * 1000));
    const frame = backing.subarray(3, 11);
    const bytes = encodeAudioFrame(frame);
    const b64 = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64');
    expect(bytes.toString('utf8')).toBe(encodeAudioData(b64));
    const decoded = Buffer.from((JSON.parse(bytes.toString('utf8')) as { audioData: { data: string } }).audioData.data, 'base64');
    expect(Array.from(new Int16Array(decoded.buffer, decoded.byteOffset, decoded.length / 2))).toEqual(Array.from(frame));
  });

  it('returns a fresh buffer per frame (the socket may still hold the previous one)', () => {
    const pcm = new Int16Array([1, 2, 3, 4]);
    const a = encodeAudioFrame(pcm);
    pcm[0] = 99;
    const b = encodeAudioFrame(pcm);
    expect(a.equals(b)).toBe(false);
    expect(JSON.parse(a.toString('utf8'))).toEqual({ kind: 'audioData', audioData: { data: Buffer.from(new Int16Array([1, 2, 3, 4]).buffer).toString('base64') } });
  });
});
