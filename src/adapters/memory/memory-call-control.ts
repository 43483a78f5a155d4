// A CallControl that records what it was asked to do. For unit tests of the call state machine and
// turn pipeline; integration tests use the real SDK adapter against the simulator.
import type { AnswerRequest, AnswerResult, CallControl } from '../../domain/ports.js';
import type { TransferRequestOptions, TransferTarget } from '../../domain/transfer-target.js';

export type CallControlOp =
  | { op: 'answer'; req: AnswerRequest }
  | { op: 'hangUp' | 'cancelMedia' | 'startMediaStreaming' | 'stopMediaStreaming' | 'startTranscription' | 'stopTranscription'; callConnectionId: string; operationContext: string }
  | { op: 'playText'; callConnectionId: string; text: string; operationContext: string }
  | { op: 'transfer'; callConnectionId: string; target: TransferTarget; operationContext: string; transfereeRawId: string | null };

export class MemoryCallControl implements CallControl {
  readonly ops: CallControlOp[] = [];
  #next = 1;
  /** Set to make the next answer() reject with this error. */
  failNextAnswer: Error | null = null;
  /** Set to make the next transfer() reject with this error (the request itself fails, no callback follows). */
  failNextTransfer: Error | null = null;

  async answer(req: AnswerRequest): Promise<AnswerResult> {
    this.ops.push({ op: 'answer', req });
    if (this.failNextAnswer) {
      const e = this.failNextAnswer;
      this.failNextAnswer = null;
      throw e;
    }
    const id = `mem-conn-${this.#next++}`;
    return { callConnectionId: id, serverCallId: `srv-${id}`, correlationId: `corr-${id}` };
  }
  async hangUp(callConnectionId: string, operationContext: string): Promise<void> {
    this.ops.push({ op: 'hangUp', callConnectionId, operationContext });
  }
  async playText(callConnectionId: string, text: string, opts: { operationContext: string }): Promise<void> {
    this.ops.push({ op: 'playText', callConnectionId, text, operationContext: opts.operationContext });
  }
  async cancelMedia(callConnectionId: string, operationContext: string): Promise<void> {
    this.ops.push({ op: 'cancelMedia', callConnectionId, operationContext });
  }
  async startMediaStreaming(callConnectionId: string, operationContext: string): Promise<void> {
    this.ops.push({ op: 'startMediaStreaming', callConnectionId, operationContext });
  }
  async stopMediaStreaming(callConnectionId: string, operationContext: string): Promise<void> {
    this.ops.push({ op: 'stopMediaStreaming', callConnectionId, operationContext });
  }
  async startTranscription(callConnectionId: string, operationContext: string): Promise<void> {
    this.ops.push({ op: 'startTranscription', callConnectionId, operationContext });
  }
  async stopTranscription(callConnectionId: string, operationContext: string): Promise<void> {
    this.ops.push({ op: 'stopTranscription', callConnectionId, operationContext });
  }
  async transfer(callConnectionId: string, target: TransferTarget, opts: TransferRequestOptions): Promise<void> {
    this.ops.push({ op: 'transfer', callConnectionId, target, operationContext: opts.operationContext, transfereeRawId: opts.transfereeRawId });
    if (this.failNextTransfer) {
      const e = this.failNextTransfer;
      this.failNextTransfer = null;
      throw e;
    }
  }
}
