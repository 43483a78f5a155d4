// How a conversation is stored in Redis, versioned: turns as JSON members of a ZSET scored by seq,
// context as a HASH of JSON values, counters and the schema version in a meta HASH. A later schema
// version adds a migration step here and reads older data through it.
import { voiceError } from '../../domain/errors.js';
import { CONVERSATION_SCHEMA_VERSION, type ConversationState, type Turn } from '../../domain/conversation.js';

/** Turn JSON with `seq` first: append-turn-4.lua rewrites the leading {"seq":N when it re-sequences a turn. */
export function encodeTurn(turn: Turn): string {
  const { seq, ...rest } = turn;
  return JSON.stringify({ seq, ...rest });
}

/** Context patch → script arguments: field, 's' + JSON to set, or 'd' to delete (null). */
export function encodePatch(patch: Readonly<Record<string, unknown>>): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    args.push(k, v === null ? 'd' : `s${JSON.stringify(v)}`);
  }
  return args;
}

function parseTurn(raw: string, version: number): Turn {
  const t = JSON.parse(raw) as Turn;
  // Version 1 is the first stored form; later versions insert their upgrade steps above this line.
  if (version > CONVERSATION_SCHEMA_VERSION) throw voiceError('STATE_SCHEMA', `conversation schema ${version} is newer than ${CONVERSATION_SCHEMA_VERSION}`);
  return t;
}

/** Decodes the getConversation script reply. Version 0 means nothing stored yet. */
export function decodeConversation(callId: string, reply: unknown): ConversationState {
  const [, ctxFlat, hist, count, version] = reply as [number, string[], string[], number, number];
  const v = Number(version) || CONVERSATION_SCHEMA_VERSION;
  if (v > CONVERSATION_SCHEMA_VERSION) throw voiceError('STATE_SCHEMA', `conversation ${callId}: schema ${v} is newer than ${CONVERSATION_SCHEMA_VERSION}`);
  const context: Record<string, unknown> = {};
  for (let i = 0; i + 1 < ctxFlat.length; i += 2) context[ctxFlat[i] as string] = JSON.parse(ctxFlat[i + 1] as string);
  return {
    callId,
    schemaVersion: CONVERSATION_SCHEMA_VERSION,
    context,
    history: hist.map((h) => parseTurn(h, v)),
    turnCount: Number(count),
  };
}
