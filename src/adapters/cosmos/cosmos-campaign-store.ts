// Campaigns in Cosmos DB (issue 18 item 5): the durable state a replica resumes from. One document
// per campaign (partition /id) holding the spec, the status and every target's state and attempts
// (200 targets ≈ 25 KB; the 2 MB item limit bounds a campaign to tens of thousands of targets).
// Each save upserts the whole document; saves of one campaign are serialized by its scheduler.
import type { Container } from '@azure/cosmos';
import type { Campaign, CampaignStatus } from '../../domain/campaign.js';
import type { CampaignStore } from '../../domain/campaign-scheduler.js';
import { isNotFound } from './cosmos-containers.js';

interface CampaignDoc extends Campaign {
  readonly id: string;
}

export class CosmosCampaignStore implements CampaignStore {
  constructor(private readonly container: Container) {}

  async load(id: string): Promise<Campaign | null> {
    try {
      const { resource } = await this.container.item(id, id).read<CampaignDoc>();
      if (!resource) return null;
      return { spec: resource.spec, status: resource.status, targets: resource.targets, createdAt: resource.createdAt, updatedAt: resource.updatedAt };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async save(c: Campaign): Promise<void> {
    const doc: CampaignDoc = { id: c.spec.id, spec: c.spec, status: c.status, targets: c.targets, createdAt: c.createdAt, updatedAt: c.updatedAt };
    await this.container.items.upsert(doc);
  }

  /** Ids of campaigns still to drive (running or paused): what a replica looks at to take over. */
  async unfinished(): Promise<string[]> {
    const statuses: CampaignStatus[] = ['running', 'paused'];
    const { resources } = await this.container.items
      .query<{ id: string }>({ query: 'SELECT c.id FROM c WHERE c.status = @a OR c.status = @b', parameters: [{ name: '@a', value: statuses[0] as string }, { name: '@b', value: statuses[1] as string }] })
      .fetchAll();
    return resources.map((r) => r.id);
  }
}
