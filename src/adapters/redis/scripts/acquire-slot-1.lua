-- acquireSlot: takes one of ARGV[1] concurrency slots for holder ARGV[2]; slots expire unless renewed.
-- KEYS[1] slots ZSET (member = holder, score = expiry epoch ms)
-- ARGV[1] limit  ARGV[2] holder  ARGV[3] now epoch ms  ARGV[4] slot TTL seconds
-- returns {code, slots in use}: code 0 acquired (or renewed), -5 none free
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZSCORE', KEYS[1], ARGV[2])
local used = redis.call('ZCARD', KEYS[1])
if not held and used >= tonumber(ARGV[1]) then return {-5, used} end
redis.call('ZADD', KEYS[1], now + ttl * 1000, ARGV[2])
redis.call('EXPIRE', KEYS[1], ttl)
return {0, redis.call('ZCARD', KEYS[1])}
