-- appendTurn: stores one turn of a call, fenced and idempotent; keeps the newest ARGV[3] turns;
-- refreshes TTLs. The sequence is checked against what is stored: the same turn sent again (an
-- outbox replay) is stored once; a different turn under a seq already taken (a writer that resumed
-- from a stale snapshot) is stored under the next free seq, so no turn is lost. A writer whose fence
-- is not the current owner's (a replica that lost the call) is refused. With ARGV[7] = 1 the reply
-- also carries the conversation as it stands after the append (what getConversation returns), so a
-- turn stores the caller's words and reads what the responder needs in one round trip.
-- version: 3
-- KEYS[1] history ZSET (member = turn JSON, score = seq)
-- KEYS[2] meta HASH (v = schema version, count = turns ever stored, floor = highest trimmed seq, top = highest seq)
-- KEYS[3] owner STRING ("<fence>:<owner>")
-- KEYS[4] context HASH (field = JSON value; only read, with ARGV[7] = 1)
-- ARGV[1] seq  ARGV[2] turn JSON (starts with {"seq":N)  ARGV[3] max turns kept  ARGV[4] TTL seconds
-- ARGV[5] writer schema version  ARGV[6] writer's fence (0 = not checked)  ARGV[7] 1 = return the state too
-- returns {code, stored 0|1, count, seq stored under}, with ARGV[7] = 1 followed by
-- {context flat [field, json, ...], history [turn JSON, ...] oldest first, schema version}:
-- code 0 ok, -1 stale fence, -2 stored data has a newer schema version (nothing read then)
local seq = tonumber(ARGV[1])
local writer = tonumber(ARGV[5])
local fence = tonumber(ARGV[6])
if fence > 0 then
  local cur = redis.call('GET', KEYS[3])
  if cur and tonumber(string.match(cur, '^(%d+):')) ~= fence then return {-1, 0, 0, 0} end
end
local v = tonumber(redis.call('HGET', KEYS[2], 'v') or writer)
if v > writer then return {-2, 0, 0, 0} end
local count = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
local floor = tonumber(redis.call('HGET', KEYS[2], 'floor') or '0')
local top = tonumber(redis.call('HGET', KEYS[2], 'top') or '0')
if top == 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  top = math.max(floor, tonumber(last[2] or '0'))
end
local member = ARGV[2]
local stored = 0
if seq > floor then
  local same = redis.call('ZRANGEBYSCORE', KEYS[1], seq, seq)
  if #same > 0 and same[1] ~= member then
    -- seq taken by another turn: this one goes after the highest stored.
    seq = top + 1
    member = string.gsub(member, '^{"seq":%d+', '{"seq":' .. seq, 1)
    same = {}
  end
  if #same == 0 then
    redis.call('ZADD', KEYS[1], seq, member)
    count = count + 1
    stored = 1
    if seq > top then top = seq end
    local size = redis.call('ZCARD', KEYS[1])
    local excess = size - tonumber(ARGV[3])
    if excess > 0 then
      local cut = redis.call('ZRANGE', KEYS[1], excess - 1, excess - 1, 'WITHSCORES')
      local cutSeq = tonumber(cut[2])
      if cutSeq > floor then floor = cutSeq end
      redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
    end
    redis.call('HSET', KEYS[2], 'v', v, 'count', count, 'floor', floor, 'top', top)
  end
end
local ttl = tonumber(ARGV[4])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
if ARGV[7] == '1' then
  return {0, stored, count, seq, redis.call('HGETALL', KEYS[4]), redis.call('ZRANGE', KEYS[1], 0, -1), v}
end
return {0, stored, count, seq}
