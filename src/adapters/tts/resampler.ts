// Sample-rate conversion of whole utterances with the Speex resampler (WebAssembly): a windowed-sinc
// polyphase filter with proper low-pass, quality 0..10 (default 6). One WASM module per process,
// one resampler state per call of resample() (cheap: a few KB).

interface SpeexModule {
  HEAP16: Int16Array;
  HEAPU32: Uint32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_destroy(st: number): void;
  _speex_resampler_skip_zeros(st: number): number;
  _speex_resampler_get_input_latency(st: number): number;
  _speex_resampler_process_int(st: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
}

// A variable specifier keeps TypeScript from resolving the untyped package; the shape is declared above.
const SPEEX_PACKAGE = '@echogarden/speex-resampler-wasm';
let modulePromise: Promise<SpeexModule> | null = null;

function speex(): Promise<SpeexModule> {
  modulePromise ??= import(SPEEX_PACKAGE).then((m: { default: () => Promise<SpeexModule> }) => m.default());
  return modulePromise;
}

/** Converts PCM16 mono from inRate to outRate. Output length is round(n * outRate / inRate). */
export async function resamplePcm16(input: Int16Array, inRate: number, outRate: number, quality = 6): Promise<Int16Array> {
  if (inRate === outRate || input.length === 0) return input.slice();
  const m = await speex();
  const errPtr = m._malloc(4);
  const st = m._speex_resampler_init(1, inRate, outRate, quality, errPtr);
  m._free(errPtr);
  if (st === 0) throw new Error(`speex resampler init failed (${inRate} -> ${outRate})`);
  try {
    m._speex_resampler_skip_zeros(st);
    const latency = m._speex_resampler_get_input_latency(st);
    const inLen = input.length + latency; // trailing zeros flush the filter tail
    const outLen = Math.round((input.length * outRate) / inRate);
    const outCap = Math.ceil((inLen * outRate) / inRate) + 16;
    const inPtr = m._malloc(inLen * 2);
    const outPtr = m._malloc(outCap * 2);
    const lenPtr = m._malloc(8);
    try {
      let heap = m.HEAP16;
      heap.set(input, inPtr >> 1);
      heap.fill(0, (inPtr >> 1) + input.length, (inPtr >> 1) + inLen);
      m.HEAPU32[lenPtr >> 2] = inLen;
      m.HEAPU32[(lenPtr >> 2) + 1] = outCap;
      const rc = m._speex_resampler_process_int(st, 0, inPtr, lenPtr, outPtr, lenPtr + 4);
      if (rc !== 0) throw new Error(`speex resampler error ${rc}`);
      const produced = m.HEAPU32[(lenPtr >> 2) + 1] ?? 0;
      heap = m.HEAP16; // re-read: memory may have grown
      const out = new Int16Array(outLen);
      out.set(heap.subarray(outPtr >> 1, (outPtr >> 1) + Math.min(outLen, produced)));
      return out;
    } finally {
      m._free(inPtr);
      m._free(outPtr);
      m._free(lenPtr);
    }
  } finally {
    m._speex_resampler_destroy(st);
  }
}
