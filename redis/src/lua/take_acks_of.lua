local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  redis.call('ZREM', KEYS[2], ARGV[1] .. all[i])
  out[#out + 1] = all[i + 1]
end
redis.call('DEL', KEYS[1])
return out
