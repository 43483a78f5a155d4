// Splits a streamed reply into sentences so the first one can be synthesized and played while the
// responder is still producing the rest. Pure and synchronous.

const TERMINATOR = /[.!?]+["')\]]*(?=\s)/g;
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'no', 'approx']);

export interface SentenceChunkerOptions {
  /** Fragments shorter than this are held and joined to the next sentence (avoids tiny clips). */
  readonly minChars: number;
  /** A run without a terminator longer than this is cut at the last comma or space. */
  readonly maxChars: number;
}

export const DEFAULT_CHUNKER_OPTIONS: SentenceChunkerOptions = { minChars: 12, maxChars: 220 };

export class SentenceChunker {
  #buf = '';

  constructor(private readonly opts: SentenceChunkerOptions = DEFAULT_CHUNKER_OPTIONS) {}

  /** Adds streamed text; returns the sentences that are now complete, in order. */
  push(text: string): string[] {
    this.#buf += text;
    const out: string[] = [];
    let start = 0;
    TERMINATOR.lastIndex = 0;
    for (let m = TERMINATOR.exec(this.#buf); m; m = TERMINATOR.exec(this.#buf)) {
      const end = m.index + m[0].length;
      const candidate = this.#buf.slice(start, end).trim();
      if (candidate.length < this.opts.minChars || endsWithAbbreviation(candidate)) continue;
      out.push(candidate);
      start = end;
    }
    this.#buf = this.#buf.slice(start);
    while (this.#buf.length > this.opts.maxChars) {
      const head = this.#buf.slice(0, this.opts.maxChars);
      const cut = Math.max(head.lastIndexOf(', '), head.lastIndexOf(' '));
      const at = cut > this.opts.minChars ? cut + 1 : this.opts.maxChars;
      const piece = this.#buf.slice(0, at).trim();
      if (piece) out.push(piece);
      this.#buf = this.#buf.slice(at);
    }
    return out;
  }

  /**
   * The held remainder when it already ends like a sentence: what flush() returns if the stream ends
   * now (a reply's last sentence is held until then). For looking it up ahead; null otherwise.
   */
  pendingSentence(): string | null {
    const rest = this.#buf.trim();
    return rest.length > 0 && /[.!?]["')\]]*$/.test(rest) ? rest : null;
  }

  /** The remainder once the stream ended (null when nothing is left). */
  flush(): string | null {
    const rest = this.#buf.trim();
    this.#buf = '';
    return rest.length > 0 ? rest : null;
  }
}

function endsWithAbbreviation(s: string): boolean {
  const m = /(\S+)\.$/.exec(s);
  return m !== null && m[1] !== undefined && ABBREVIATIONS.has(m[1].toLowerCase());
}
