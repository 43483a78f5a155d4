-- getConversation: a call's context, history and counters in one round trip (reads refresh nothing).
-- KEYS[1] context HASH (field = JSON value)  KEYS[2] history ZSET  KEYS[3] meta HASH
-- ARGV: none
-- returns {code 0, context flat [field, json, ...], history [turn JSON, ...] oldest first, count, schema version (0 = none)}
local ctx = redis.call('HGETALL', KEYS[1])
local hist = redis.call('ZRANGE', KEYS[2], 0, -1)
local meta = redis.call('HMGET', KEYS[3], 'count', 'v')
return {0, ctx, hist, tonumber(meta[1] or '0'), tonumber(meta[2] or '0')}
