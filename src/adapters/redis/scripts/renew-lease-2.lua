-- renewLease: extends a lease held under the given fencing token, and keeps the call's fence counter
-- alive as long as the lease (so a later acquire always gets a higher fence). A lease that is gone
-- (expired while Redis stalled, flushed, lost in a failover) is re-asserted by its holder, the
-- replica with the live socket, unless a higher fence was handed out since: only a newer owner
-- means the call moved.
-- version: 2
-- KEYS[1] owner STRING ("<fence>:<owner>")  KEYS[2] fence counter
-- ARGV[1] fence  ARGV[2] lease TTL seconds  ARGV[3] fence counter TTL seconds  ARGV[4] owner id
-- returns code: 0 renewed, 1 re-asserted (the lease was gone), -1 another owner holds it or a newer
-- fence was issued (stale fence)
local mine = tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if cur then
  local fence = tonumber(string.match(cur, '^(%d+):'))
  if fence ~= mine then return -1 end
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
  return 0
end
local top = tonumber(redis.call('GET', KEYS[2]) or '0')
if top > mine then return -1 end
redis.call('SET', KEYS[1], mine .. ':' .. ARGV[4], 'EX', tonumber(ARGV[2]))
redis.call('SET', KEYS[2], mine, 'EX', tonumber(ARGV[3]))
return 1
