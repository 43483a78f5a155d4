// The cold copies of hot Redis counters (issue 18 item 6, "TTL-based migration"), in the `analytics`
// container: one document per counter hash, `hot:<kind>:<name>` in partition `hot|<kind>`. Hot
// counters only grow, so a copy never goes back: a snapshot with fewer calls than the stored one
// (an older read by another replica landing late) is dropped ('stale'); the replace is conditional
// on the etag read (412: another replica wrote meanwhile → compared again, once).
import type { Container } from '@azure/cosmos';
import { isConflict, isNotFound } from './cosmos-containers.js';

import type { ColdCounters, SaveResult } from '../../domain/analytics/hot-counters.js';

interface HotCounterDocument {
  readonly id: string;
  readonly pk: string;
  readonly kind: 'hot-counter';
  readonly counter: string;
  readonly name: string;
  readonly fields: Record<string, number>;
  readonly compactedAt: number;
  readonly _etag?: string;
}

const same = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

export class CosmosHotCounterArchive implements ColdCounters {
  constructor(private readonly container: Container) {}

  async save(counter: string, name: string, fields: Readonly<Record<string, number>>, at: number): Promise<SaveResult> {
    const id = `hot:${counter}:${name}`;
    const pk = `hot|${counter}`;
    const doc: HotCounterDocument = { id, pk, kind: 'hot-counter', counter, name, fields: { ...fields }, compactedAt: at };
    for (let attempt = 0; ; attempt++) {
      let stored: HotCounterDocument | undefined;
      try {
        stored = (await this.container.item(id, pk).read<HotCounterDocument>()).resource;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      try {
        if (!stored) {
          await this.container.items.create(doc);
          return 'written';
        }
        if (same(stored.fields, fields)) return 'unchanged';
        if ((stored.fields.calls ?? 0) > (fields.calls ?? 0)) return 'stale';
        await this.container.item(id, pk).replace(doc, stored._etag ? { accessCondition: { type: 'IfMatch', condition: stored._etag } } : {});
        return 'written';
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt > 0 || !(isConflict(err) || code === 412)) throw err;
      }
    }
  }

  async load(counter: string, name: string): Promise<{ fields: Record<string, number>; compactedAt: number } | null> {
    try {
      const { resource } = await this.container.item(`hot:${counter}:${name}`, `hot|${counter}`).read<HotCounterDocument>();
      return resource ? { fields: resource.fields, compactedAt: resource.compactedAt } : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}
