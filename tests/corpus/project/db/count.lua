-- Counts the session keys.
local n = 0
for _, k in ipairs(redis.call('SCAN', '0', 'MATCH', 'session:*')[2]) do n = n + 1 end
return n
