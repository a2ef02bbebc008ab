local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, member in ipairs(due) do
  local sep = string.find(member, '|[^|]*$')
  local hash = ARGV[2] .. string.sub(member, 1, sep - 1)
  local id = string.sub(member, sep + 1)
  local ack = redis.call('HGET', hash, id)
  if ack then
    out[#out + 1] = ack
    redis.call('HDEL', hash, id)
  end
  redis.call('ZREM', KEYS[1], member)
end
return out
