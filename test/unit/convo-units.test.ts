// Sentence chunking, played-text estimation, local responder intents, resampling, Flite output.
import { describe, expect, it } from 'vitest';
import { SentenceChunker } from '../../src/domain/turn/sentence-chunker.js';
import { maskDtmf, playedText } from '../../src/domain/turn/turn-policy.js';
import { abortable } from '../../src/domain/turn/turn-ports.js';
import { classify } from '../../src/adapters/responder/local-responder.js';
import { resamplePcm16 } from '../../src/adapters/tts/resampler.js';
import { FliteSynthesizer } from '../../src/adapters/tts/flite-synthesizer.js';
import { ttsCacheKey } from '../../src/adapters/tts/cached-synthesizer.js';
import { parseWavPcm16 } from '../../src/adapters/tts/wav.js';
import { speechShare } from '../support/fvad.js';

describe('sentence chunker', () => {
  it('emits each sentence as soon as it is complete, across streamed pieces', () => {
    const c = new SentenceChunker();
    const out: string[] = [];
    for (const piece of ['Sure', ', we open at ni', 'ne. We clo', 'se at six! Anything', ' else?']) out.push(...c.push(piece));
    expect(out).toEqual(['Sure, we open at nine.', 'We close at six!']);
    expect(c.flush()).toBe('Anything else?');
    expect(c.flush()).toBeNull();
  });

  it('keeps abbreviations, decimals and very short fragments together', () => {
    const c = new SentenceChunker();
    expect(c.push('Dr. Smith owes $12.50 today. Ok. Then we are done. ')).toEqual(['Dr. Smith owes $12.50 today.', 'Ok. Then we are done.']);
  });

  it('pendingSentence: the held last sentence once it ends like one (what flush would return), else null', () => {
    const c = new SentenceChunker();
    expect(c.push('I can help you. What would you like?')).toEqual(['I can help you.']);
    expect(c.pendingSentence()).toBe('What would you like?');
    expect(c.push(' Or')).toEqual(['What would you like?']);
    expect(c.pendingSentence()).toBeNull();
    expect(c.push(' not.')).toEqual([]);
    expect(c.pendingSentence()).toBe(c.flush());
  });

  it('cuts an overlong run without punctuation at a word boundary', () => {
    const c = new SentenceChunker({ minChars: 5, maxChars: 40 });
    const parts = c.push('word '.repeat(30));
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(40);
    expect([...parts, c.flush() ?? ''].join(' ').split(/\s+/).filter(Boolean)).toHaveLength(30);
  });
});

describe('turn policy', () => {
  it('estimates the played part by words', () => {
    expect(playedText('one two three four five', 400, 1000)).toBe('one two');
    expect(playedText('one two three four five', 0, 1000)).toBe('');
    expect(playedText('one two three', 1000, 1000)).toBe('one two three');
  });
  it('never stores DTMF digits', () => {
    expect(maskDtmf('1234')).toBe('[dtmf ****]');
  });
  it('abortable() stops a producer that ignores the signal', async () => {
    const ac = new AbortController();
    const stuck = (async function* () {
      yield 1;
      await new Promise(() => undefined);
      yield 2;
    })();
    const seen: number[] = [];
    const run = (async () => {
      for await (const v of abortable(stuck, ac.signal)) {
        seen.push(v);
        setTimeout(() => ac.abort(new Error('stop')), 5);
      }
    })();
    await expect(run).rejects.toThrow('stop');
    expect(seen).toEqual([1]);
  });
});

describe('local responder intents', () => {
  it.each([
    ['When are you open?', 'hours'],
    ['what time do you close', 'hours'],
    ["What's my balance", 'balance'],
    ['Let me talk to a human', 'transfer'],
    ['Could you repeat that', 'repeat'],
    ["That's all, bye", 'goodbye'],
    ['Is it raining?', 'help'],
  ])('%s → %s', (text, intent) => {
    expect(classify(text)).toBe(intent);
  });
});

describe('audio', () => {
  it('resamples 16 → 24 kHz keeping length ratio and frequency', async () => {
    const n = 16000;
    const tone = new Int16Array(n);
    for (let i = 0; i < n; i++) tone[i] = Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    const up = await resamplePcm16(tone, 16000, 24000);
    expect(up.length).toBe(24000);
    let crossings = 0;
    for (let i = 1000; i < 23000; i++) if ((up[i - 1]! < 0) !== (up[i]! < 0)) crossings++;
    // 440 Hz → 880 zero crossings per second; over 22000/24000 s ≈ 807
    expect(Math.abs(crossings - (880 * 22000) / 24000)).toBeLessThan(5);
    let peak = 0;
    for (let i = 1000; i < 23000; i++) peak = Math.max(peak, Math.abs(up[i]!));
    expect(peak).toBeGreaterThan(9000);
    expect(peak).toBeLessThan(11000);
  });

  it('rejects a non-PCM16 WAV', () => {
    expect(() => parseWavPcm16(new Uint8Array(44))).toThrow('not a WAV file');
  });

  it('Flite produces speech at 16 kHz and the same speech resampled at 24 kHz', async () => {
    const s = new FliteSynthesizer({ voice: 'rms' });
    const a16 = await s.synthesize('Thank you for calling. How can I help you today?', 16000, new AbortController().signal);
    const a24 = await s.synthesize('Thank you for calling. How can I help you today?', 24000, new AbortController().signal);
    expect(Math.abs(a24.length - (a16.length * 3) / 2)).toBeLessThanOrEqual(1);
    expect(await speechShare(a16)).toBeGreaterThan(0.6);
    expect(await speechShare(await resamplePcm16(a24, 24000, 16000))).toBeGreaterThan(0.6);
  });

  it('the worker thread and the inline path produce identical audio', async () => {
    const worker = new FliteSynthesizer({ voice: 'slt' });
    const inline = new FliteSynthesizer({ voice: 'slt', thread: 'inline' });
    const signal = new AbortController().signal;
    const [a, b] = [await worker.synthesize('Good morning.', 24000, signal), await inline.synthesize('Good morning.', 24000, signal)];
    expect(a.length).toBeGreaterThan(12000);
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    const aborted = new AbortController();
    const pending = worker.synthesize('This one is abandoned.', 16000, aborted.signal);
    aborted.abort(new Error('barge-in'));
    await expect(pending).rejects.toThrow('barge-in');
    await worker.close();
  });

  it('cache keys separate engine, voice, rate and text', () => {
    const k = ttsCacheKey('flite:slt', 16000, 'Hello.');
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(ttsCacheKey('flite:slt', 16000, ' Hello. ')).toBe(k);
    expect(new Set([k, ttsCacheKey('flite:rms', 16000, 'Hello.'), ttsCacheKey('flite:slt', 24000, 'Hello.'), ttsCacheKey('azure:x', 16000, 'Hello.'), ttsCacheKey('flite:slt', 16000, 'Hello!')]).size).toBe(5);
  });
});
