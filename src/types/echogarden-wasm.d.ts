// Declarations for the Emscripten modules of @echogarden/fvad-wasm and @echogarden/speex-resampler-wasm
// (neither ships types). Only the exports the media path uses.

interface EchogardenWasmModule {
  /** Views over the wasm memory; replaced when memory grows, so read them after any call that may allocate. */
  readonly HEAP16: Int16Array;
  readonly HEAPU32: Uint32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

declare module '@echogarden/fvad-wasm' {
  export interface FvadModule extends EchogardenWasmModule {
    _fvad_new(): number;
    _fvad_free(handle: number): void;
    _fvad_reset(handle: number): void;
    /** 0..3, higher is more aggressive. Returns 0 or -1. */
    _fvad_set_mode(handle: number, mode: number): number;
    /** 8000, 16000, 32000 or 48000. Returns 0 or -1. */
    _fvad_set_sample_rate(handle: number, rate: number): number;
    /** 10, 20 or 30 ms of PCM16 at the handle's rate. 1 = voice, 0 = no voice, -1 = invalid length. */
    _fvad_process(handle: number, framePtr: number, length: number): number;
  }
  const factory: (moduleArg?: Record<string, unknown>) => Promise<FvadModule>;
  export default factory;
}

declare module '@echogarden/speex-resampler-wasm' {
  export interface SpeexResamplerModule extends EchogardenWasmModule {
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
    _speex_resampler_destroy(state: number): void;
    /** in/out lengths are pointers to uint32 sample counts, updated with what was consumed/produced. */
    _speex_resampler_process_int(state: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
    _speex_resampler_reset_mem(state: number): number;
  }
  const factory: (moduleArg?: Record<string, unknown>) => Promise<SpeexResamplerModule>;
  export default factory;
}
