local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, sid in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], sid) end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, next[2] or false}
