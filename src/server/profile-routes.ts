// Caller profiles for operators: GET /api/profiles/:id (cache-aside read) and PUT /api/profiles/:id
// (writes the store first, then invalidates the cache). Same operator auth as the transcript route.
// A PIN given in a PUT (`pin`, 4-12 digits) is stored only as a salted hash (`pinHash`); neither the
// PIN nor its hash is ever returned — responses say `hasPin` instead. PUT replaces the whole profile.
import type { FastifyPluginAsync } from 'fastify';
import { hashPin, isPinHash } from '../domain/caller-pin.js';
import { voiceError } from '../domain/errors.js';
import type { CallerProfile, ProfileStore } from '../domain/ports.js';
import { operatorAuth } from './operator-auth.js';

const PROFILE_ID = /^[A-Za-z0-9+_.:-]{1,128}$/;
const MAX_PROFILE_BYTES = 16 * 1024;
const PIN = /^[0-9]{4,12}$/;

/** What a route may show of a profile: no PIN, no hash. */
export function visibleProfile(p: CallerProfile): Record<string, unknown> {
  const { pin, pinHash, ...rest } = p;
  return { ...rest, hasPin: isPinHash(pinHash) || (typeof pin === 'string' && pin.length > 0) };
}

export function profileRoutes(deps: { profiles: ProfileStore; apiToken: string | undefined }): FastifyPluginAsync {
  const auth = operatorAuth(deps.apiToken);
  return async (app) => {
    app.get<{ Params: { id: string } }>('/api/profiles/:id', { preHandler: auth }, async (req) => {
      if (!PROFILE_ID.test(req.params.id)) throw voiceError('BAD_REQUEST', 'profile id has invalid characters');
      const p = await deps.profiles.get(req.params.id);
      if (!p) throw voiceError('NOT_FOUND', 'no such profile');
      return visibleProfile(p);
    });
    app.put<{ Params: { id: string }; Body: unknown }>('/api/profiles/:id', { preHandler: auth, bodyLimit: MAX_PROFILE_BYTES }, async (req, reply) => {
      const { id } = req.params;
      if (!PROFILE_ID.test(id)) throw voiceError('BAD_REQUEST', 'profile id has invalid characters');
      const body = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw voiceError('BAD_REQUEST', 'profile must be a JSON object');
      const b = body as Record<string, unknown>;
      if (b.id !== undefined && b.id !== id) throw voiceError('BAD_REQUEST', 'body id differs from the path id');
      if (Object.keys(b).some((k) => k.startsWith('_'))) throw voiceError('BAD_REQUEST', 'field names may not start with _');
      if (b.pinHash !== undefined) throw voiceError('BAD_REQUEST', 'pinHash is derived; set pin instead');
      if (b.pin !== undefined && (typeof b.pin !== 'string' || !PIN.test(b.pin))) throw voiceError('BAD_REQUEST', 'pin must be 4 to 12 digits');
      const { pin, ...rest } = b;
      // PUT replaces the profile: a PIN is kept only when the body sets one.
      const pinHash = typeof pin === 'string' ? await hashPin(pin) : undefined;
      const profile: CallerProfile = { ...rest, id, ...(pinHash ? { pinHash } : {}) };
      await deps.profiles.put(profile);
      return reply.code(200).send(visibleProfile(profile));
    });
  };
}
