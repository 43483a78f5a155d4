// In-process archive store and profile store (tests and single-replica runs without Cosmos).
import type { TranscriptDocument } from '../../domain/archive-job.js';
import type { ArchiveStore, CallerProfile, ProfileStore } from '../../domain/ports.js';

export class MemoryArchiveStore implements ArchiveStore {
  readonly #docs = new Map<string, TranscriptDocument>();
  /** Upserts seen, including repeats: lets tests assert idempotency. */
  upserts = 0;

  async upsertTranscript(doc: TranscriptDocument): Promise<void> {
    this.upserts++;
    this.#docs.set(doc.id, structuredClone(doc));
  }

  async getTranscript(callId: string): Promise<TranscriptDocument | null> {
    const d = this.#docs.get(callId);
    return d ? structuredClone(d) : null;
  }

  get size(): number {
    return this.#docs.size;
  }
}

export class MemoryProfileStore implements ProfileStore {
  readonly #profiles = new Map<string, CallerProfile>();

  async get(id: string): Promise<CallerProfile | null> {
    const p = this.#profiles.get(id);
    return p ? structuredClone(p) : null;
  }

  async put(profile: CallerProfile): Promise<void> {
    this.#profiles.set(profile.id, structuredClone(profile));
  }
}
