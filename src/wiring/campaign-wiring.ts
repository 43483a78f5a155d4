// Wires outbound campaigns (issue 18 item 5): the Cosmos campaign container (durable state), the hot
// side (Redis when the state is there, else in process), the dialer on the inbound call path (same
// supervisor, callbacks, media socket, conversation loop and archive), the admission's slots, the
// service's lease loop, and the operator routes.
import type { CosmosClient } from '@azure/cosmos';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import { ensureCampaignContainer } from '../adapters/cosmos/cosmos-containers.js';
import { CosmosCampaignStore } from '../adapters/cosmos/cosmos-campaign-store.js';
import { RedisCampaignHot } from '../adapters/redis/redis-campaign-hot.js';
import type { RedisClient } from '../adapters/redis/redis-client.js';
import { MemoryCampaignHot } from '../domain/campaign-hot.js';
import type { CallSupervisor } from '../domain/call-lifecycle.js';
import type { CallRegistry } from '../domain/live-call.js';
import type { CallControl, Clock, SessionStore } from '../domain/ports.js';
import { tenantResolver } from '../domain/tenants.js';
import type { Logger } from '../logger.js';
import type { CallAdmission } from '../server/call-admission.js';
import { campaignRoutes } from '../server/campaign-routes.js';
import { CampaignService } from '../server/campaign-service.js';
import type { Lifecycle } from '../server/lifecycle.js';
import { createOutboundDialer } from '../server/outbound-dialer.js';
import type { RedisState } from './redis-wiring.js';

export async function wireCampaigns(deps: {
  config: Config;
  log: Logger;
  clock: Clock;
  lifecycle: Lifecycle;
  routes: FastifyPluginAsync[];
  cosmos: CosmosClient;
  redis: { client: RedisClient; state: RedisState } | null;
  admission: CallAdmission;
  supervisor: CallSupervisor;
  calls: CallRegistry;
  sessions: SessionStore;
  control: CallControl;
}): Promise<CampaignService> {
  const { config } = deps;
  const log = deps.log.child({ component: 'campaigns' });
  const store = new CosmosCampaignStore(await ensureCampaignContainer(deps.cosmos, config.cosmos.database));
  const hot = deps.redis
    ? new RedisCampaignHot({ client: deps.redis.client, scripts: deps.redis.state.scripts, keys: deps.redis.state.keys, ttl: config.ttl })
    : new MemoryCampaignHot(() => deps.clock.now());
  const callerId = config.admission.outboundCallerId;
  const dialer = createOutboundDialer(
    { sessions: deps.sessions, control: deps.control, supervisor: deps.supervisor, registry: deps.calls, onPlaced: (claim, callId) => deps.admission.confirm(claim, callId), now: () => deps.clock.now(), log },
    { publicBaseUrl: config.publicBaseUrl, workerId: config.workerId, audioFormat: config.media.audioFormat, callerId: callerId ?? '' },
  );
  const service = new CampaignService(
    { store, hot, slots: deps.admission, dialer, now: () => deps.clock.now(), log },
    { workerId: config.workerId, leaseMs: config.ttl.lease * 1000 },
  );
  const tenants = tenantResolver(config.admission.tenants);
  deps.routes.push(campaignRoutes({ service, tenants: (id) => tenants.byId(id) !== undefined, apiToken: config.apiToken, enabled: callerId !== null }));
  if (callerId !== null) service.start();
  deps.lifecycle.onDrain('campaigns', () => service.stop());
  return service;
}
