-- reserveCallSlot: reserves one call slot under the tenant cap, the global cap and the global rate
-- limit, all or nothing, before anything slow is done for the call. Each reservation is a lease: its
-- score is its expiry, so the slots of a replica that dies come back once their leases run out.
-- Time is the server's (TIME), one clock for every replica (Redis 7 replicates script effects, so
-- TIME before a write is allowed: "Scripts with deterministic writes", redis.io/docs/latest/develop/
-- interact/programmability/eval-intro).
-- KEYS[1] tenant slots ZSET (member = reservation, score = lease expiry ms)
-- KEYS[2] global slots ZSET (same shape)   KEYS[3] rate log ZSET (member = reservation, score = admitted at ms)
-- On Redis Cluster the tenant's keys ({tenant id} tag) and the global keys ({global} tag) live in
-- different slots: the caller then runs this script twice, ARGV[7] = 'tenant' with every KEY the
-- tenant's key, then 'global' with every KEY a global key (KEYS[1] = KEYS[2]), and undoes the first
-- part when the second refuses.
-- ARGV[1] member  ARGV[2] tenant cap  ARGV[3] global cap (0 = none)  ARGV[4] rate limit (0 = none)
-- ARGV[5] rate window ms  ARGV[6] lease ms  ARGV[7] part: 'all' | 'tenant' | 'global'
-- returns {code, tenant in use, global in use, retry after ms, server time ms}: code 0 reserved,
-- -5 tenant full, -6 global full, -4 rate limited (retry after = when the oldest permit in the window frees)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local tenantCap = tonumber(ARGV[2])
local globalCap = tonumber(ARGV[3])
local rateLimit = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local lease = tonumber(ARGV[6])
local part = ARGV[7]
local keyTtl = math.ceil(lease / 1000) + 1
local doTenant = part ~= 'global'
local doGlobal = part ~= 'tenant'

local tenantUsed = 0
if doTenant then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  tenantUsed = redis.call('ZCARD', KEYS[1])
  if not redis.call('ZSCORE', KEYS[1], member) and tenantUsed >= tenantCap then return {-5, tenantUsed, 0, 0, now} end
end
local globalUsed = 0
if doGlobal then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  globalUsed = redis.call('ZCARD', KEYS[2])
  if globalCap > 0 and not redis.call('ZSCORE', KEYS[2], member) and globalUsed >= globalCap then return {-6, tenantUsed, globalUsed, 0, now} end
  if rateLimit > 0 and not redis.call('ZSCORE', KEYS[3], member) then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
    if redis.call('ZCARD', KEYS[3]) >= rateLimit then
      local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
      local after = window
      if oldest[2] then after = tonumber(oldest[2]) + window - now end
      return {-4, tenantUsed, globalUsed, after, now}
    end
    redis.call('ZADD', KEYS[3], now, member)
    redis.call('PEXPIRE', KEYS[3], window + 1000)
  end
  redis.call('ZADD', KEYS[2], now + lease, member)
  redis.call('EXPIRE', KEYS[2], keyTtl)
  globalUsed = redis.call('ZCARD', KEYS[2])
end
if doTenant then
  redis.call('ZADD', KEYS[1], now + lease, member)
  redis.call('EXPIRE', KEYS[1], keyTtl)
  tenantUsed = redis.call('ZCARD', KEYS[1])
end
return {0, tenantUsed, globalUsed, 0, now}
