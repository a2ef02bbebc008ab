while true do
  local first = redis.call('LINDEX', KEYS[1], 0)
  if not first or cjson.decode(first).emitted_at >= tonumber(ARGV[1]) then break end
  redis.call('LPOP', KEYS[1])
end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return members(2, tonumber(ARGV[4]))
