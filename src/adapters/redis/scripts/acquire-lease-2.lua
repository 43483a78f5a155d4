-- acquireLease: makes ARGV[1] the owner of a call under a new fencing token.
-- KEYS[1] owner STRING ("<fence>:<owner>")  KEYS[2] fence counter (INCR)
-- ARGV[1] owner id  ARGV[2] lease TTL seconds  ARGV[3] fence counter TTL seconds
-- returns {code 0, fence}
local fence = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
redis.call('SET', KEYS[1], fence .. ':' .. ARGV[1], 'EX', tonumber(ARGV[2]))
return {0, fence}
