// A bounded PCM16 ring: the last `capacity` samples of one stream. Writes never allocate and never
// grow it; the oldest samples are overwritten.

export class PcmRing {
  readonly capacity: number;
  readonly #buf: Int16Array;
  #end = 0;
  #length = 0;
  /** Samples ever written. */
  written = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError('ring capacity must be a positive integer');
    this.capacity = capacity;
    this.#buf = new Int16Array(capacity);
  }

  /** Samples currently held (never above capacity). */
  get length(): number {
    return this.#length;
  }

  /** Bytes held by the ring's storage. */
  get byteSize(): number {
    return this.#buf.byteLength;
  }

  write(samples: Int16Array): void {
    const n = samples.length;
    this.written += n;
    if (n >= this.capacity) {
      this.#buf.set(samples.subarray(n - this.capacity));
      this.#end = 0;
      this.#length = this.capacity;
      return;
    }
    const first = Math.min(n, this.capacity - this.#end);
    this.#buf.set(first === n ? samples : samples.subarray(0, first), this.#end);
    if (first < n) this.#buf.set(samples.subarray(first), 0);
    this.#end = (this.#end + n) % this.capacity;
    this.#length = Math.min(this.capacity, this.#length + n);
  }

  /** Copies the most recent min(n, length, out.length) samples, oldest first, into `out`; returns how many. */
  latest(n: number, out: Int16Array): number {
    const take = Math.min(n, this.#length, out.length);
    const start = (this.#end - take + this.capacity) % this.capacity;
    const first = Math.min(take, this.capacity - start);
    out.set(this.#buf.subarray(start, start + first), 0);
    if (first < take) out.set(this.#buf.subarray(0, take - first), first);
    return take;
  }

  clear(): void {
    this.#end = 0;
    this.#length = 0;
  }
}
