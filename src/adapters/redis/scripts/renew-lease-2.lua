-- renewLease: extends a lease only if it is still held under the given fencing token, and keeps the
-- call's fence counter alive as long as the lease (so a later acquire always gets a higher fence).
-- KEYS[1] owner STRING ("<fence>:<owner>")  KEYS[2] fence counter
-- ARGV[1] fence  ARGV[2] lease TTL seconds  ARGV[3] fence counter TTL seconds
-- returns code: 0 renewed, -1 a newer owner holds it (stale fence), -3 the lease is gone
local cur = redis.call('GET', KEYS[1])
if not cur then return -3 end
local fence = tonumber(string.match(cur, '^(%d+):'))
if fence ~= tonumber(ARGV[1]) then return -1 end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 0
