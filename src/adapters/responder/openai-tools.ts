// Function calling for the cascaded OpenAI responder (openai-responder.ts): the shared tool registry
// offered as chat-completions `tools`, streamed tool-call fragments put back together, and the
// actions a tool asked for (end_call, transfer_to_agent) held per call until the responder yields them.
//
// Streamed shape (openai 6.x types, ChatCompletionChunk.Choice.Delta.ToolCall): each delta carries
// `tool_calls: [{ index, id?, type?, function?: { name?, arguments? } }]`; the id and name come in
// the first fragment of a call, the JSON arguments accrete over later ones, keyed by `index`.
import type { ChatCompletionChunk, ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import type { ToolRegistry } from '../../domain/tools/tool-registry.js';
import type { ToolAction } from '../../domain/tools/builtin-tools.js';

/** Tool rounds (model asks, tools answer) per caller turn; the last request forbids more calls. */
export const MAX_TOOL_ROUNDS = 3;
/** Each tool call's time bound. */
export const TOOL_TIMEOUT_MS = 3000;

export interface AssembledToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** The registry's definitions as chat-completions function tools. */
export function chatTools(registry: ToolRegistry): ChatCompletionFunctionTool[] {
  return registry.definitions().map((d) => ({ type: 'function', function: { name: d.name, description: d.description, parameters: { ...d.parameters } } }));
}

/** Puts streamed tool-call fragments back together, by index. */
export class ToolCallAssembler {
  readonly #calls = new Map<number, { id: string; name: string; args: string[] }>();

  push(deltas: readonly ChatCompletionChunk.Choice.Delta.ToolCall[] | undefined): void {
    for (const d of deltas ?? []) {
      let c = this.#calls.get(d.index);
      if (!c) this.#calls.set(d.index, (c = { id: '', name: '', args: [] }));
      if (d.id) c.id = d.id;
      if (d.function?.name) c.name += d.function.name;
      if (d.function?.arguments) c.args.push(d.function.arguments);
    }
  }

  calls(round: number): AssembledToolCall[] {
    return [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, c]) => ({ id: c.id || `call_r${round}_${i}`, name: c.name, arguments: c.args.join('') }));
  }
}

/** end_call / transfer_to_agent asked during a turn, per call, taken by the responder after the tools ran. */
export class PendingToolActions {
  readonly #byCall = new Map<string, ToolAction>();

  set(callId: string, action: ToolAction): void {
    // A transfer outranks a hang-up asked in the same turn.
    if (this.#byCall.get(callId) !== 'transfer') this.#byCall.set(callId, action);
  }

  take(callId: string): ToolAction | null {
    const a = this.#byCall.get(callId) ?? null;
    this.#byCall.delete(callId);
    return a;
  }
}

/** The cascaded responder's tools: the registry and where its actions land. */
export interface ResponderTools {
  readonly registry: ToolRegistry;
  readonly actions: PendingToolActions;
}
