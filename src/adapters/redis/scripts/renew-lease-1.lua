-- renewLease: extends a lease only if it is still held under the given fencing token.
-- KEYS[1] owner STRING ("<fence>:<owner>")
-- ARGV[1] fence  ARGV[2] lease TTL seconds
-- returns code: 0 renewed, -1 a newer owner holds it (stale fence), -3 the lease is gone
local cur = redis.call('GET', KEYS[1])
if not cur then return -3 end
local fence = tonumber(string.match(cur, '^(%d+):'))
if fence ~= tonumber(ARGV[1]) then return -1 end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 0
