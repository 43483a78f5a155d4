-- rateLimit: fixed-window counter; admits at most ARGV[1] hits per window of ARGV[2] seconds.
-- KEYS[1] window counter STRING
-- ARGV[1] limit  ARGV[2] window (TTL) seconds
-- returns {code, hits}: code 0 admitted, -4 over the limit
local hits = redis.call('INCR', KEYS[1])
if hits == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])) end
if hits > tonumber(ARGV[1]) then return {-4, hits} end
return {0, hits}
