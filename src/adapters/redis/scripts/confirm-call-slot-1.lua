-- confirmCallSlot: once ACS accepted the call, its reservation becomes the call's slot: the member
-- is renamed to one naming the call id, with a fresh lease.
-- KEYS[1] slots ZSET (tenant or global; member = reservation or call, score = lease expiry ms)
-- ARGV[1] reservation member  ARGV[2] call member  ARGV[3] lease ms
-- returns {code, in use}: code 0 confirmed (or already), -3 the reservation had expired (the call is
-- live, so its slot is taken back anyway; the caller counts it)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
local code = 0
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 and not redis.call('ZSCORE', KEYS[1], ARGV[2]) then code = -3 end
redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(lease / 1000) + 1)
return {code, redis.call('ZCARD', KEYS[1])}
