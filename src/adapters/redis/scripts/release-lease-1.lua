-- releaseLease: deletes a lease unless a newer owner holds it.
-- KEYS[1] owner STRING ("<fence>:<owner>")
-- ARGV[1] fence
-- returns code: 0 released (or already gone), -1 another owner holds it (stale fence)
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local fence = tonumber(string.match(cur, '^(%d+):'))
if fence ~= tonumber(ARGV[1]) then return -1 end
redis.call('DEL', KEYS[1])
return 0
