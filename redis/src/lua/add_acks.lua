local refused = {}
for i = 2, #KEYS do
  local j = 4 * i - 5
  if redis.call('HLEN', KEYS[i]) >= tonumber(ARGV[1]) then
    table.insert(refused, i - 2)
  else
    redis.call('HSET', KEYS[i], ARGV[j], ARGV[j + 1])
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    if ARGV[j + 2] ~= '' then redis.call('ZADD', KEYS[1], ARGV[j + 2], ARGV[j + 3]) end
  end
end
return refused
