-- renewCallSlots: extends the leases of one replica's live calls in one slots ZSET; a member that is
-- gone (released, or expired) is not brought back.
-- KEYS[1] slots ZSET (member = reservation or call, score = lease expiry ms)
-- ARGV[1] lease ms  ARGV[2..n] members
-- returns {code 0, renewed, in use}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[i])
end
redis.call('EXPIRE', KEYS[1], math.ceil(lease / 1000) + 1)
return {0, renewed, redis.call('ZCARD', KEYS[1])}
