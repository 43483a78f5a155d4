-- takeHeld: returns and forgets the events held for a call.
-- KEYS[1] pending LIST (envelope JSON, oldest first)
-- ARGV: none
-- returns {code 0, [envelope JSON, ...]}
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return {0, items}
