// Share of 20 ms frames the WebRTC VAD (@echogarden/fvad-wasm) marks as speech, for tests that
// check synthesized audio is speech. 16 kHz input only.
interface FvadModule {
  HEAP16: Int16Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _fvad_new(): number;
  _fvad_free(h: number): void;
  _fvad_set_mode(h: number, mode: number): number;
  _fvad_set_sample_rate(h: number, rate: number): number;
  _fvad_process(h: number, ptr: number, len: number): number;
}

const FVAD_PACKAGE = '@echogarden/fvad-wasm';
let mod: Promise<FvadModule> | null = null;

export async function speechShare(pcm: Int16Array, sampleRate: 16000 = 16000, mode = 2): Promise<number> {
  mod ??= import(FVAD_PACKAGE).then((m: { default: () => Promise<FvadModule> }) => m.default());
  const m = await mod;
  const h = m._fvad_new();
  m._fvad_set_mode(h, mode);
  m._fvad_set_sample_rate(h, sampleRate);
  const frame = sampleRate / 50;
  const ptr = m._malloc(frame * 2);
  let speech = 0;
  let frames = 0;
  try {
    for (let off = 0; off + frame <= pcm.length; off += frame) {
      m.HEAP16.set(pcm.subarray(off, off + frame), ptr >> 1);
      if (m._fvad_process(h, ptr, frame) === 1) speech++;
      frames++;
    }
  } finally {
    m._free(ptr);
    m._fvad_free(h);
  }
  return frames === 0 ? 0 : speech / frames;
}
