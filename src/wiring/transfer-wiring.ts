// Transfer to a human, wired: one CallTransfer per call whose turn pipeline speaks its lines, the
// configured target (TRANSFER_TARGET), Call Automation and the voice_call_transfers_total counter.
// A realtime bridge or a tool calls `transfers.transfer(callId, { target })`.
import type { Config } from '../config.js';
import { CallTransfers } from '../domain/call-transfer.js';
import type { CallControl } from '../domain/ports.js';
import { counter, type Registry } from '../metrics.js';
import type { ConversationWiring } from './conversation-wiring.js';

/** How long the transferring line may take to play out before the transfer is requested anyway. */
export const TRANSFER_ANNOUNCE_TIMEOUT_MS = 15_000;
/** How long a requested transfer may go unanswered by ACS (a PSTN target rings for a while) before it counts as failed. */
export const TRANSFER_CALLBACK_TIMEOUT_MS = 90_000;

export function wireTransfers(
  deps: { readonly control: CallControl; readonly registry: Registry; readonly conversation: ConversationWiring },
  config: Pick<Config, 'transfer'>,
  opts: { readonly announceTimeoutMs?: number; readonly callbackTimeoutMs?: number } = {},
): CallTransfers {
  const events = counter(deps.registry, 'voice_call_transfers_total', 'Transfers to a human, by step (requested, accepted, failed, no-target)', ['event']);
  const transfers = new CallTransfers(
    { control: deps.control, metrics: { transfer: (event) => events.inc({ event }) } },
    { target: config.transfer.target, announceTimeoutMs: opts.announceTimeoutMs ?? TRANSFER_ANNOUNCE_TIMEOUT_MS, callbackTimeoutMs: opts.callbackTimeoutMs ?? TRANSFER_CALLBACK_TIMEOUT_MS },
  );
  // A realtime bridge has no announce: the model's own reply says it is transferring, and its failure
  // lines come from the model once the call goes on.
  deps.conversation.onPipeline((call, pipeline) => transfers.attach(call, 'announce' in pipeline ? { say: (line) => pipeline.announce(line) } : null));
  return transfers;
}
