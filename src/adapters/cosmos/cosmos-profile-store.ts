// Caller profiles in the `profiles` container (id = the caller's number or ACS id, pk /id).
import type { Container } from '@azure/cosmos';
import type { CallerProfile, ProfileStore } from '../../domain/ports.js';
import { isNotFound } from './cosmos-containers.js';

export class CosmosProfileStore implements ProfileStore {
  constructor(private readonly container: Container) {}

  async get(id: string): Promise<CallerProfile | null> {
    try {
      const { resource } = await this.container.item(id, id).read<CallerProfile & Record<string, unknown>>();
      if (!resource) return null;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(resource)) if (!k.startsWith('_')) out[k] = v;
      return out as CallerProfile;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async put(profile: CallerProfile): Promise<void> {
    await this.container.items.upsert({ ...profile });
  }
}
