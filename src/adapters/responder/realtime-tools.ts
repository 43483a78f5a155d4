// Session instructions and tool calls of a realtime session (realtime-bridge.ts).
import type { ConversationState } from '../../domain/conversation.js';
import type { ConversationStore } from '../../domain/ports.js';
import type { ToolOutcome, ToolRegistry } from '../../domain/tools/tool-registry.js';
import { contextNote, DEFAULT_SYSTEM_PROMPT } from './openai-responder.js';

/** SYSTEM_PROMPT (or the default) and what the context says about the caller (name, verified, language). */
export function sessionInstructions(systemPrompt: string | undefined, state: ConversationState | null): string {
  const parts = [systemPrompt ?? DEFAULT_SYSTEM_PROMPT];
  const note = state ? contextNote(state.context) : null;
  if (note) parts.push(note);
  const lang = state?.context['language'];
  if (typeof lang === 'string') parts.push(`Speak ${lang}.`);
  return parts.join(' ');
}

/** One function call against the registry with the conversation as it stands; never throws. */
export async function runTool(tools: ToolRegistry | null | undefined, conversations: ConversationStore, callId: string, name: string, args: string): Promise<Pick<ToolOutcome, 'ok' | 'output' | 'record'>> {
  if (!tools) return { ok: false, output: JSON.stringify({ error: 'no tools on this call' }), record: `${name}(…) -> no tools` };
  let state: ConversationState;
  try {
    state = await conversations.getState(callId);
  } catch {
    state = { callId, schemaVersion: 1, context: {}, history: [], turnCount: 0 };
  }
  return tools.call(name, args, { callId, state });
}
