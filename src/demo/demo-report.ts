// The demo's printout: per-call transcripts and a latency table. Pure formatting of a report object
// that the demo command fills from the simulator's results and the worker's turn timings.
import type { Turn } from '../domain/conversation.js';
import type { TurnTiming } from '../domain/turn/turn-ports.js';

export interface DemoTurn {
  readonly speaker: Turn['speaker'];
  readonly text: string;
  readonly kind?: 'speech' | 'dtmf';
  readonly interrupted?: boolean;
  readonly playedMs?: number;
}

export interface DemoCallReport {
  readonly callId: string;
  /** Scenario name, e.g. "hours + balance with PIN". */
  readonly label: string;
  readonly outcome: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly turns: readonly DemoTurn[];
  /** Per turn: input → first reply audio queued (ms). */
  readonly turnMs: readonly number[];
  readonly responderMs: readonly number[];
  /** Per turn: synthesis time summed over its sentences (ms). */
  readonly ttsMs: readonly number[];
  /** Measured by the simulator: end of caller speech → first agent audio frame received (ms). */
  readonly e2eMs?: readonly number[];
  readonly fillers: number;
  readonly fallbacks: number;
  readonly bargeIns: number;
}

export interface DemoReport {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly responder: string;
  readonly tts: string;
  readonly state: string;
  readonly calls: readonly DemoCallReport[];
  readonly ttsCache?: { readonly hits: number; readonly misses: number };
}

export interface Percentiles {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

/** Nearest-rank percentiles; zeros when empty. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: 0, p95: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return { n: s.length, p50: at(50), p95: at(95), max: s[s.length - 1]! };
}

/** Builds one call's report from the conversation history and the pipeline's turn timings. */
export function callReportFrom(input: {
  callId: string;
  label: string;
  outcome: string;
  ok: boolean;
  durationMs: number;
  history: readonly Turn[];
  timings: readonly TurnTiming[];
  e2eMs?: readonly number[];
}): DemoCallReport {
  const t = input.timings;
  const nums = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  return {
    callId: input.callId,
    label: input.label,
    outcome: input.outcome,
    ok: input.ok,
    durationMs: input.durationMs,
    turns: input.history.map((h) => ({
      speaker: h.speaker,
      text: h.text,
      ...(h.kind ? { kind: h.kind } : {}),
      ...(h.interrupted ? { interrupted: true } : {}),
      ...(h.playedMs !== undefined ? { playedMs: h.playedMs } : {}),
    })),
    turnMs: nums(t.map((x) => x.turnMs)),
    responderMs: nums(t.map((x) => x.responderMs)),
    ttsMs: t.filter((x) => x.sentences > 0).map((x) => x.ttsMs),
    ...(input.e2eMs ? { e2eMs: input.e2eMs } : {}),
    fillers: t.filter((x) => x.filler).length,
    fallbacks: t.filter((x) => x.fallback !== null).length,
    bargeIns: input.history.filter((h) => h.interrupted).length,
  };
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

function transcript(call: DemoCallReport, width: number): string[] {
  const out = [`── ${call.label} · ${call.callId.slice(0, 8)} · ${call.outcome} · ${(call.durationMs / 1000).toFixed(1)} s ${call.ok ? '✓' : '✗'}`];
  for (const t of call.turns) {
    const who = t.speaker === 'user' ? (t.kind === 'dtmf' ? 'caller ⌨' : 'caller') : t.speaker === 'assistant' ? 'agent' : 'system';
    const flag = t.interrupted ? `  [interrupted after ${t.playedMs ?? 0} ms]` : '';
    const body = t.text === '' && t.interrupted ? '…' : t.text;
    out.push(`  ${who.padEnd(9)}${wrap(body, width - 11, ' '.repeat(11))}${flag}`);
  }
  return out;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** The printable report; `transcripts` limits how many calls' transcripts are printed (all by default). */
export function formatDemoReport(r: DemoReport, opts: { width?: number; transcripts?: number } = {}): string {
  const width = opts.width ?? 100;
  const shown = r.calls.slice(0, opts.transcripts ?? r.calls.length);
  const lines: string[] = [];
  const ok = r.calls.filter((c) => c.ok).length;
  lines.push(`voice-worker demo — ${r.calls.length} calls, ${ok} ok, ${(r.durationMs / 1000).toFixed(1)} s`);
  lines.push(`responder ${r.responder} · tts ${r.tts} · state ${r.state}`);
  lines.push('');
  for (const c of shown) lines.push(...transcript(c, width), '');
  if (shown.length < r.calls.length) lines.push(`(transcripts of the first ${shown.length} of ${r.calls.length} calls shown)`, '');

  const all = (f: (c: DemoCallReport) => readonly number[]) => r.calls.flatMap((c) => [...f(c)]);
  const series: [string, number[]][] = [
    ['turn (input → first audio queued)', all((c) => c.turnMs)],
    ['responder (first text)', all((c) => c.responderMs)],
    ['tts per turn', all((c) => c.ttsMs)],
  ];
  const e2e = all((c) => c.e2eMs ?? []);
  if (e2e.length > 0) series.push(['end to end (caller → first agent frame)', e2e]);
  const widths = [40, 5, 10, 10, 10];
  lines.push(row(['latency', 'n', 'p50', 'p95', 'max'], widths));
  for (const [name, values] of series) {
    const p = percentiles(values);
    lines.push(row([name, String(p.n), ms(p.p50), ms(p.p95), ms(p.max)], widths));
  }
  lines.push('');
  const sum = (f: (c: DemoCallReport) => number) => r.calls.reduce((s, c) => s + f(c), 0);
  const cache = r.ttsCache ? `  ·  tts cache ${r.ttsCache.hits}/${r.ttsCache.hits + r.ttsCache.misses} hits` : '';
  lines.push(`barge-ins ${sum((c) => c.bargeIns)}  ·  fillers ${sum((c) => c.fillers)}  ·  fallbacks ${sum((c) => c.fallbacks)}${cache}`);
  return lines.join('\n');
}
