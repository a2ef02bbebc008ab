if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local new = 0
for i = 3, #ARGV do
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then new = new + 1 end
end
if redis.call('SCARD', KEYS[2]) + new > tonumber(ARGV[1]) then return 0 end
for i = 3, #ARGV do
  redis.call('SADD', KEYS[i], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[i])
end
return 1
