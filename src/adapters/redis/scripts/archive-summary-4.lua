-- archiveSummary: stores an archived call's summary and lets its conversation keys expire early.
-- KEYS[1] call summary STRING, KEYS[2..4] the call's conversation context, history and meta keys
-- ARGV[1] summary JSON, ARGV[2] summary TTL seconds, ARGV[3] archived-conversation TTL seconds
-- returns {code 0, conversation keys whose TTL was shortened}
-- A conversation key keeps its TTL when that is already shorter; a missing key stays missing.
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local ttl = tonumber(ARGV[3])
local shortened = 0
for i = 2, #KEYS do
  local left = redis.call('TTL', KEYS[i])
  if left == -1 or left > ttl then
    redis.call('EXPIRE', KEYS[i], ttl)
    shortened = shortened + 1
  end
end
return {0, shortened}
