// The hot side of campaigns in Redis (issue 18 item 5): the lease that says which replica drives a
// campaign (campaign-lease-1.lua: claim / renew / release in one script), the status route's 30 s
// cache (deleted whenever the campaign's durable state changes), hot counters (HINCRBY + EXPIRE in
// one pipeline) and a pending pause / resume / cancel asked on another replica. Every key has a TTL.
import type { CampaignHot, LeaseResult } from '../../domain/campaign-hot.js';
import type { TtlPolicy } from '../../config.js';
import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import type { RedisScripts } from './scripts.js';
import { ttlFor } from './ttl-policy.js';

export const CAMPAIGN_STATUS_TTL_S = 30;

const LEASE: Record<number, LeaseResult> = { 0: 'taken', 1: 'held', 2: 'claimed', 3: 'released' };

export class RedisCampaignHot implements CampaignHot {
  constructor(private readonly deps: { client: RedisClient; scripts: RedisScripts; keys: RedisKeys; ttl: TtlPolicy }) {}

  async lease(campaignId: string, owner: string, ttlMs: number, mode: 'hold' | 'release'): Promise<LeaseResult> {
    const code = await this.deps.scripts.run('campaignLease', [this.deps.keys.campaignLease(campaignId)], [owner, Math.max(1, Math.round(ttlMs)), mode]);
    return LEASE[Number(code)] ?? 'taken';
  }

  async cachedStatus(campaignId: string): Promise<string | null> {
    return this.deps.client.get(this.deps.keys.campaignStatus(campaignId));
  }

  async cacheStatus(campaignId: string, json: string): Promise<void> {
    await this.deps.client.set(this.deps.keys.campaignStatus(campaignId), json, 'EX', Math.min(CAMPAIGN_STATUS_TTL_S, ttlFor(this.deps.ttl, 'campaignStatus')));
  }

  async invalidate(campaignId: string): Promise<void> {
    await this.deps.client.del(this.deps.keys.campaignStatus(campaignId));
  }

  async count(campaignId: string, field: string): Promise<void> {
    const key = this.deps.keys.campaignCounters(campaignId);
    await this.deps.client.multi().hincrby(key, field, 1).expire(key, ttlFor(this.deps.ttl, 'campaignCounters')).exec();
  }

  async counters(campaignId: string): Promise<Record<string, number>> {
    const raw = await this.deps.client.hgetall(this.deps.keys.campaignCounters(campaignId));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async requestControl(campaignId: string, action: string): Promise<void> {
    await this.deps.client.set(this.deps.keys.campaignControl(campaignId), action, 'EX', ttlFor(this.deps.ttl, 'campaignControl'));
  }

  async takeControl(campaignId: string): Promise<string | null> {
    return this.deps.client.getdel(this.deps.keys.campaignControl(campaignId));
  }
}
