// Coalesces document creates into Cosmos bulk requests: the creates asked for within one turn of the
// event loop (the archiver handles a burst of received messages in one turn) leave together as one
// `items.bulk` call instead of one HTTP request each. Each caller still gets its own outcome: the
// status of its own operation, or the error of the whole request. Bounded: at most `maxOps` operations
// and about `maxBytes` of documents per request; the caller decides which documents are small enough.
// The SDK reports a failed bulk request as a plain Error (its status and retry-after are lost) and an
// operation's failure as a bare status: callers redo such a create on their own to learn the details.
import type { Container, CreateOperationInput, JSONObject, OperationInput, OperationResponse } from '@azure/cosmos';

export interface BulkCreatorConfig {
  /** Operations per bulk request (the SDK's limit is 100). */
  readonly maxOps: number;
  /** Approximate JSON bytes per bulk request (Cosmos caps a request at 2 MB). */
  readonly maxBytes: number;
}

export const DEFAULT_BULK_CREATOR: BulkCreatorConfig = { maxOps: 50, maxBytes: 1024 * 1024 };

interface Pending {
  readonly op: OperationInput;
  readonly bytes: number;
  resolve(status: number): void;
  reject(err: unknown): void;
}

export class BulkCreator {
  #batch: Pending[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(
    private readonly container: Container,
    private readonly cfg: BulkCreatorConfig = DEFAULT_BULK_CREATOR,
    /** Called with the operation count of each bulk request sent (the batch-size metric). */
    private readonly onBatch?: (ops: number) => void,
  ) {}

  /**
   * Creates `body` (partition key `partitionKey`) in the next bulk request. Resolves with the
   * operation's status code (0 when the response lacks it); rejects with the request's own error.
   */
  create(body: Record<string, unknown>, partitionKey: string, bytes: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.#batch.length >= this.cfg.maxOps || (this.#batch.length > 0 && this.#bytes + bytes > this.cfg.maxBytes)) this.#flush();
      const op: CreateOperationInput = { operationType: 'Create', partitionKey, resourceBody: body as JSONObject };
      this.#batch.push({ op, bytes, resolve, reject });
      this.#bytes += bytes;
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#bytes = 0;
    this.onBatch?.(batch.length);
    this.container.items.bulk(
      batch.map((p) => p.op),
      { continueOnError: true },
    ).then(
      (results: OperationResponse[]) => {
        batch.forEach((p, i) => p.resolve(results[i]?.statusCode ?? 0));
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
