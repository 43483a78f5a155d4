// The caller's synthesized speech must be speech to a voice-activity detector, and the silence
// between utterances must not be.
import { describe, expect, it } from 'vitest';
import createFvad from '@echogarden/fvad-wasm';
import { callerVoice, resampleLinear } from '../../src/simulator/caller-audio.js';

async function vad() {
  const m = await createFvad();
  const h = m._fvad_new();
  m._fvad_set_mode(h, 1);
  m._fvad_set_sample_rate(h, 16000);
  const ptr = m._malloc(640);
  return {
    /** 1 = speech for one 20 ms frame at 16 kHz. */
    isSpeech(pcm: Int16Array): boolean {
      m.HEAP16.set(pcm, ptr >> 1);
      return m._fvad_process(h, ptr, 320) === 1;
    },
  };
}

function frames16k(b64Frames: readonly string[], rate: number): Int16Array[] {
  const all = Buffer.concat(b64Frames.map((f) => Buffer.from(f, 'base64')));
  const pcm = new Int16Array(all.buffer, all.byteOffset, all.length / 2);
  const at16 = rate === 16000 ? pcm : resampleLinear(pcm, rate, 16000);
  const out: Int16Array[] = [];
  for (let i = 0; i + 320 <= at16.length; i += 320) out.push(at16.slice(i, i + 320));
  return out;
}

describe('synthesized caller voice', () => {
  for (const rate of [16000, 24000]) {
    it(`is ≥80% speech frames with silent gaps at ${rate} Hz`, { timeout: 30_000 }, async () => {
      const voice = await callerVoice(rate);
      const v = await vad();
      expect(voice.frameBytes).toBe(rate === 16000 ? 640 : 960);
      expect(voice.utterances.length).toBeGreaterThanOrEqual(3);
      for (const u of voice.utterances) {
        for (const f of u.frames) expect(Buffer.from(f, 'base64').length).toBe(voice.frameBytes);
        const fr = frames16k(u.frames, rate);
        const speech = fr.filter((f) => v.isSpeech(f)).length;
        expect(speech / fr.length, u.text).toBeGreaterThanOrEqual(0.8);
        expect(u.durationMs).toBeGreaterThan(800);
      }
      // Right after speech the detector's own hang-over (~100-150 ms) still says speech; after that the
      // gap between utterances must read as silence.
      const silence = frames16k(Array(50).fill(voice.silenceFrame), rate).map((f) => v.isSpeech(f));
      expect(silence.slice(10).filter(Boolean)).toHaveLength(0);
    });
  }
});
