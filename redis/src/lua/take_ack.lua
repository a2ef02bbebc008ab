local ack = redis.call('HGET', KEYS[1], ARGV[1])
if not ack then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return ack
