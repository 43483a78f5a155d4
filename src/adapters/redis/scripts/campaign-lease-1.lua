-- campaignLease: claims, renews or releases the lease of one campaign (the replica that drives it).
-- KEYS[1] lease STRING (owner id)
-- ARGV[1] owner id  ARGV[2] lease TTL ms  ARGV[3] 'hold' (claim or renew) | 'release'
-- returns code: 1 renewed (held by ARGV[1]), 2 claimed (was free), 0 another owner holds it,
-- 3 released (or already free)
local cur = redis.call('GET', KEYS[1])
if ARGV[3] == 'release' then
  if cur == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 3
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 2
