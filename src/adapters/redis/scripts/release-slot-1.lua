-- releaseSlot: frees the holder's concurrency slot.
-- KEYS[1] slots ZSET (member = holder, score = expiry epoch ms)
-- ARGV[1] holder
-- returns {code 0, slots in use}
redis.call('ZREM', KEYS[1], ARGV[1])
return {0, redis.call('ZCARD', KEYS[1])}
