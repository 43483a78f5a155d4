// Tools (function calling) a model may call during a call: a small typed registry. A call is
// time-bounded and never throws: a failing, slow or unknown tool answers the model with an error
// object, so the conversation goes on. Definitions are offered to the model as JSON-schema functions
// (the realtime session's `tools`, the chat completions `tools`).
import type { ConversationState } from '../conversation.js';

export interface ToolContext {
  readonly callId: string;
  readonly state: ConversationState;
}

export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  /** JSON schema of the arguments object. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Arguments that must never be stored or logged (a PIN). */
  readonly secretArgs?: readonly string[];
  run(args: Readonly<Record<string, unknown>>, ctx: ToolContext, signal: AbortSignal): Promise<Readonly<Record<string, unknown>>>;
}

export interface ToolOutcome {
  readonly ok: boolean;
  /** JSON text for the model (function_call_output.output). */
  readonly output: string;
  /** What the conversation keeps: name, arguments with secrets masked, result. */
  readonly record: string;
  readonly ms: number;
}

export class ToolRegistry {
  readonly #tools = new Map<string, ToolDefinition>();

  constructor(
    tools: readonly ToolDefinition[],
    private readonly timeoutMs: number,
  ) {
    for (const t of tools) this.#tools.set(t.name, t);
  }

  get size(): number {
    return this.#tools.size;
  }

  /** As realtime session `tools` (type function, name, description, parameters). */
  definitions(): { type: 'function'; name: string; description: string; parameters: Readonly<Record<string, unknown>> }[] {
    return [...this.#tools.values()].map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters }));
  }

  async call(name: string, argsJson: string, ctx: ToolContext, now: () => number = () => performance.now()): Promise<ToolOutcome> {
    const t0 = now();
    const tool = this.#tools.get(name);
    let args: Record<string, unknown> = {};
    try {
      const v: unknown = argsJson ? JSON.parse(argsJson) : {};
      if (v && typeof v === 'object' && !Array.isArray(v)) args = v as Record<string, unknown>;
    } catch {
      return this.#outcome(name, {}, tool, { error: 'arguments are not valid JSON' }, false, t0, now);
    }
    if (!tool) return this.#outcome(name, args, tool, { error: `unknown tool '${name}'` }, false, t0, now);
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const timeout = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`timed out after ${this.timeoutMs} ms`)), { once: true }));
      const result = await Promise.race([tool.run(args, ctx, signal), timeout]);
      return this.#outcome(name, args, tool, result, true, t0, now);
    } catch (err) {
      return this.#outcome(name, args, tool, { error: err instanceof Error ? err.message : 'tool failed' }, false, t0, now);
    }
  }

  #outcome(name: string, args: Record<string, unknown>, tool: ToolDefinition | undefined, result: Readonly<Record<string, unknown>>, ok: boolean, t0: number, now: () => number): ToolOutcome {
    const shown: Record<string, unknown> = { ...args };
    for (const k of tool?.secretArgs ?? []) if (k in shown) shown[k] = '***';
    const output = JSON.stringify(result);
    return { ok, output, record: `${name}(${JSON.stringify(shown)}) -> ${output}`, ms: now() - t0 };
  }
}
