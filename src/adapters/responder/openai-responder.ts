// Responder over OpenAI / Azure OpenAI chat completions, streamed. The SDK client is created in
// src/wiring/clients.ts and passed in. Cancelled through the AbortSignal
// (barge-in, supersede, timeout): the SDK aborts the HTTP request. With tools (openai-tools.ts), a
// reply that asks for tool calls runs them through the registry (bounded, never throwing), yields
// each as a `tool` chunk (a conversation turn), sends the results back as `role: 'tool'` messages
// and streams the next answer, at most MAX_TOOL_ROUNDS rounds per turn.
import type OpenAI from 'openai';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Responder, ResponderChunk, ResponderInput } from '../../domain/ports.js';
import type { Turn } from '../../domain/conversation.js';
import { voiceError } from '../../domain/errors.js';
import { chatTools, MAX_TOOL_ROUNDS, ToolCallAssembler, type AssembledToolCall, type ResponderTools } from './openai-tools.js';

export const DEFAULT_SYSTEM_PROMPT =
  'You are a friendly, concise phone agent. Answer in one to three short spoken sentences, no markdown, ' +
  'no lists. If you do not know, say so and offer to connect the caller to an agent.';
const GREETING_INSTRUCTION = 'The caller has just connected. Greet them briefly (by name if known) and ask how you can help.';

export interface OpenAIResponderOptions {
  /** Model name (OpenAI) or deployment name (Azure OpenAI). */
  readonly model: string;
  readonly systemPrompt: string | undefined;
  readonly timeoutMs: number;
  /** History budget in approximate tokens (chars / 4). */
  readonly historyTokenBudget: number;
}

export type ChatClient = Pick<OpenAI, 'chat'>;

/** The SDK client with the model it serves (built in src/wiring/clients.ts). */
export interface OpenAIClientHandle {
  readonly client: OpenAI;
  /** Model (OpenAI) or deployment (Azure OpenAI) to request. */
  readonly model: string;
  readonly kind: 'openai' | 'azure';
}

/** Approximate token count: characters / 4, rounded up. */
export function approxTokens(s: string): number {
  return Math.ceil(s.length / 4);
}

/** The newest turns whose text fits the budget, oldest first. */
export function trimHistory(history: readonly Turn[], budget: number): Turn[] {
  const kept: Turn[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const t = history[i]!;
    const cost = approxTokens(t.text) + 4;
    if (used + cost > budget) break;
    used += cost;
    kept.push(t);
  }
  return kept.reverse();
}

export function contextNote(ctx: Readonly<Record<string, unknown>>): string | null {
  const profile = (ctx['profile'] ?? {}) as { name?: unknown };
  const parts: string[] = [];
  if (typeof profile.name === 'string') parts.push(`Caller name: ${profile.name}.`);
  if (ctx['verified'] === true) parts.push('The caller is verified.');
  return parts.length > 0 ? parts.join(' ') : null;
}

export function buildMessages(input: ResponderInput, opts: Pick<OpenAIResponderOptions, 'systemPrompt' | 'historyTokenBudget'>): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: opts.systemPrompt ?? DEFAULT_SYSTEM_PROMPT }];
  const note = contextNote(input.state.context);
  if (note) messages.push({ role: 'system', content: note });
  const turns = trimHistory(input.state.history.filter((t) => t.speaker !== 'system' && t.speaker !== 'tool'), opts.historyTokenBudget);
  for (const t of turns) {
    const content = t.speaker === 'assistant' && t.interrupted ? `${t.text} [interrupted by the caller]` : t.text;
    messages.push({ role: t.speaker === 'assistant' ? 'assistant' : 'user', content });
  }
  if (input.input.text === '') {
    messages.push({ role: 'system', content: GREETING_INSTRUCTION });
  } else {
    const last = turns[turns.length - 1];
    const alreadyThere = last !== undefined && last.speaker === 'user' && (last.text === input.input.text || input.input.kind === 'dtmf');
    if (!alreadyThere) messages.push({ role: 'user', content: input.input.kind === 'dtmf' ? '[keypad input]' : input.input.text });
  }
  return messages;
}

export class OpenAIResponder implements Responder {
  readonly name = 'openai';

  constructor(
    private readonly deps: { client: ChatClient; tools?: ResponderTools | null },
    private readonly opts: OpenAIResponderOptions,
  ) {}

  async *respond(input: ResponderInput, signal: AbortSignal): AsyncIterable<ResponderChunk> {
    const messages = buildMessages(input, this.opts);
    const tools = this.deps.tools && this.deps.tools.registry.size > 0 ? this.deps.tools : null;
    const offered = tools ? chatTools(tools.registry) : null;
    try {
      for (let round = 0; ; round++) {
        const last = round >= MAX_TOOL_ROUNDS;
        const assembler = new ToolCallAssembler();
        let text = '';
        for await (const piece of this.#stream(messages, offered, last, signal, assembler)) {
          text += piece;
          yield { type: 'text', text: piece };
        }
        const calls = tools && !last ? assembler.calls(round).filter((c) => c.name !== '') : [];
        if (!tools || calls.length === 0) return;
        messages.push({ role: 'assistant', content: text || null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) });
        for (const c of calls) {
          const out = await this.#runTool(tools, input, c);
          yield { type: 'tool', record: out.record };
          messages.push({ role: 'tool', tool_call_id: c.id, content: out.output });
        }
        signal.throwIfAborted();
        const action = tools.actions.take(input.callId);
        if (action) yield { type: 'action', action };
      }
    } finally {
      // An action not yielded (the turn was cut: barge-in, supersede, timeout) is dropped, as the
      // caller did not hear the reply that announced it.
      tools?.actions.take(input.callId);
    }
  }

  /** One registry call; the registry bounds it in time and turns any failure into an error result. */
  async #runTool(tools: ResponderTools, input: ResponderInput, c: AssembledToolCall): Promise<{ output: string; record: string }> {
    try {
      return await tools.registry.call(c.name, c.arguments, { callId: input.callId, state: input.state });
    } catch {
      return { output: JSON.stringify({ error: 'tool failed' }), record: `${c.name}(…) -> tool failed` };
    }
  }

  /** One streamed completion: yields text; tool-call fragments go to the assembler. */
  async *#stream(messages: ChatCompletionMessageParam[], tools: ChatCompletionFunctionTool[] | null, last: boolean, signal: AbortSignal, assembler: ToolCallAssembler): AsyncIterable<string> {
    let stream;
    try {
      stream = await this.deps.client.chat.completions.create(
        { model: this.opts.model, messages, stream: true, ...(tools ? { tools, tool_choice: last ? ('none' as const) : ('auto' as const) } : {}) },
        { signal, timeout: this.opts.timeoutMs, maxRetries: 0 },
      );
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw voiceError('RESPONDER', 'chat completion request failed', err);
    }
    try {
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        if (delta?.tool_calls) assembler.push(delta.tool_calls);
        if (delta?.content) yield delta.content;
      }
      // The SDK ends the iteration quietly when aborted; a cut-short reply must not look complete.
      signal.throwIfAborted();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw voiceError('RESPONDER', 'chat completion stream failed', err);
    } finally {
      stream.controller.abort();
    }
  }
}
