// The echo gate: how loud the caller's stream must be before it can be the caller rather than the
// agent's own audio coming back. A line with poor echo cancellation returns what we played, delayed
// and attenuated by its echo return loss (ERL); ITU-T G.168 plans for an ERL of 6 dB or more, a
// working canceller gives far more. The gate keeps the energy of every frame we played over the last
// tailMs (the echo path delay plus our playout lead) and learns the line's ERL from frames that are
// not the caller: the smallest (reference − inbound) seen over the last `erlFrames` observations. A
// frame counts as the caller only above max(floorDb, reference − ERL + marginDb). Until enough of the
// line has been heard the ERL is assumed to be `defaultErlDb` (conservative). Fixed-size typed arrays,
// no allocation per frame.

export interface EchoGateConfig {
  /** Played frames are remembered this long (echo path delay + playout lead), ms. */
  readonly tailMs: number;
  /** Absolute floor for caller speech, dBFS (RMS of a 20 ms frame). */
  readonly floorDb: number;
  /** The caller must exceed the expected echo by this much, dB. */
  readonly marginDb: number;
  /** ERL assumed before `minObservations` frames of the line were heard, dB. */
  readonly defaultErlDb: number;
  /** ERL observations kept (a sliding window of frames that were not the caller). */
  readonly erlFrames: number;
  readonly minObservations: number;
  /** Largest ERL recorded for one frame (digital silence against a loud reference), dB. */
  readonly maxErlDb: number;
}

export const DEFAULT_ECHO_GATE: EchoGateConfig = {
  tailMs: 500,
  floorDb: -45,
  marginDb: 6,
  defaultErlDb: 10,
  erlFrames: 50,
  minObservations: 25,
  maxErlDb: 90,
};

const SILENT_DB = -120;
const FULL_SCALE_SQ = 32768 * 32768;

/** RMS level of a PCM16 frame in dBFS, computed in place (-120 for digital silence). */
export function frameDb(pcm: Int16Array): number {
  const n = pcm.length;
  if (n === 0) return SILENT_DB;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = pcm[i] as number;
    sum += x * x;
  }
  if (sum === 0) return SILENT_DB;
  return Math.max(SILENT_DB, 10 * Math.log10(sum / n / FULL_SCALE_SQ));
}

export class EchoGate {
  readonly cfg: EchoGateConfig;
  readonly #at: Float64Array;
  readonly #db: Float32Array;
  #head = 0;
  readonly #erl: Float32Array;
  #erlHead = 0;
  #erlCount = 0;

  constructor(cfg: Partial<EchoGateConfig> = {}, frameMs = 20) {
    this.cfg = { ...DEFAULT_ECHO_GATE, ...cfg };
    // Room for the whole tail plus bursts of catch-up frames.
    const slots = Math.ceil(this.cfg.tailMs / frameMs) * 2 + 8;
    this.#at = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
    this.#db = new Float32Array(slots).fill(SILENT_DB);
    this.#erl = new Float32Array(Math.max(1, this.cfg.erlFrames));
  }

  /** A frame of agent audio at level `db` plays at `at` (its due time, monotonic ms). */
  played(db: number, at: number): void {
    this.#at[this.#head] = at;
    this.#db[this.#head] = db;
    this.#head = (this.#head + 1) % this.#at.length;
  }

  /** The loudest frame played within the tail before `now` (or ahead of it), dBFS; -120 if none. */
  reference(now: number): number {
    const from = now - this.cfg.tailMs;
    let max = SILENT_DB;
    const at = this.#at;
    const db = this.#db;
    for (let i = 0; i < at.length; i++) if ((at[i] as number) >= from && (db[i] as number) > max) max = db[i] as number;
    return max;
  }

  /** The line's echo return loss as learned so far, dB. */
  get erlDb(): number {
    if (this.#erlCount < this.cfg.minObservations) return this.cfg.defaultErlDb;
    let min = this.cfg.maxErlDb;
    for (let i = 0; i < this.#erlCount; i++) if ((this.#erl[i] as number) < min) min = this.#erl[i] as number;
    return min;
  }

  /**
   * Judges one inbound frame of level `db` at `now`: true when it is above the gate (may be the
   * caller). A frame below the gate while the agent was audible teaches the gate the line's ERL.
   */
  judge(db: number, now: number): boolean {
    const ref = this.reference(now);
    const { floorDb, marginDb, maxErlDb } = this.cfg;
    if (ref <= floorDb) return db >= floorDb;
    const gate = Math.max(floorDb, ref - this.erlDb + marginDb);
    if (db >= gate) return true;
    this.#erl[this.#erlHead] = Math.min(maxErlDb, ref - db);
    this.#erlHead = (this.#erlHead + 1) % this.#erl.length;
    if (this.#erlCount < this.#erl.length) this.#erlCount++;
    return false;
  }

  /** The level an inbound frame must reach at `now` to count (for logs and tests). */
  threshold(now: number): number {
    const ref = this.reference(now);
    const { floorDb, marginDb } = this.cfg;
    return ref <= floorDb ? floorDb : Math.max(floorDb, ref - this.erlDb + marginDb);
  }
}
