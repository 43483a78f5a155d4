-- appendTurn: stores one turn of a call, idempotent by seq; keeps the newest ARGV[3] turns; refreshes TTLs.
-- KEYS[1] history ZSET (member = turn JSON, score = seq)
-- KEYS[2] meta HASH (v = schema version, count = turns ever stored, floor = highest trimmed seq)
-- ARGV[1] seq  ARGV[2] turn JSON  ARGV[3] max turns kept  ARGV[4] TTL seconds  ARGV[5] writer schema version
-- returns {code, stored 0|1, count}: code 0 ok, -2 stored data has a newer schema version
local seq = tonumber(ARGV[1])
local writer = tonumber(ARGV[5])
local v = tonumber(redis.call('HGET', KEYS[2], 'v') or writer)
if v > writer then return {-2, 0, 0} end
local count = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
local floor = tonumber(redis.call('HGET', KEYS[2], 'floor') or '0')
local stored = 0
if seq > floor and redis.call('ZCOUNT', KEYS[1], seq, seq) == 0 then
  redis.call('ZADD', KEYS[1], seq, ARGV[2])
  count = count + 1
  stored = 1
  local size = redis.call('ZCARD', KEYS[1])
  local excess = size - tonumber(ARGV[3])
  if excess > 0 then
    local cut = redis.call('ZRANGE', KEYS[1], excess - 1, excess - 1, 'WITHSCORES')
    local cutSeq = tonumber(cut[2])
    if cutSeq > floor then floor = cutSeq end
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
  end
  redis.call('HSET', KEYS[2], 'v', v, 'count', count, 'floor', floor)
end
local ttl = tonumber(ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
return {0, stored, count}
