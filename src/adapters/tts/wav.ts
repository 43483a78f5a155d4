// Minimal RIFF/WAVE reader for PCM16 mono, as written by flite.

export interface Pcm16 {
  readonly sampleRate: number;
  readonly samples: Int16Array;
}

/** Parses a PCM16 mono WAV file. Throws on anything else. */
export function parseWavPcm16(buf: Uint8Array): Pcm16 {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o: number) => String.fromCharCode(buf[o]!, buf[o + 1]!, buf[o + 2]!, buf[o + 3]!);
  if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a WAV file');
  let sampleRate = 0;
  let off = 12;
  while (off + 8 <= buf.byteLength) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const bits = view.getUint16(body + 14, true);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`unsupported WAV format ${format}/${channels}ch/${bits}bit`);
      sampleRate = view.getUint32(body + 4, true);
    } else if (id === 'data') {
      if (sampleRate === 0) throw new Error('WAV data before fmt');
      const len = Math.min(size, buf.byteLength - body) & ~1;
      const samples = new Int16Array(len / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(body + i * 2, true);
      return { sampleRate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV without data chunk');
}
