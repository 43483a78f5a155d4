-- holdEvent: parks an event for a call that has no live owner, unless an owner appeared meanwhile.
-- KEYS[1] pending LIST (envelope JSON, oldest first)  KEYS[2] owner STRING ("<fence>:<owner>")
-- ARGV[1] envelope JSON  ARGV[2] max events kept  ARGV[3] TTL seconds  ARGV[4] owner known dead ('' for none)
-- returns {code 0, held 1|0, owner ('' when held)}: held 0 means "publish to this owner instead"
local cur = redis.call('GET', KEYS[2])
if cur then
  local owner = string.match(cur, '^%d+:(.*)$')
  if owner ~= ARGV[4] then return {0, 0, owner} end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {0, 1, ''}
