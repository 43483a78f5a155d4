-- updateContext: applies a patch to a call's context (set or delete fields) and refreshes its TTL.
-- KEYS[1] context HASH (field = JSON value)
-- ARGV[1] TTL seconds, then pairs: ARGV[2k] field, ARGV[2k+1] 's' .. JSON to set, or 'd' to delete
-- returns {code 0, fields now held}
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local op = ARGV[i + 1]
  if string.sub(op, 1, 1) == 'd' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], string.sub(op, 2))
  end
end
redis.call('EXPIRE', KEYS[1], ttl)
return {0, redis.call('HLEN', KEYS[1])}
