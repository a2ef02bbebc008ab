local log = redis.call('LRANGE', KEYS[5], 0, -1)
local kept = false
for _, e in ipairs(log) do
  if cjson.decode(e).offset == ARGV[4] then kept = true break end
end
if not kept or redis.call('DEL', KEYS[1]) == 0 then return false end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[6], ARGV[5])
for i = 6, #ARGV do
  redis.call('SADD', KEYS[i + 1], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[i])
end
return log
