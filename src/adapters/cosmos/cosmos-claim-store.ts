// Claim checks: a job too large for one queue message is stored here (gzip, base64) before the
// message that references it is sent, and removed only after the transcript is archived, so the
// payload cannot disappear before it is used (the container has no TTL).
import type { Container } from '@azure/cosmos';
import { isNotFound } from './cosmos-containers.js';

export interface ClaimStore {
  put(id: string, payload: Buffer): Promise<void>;
  get(id: string): Promise<Buffer | null>;
  delete(id: string): Promise<void>;
}

interface ClaimDoc {
  id: string;
  data: string;
  bytes: number;
  createdAt: number;
}

export class CosmosClaimStore implements ClaimStore {
  constructor(private readonly container: Container) {}

  async put(id: string, payload: Buffer): Promise<void> {
    const doc: ClaimDoc = { id, data: payload.toString('base64'), bytes: payload.length, createdAt: Date.now() };
    await this.container.items.upsert(doc);
  }

  async get(id: string): Promise<Buffer | null> {
    try {
      const { resource } = await this.container.item(id, id).read<ClaimDoc>();
      return resource ? Buffer.from(resource.data, 'base64') : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await this.container.item(id, id).delete();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export class MemoryClaimStore implements ClaimStore {
  readonly #m = new Map<string, Buffer>();
  async put(id: string, payload: Buffer): Promise<void> {
    this.#m.set(id, Buffer.from(payload));
  }
  async get(id: string): Promise<Buffer | null> {
    return this.#m.get(id) ?? null;
  }
  async delete(id: string): Promise<void> {
    this.#m.delete(id);
  }
}
