local function members(k, rooms)
  local base
  if rooms == 0 then
    base = redis.call('SMEMBERS', KEYS[k])
  else
    base = redis.call('SUNION', unpack(KEYS, k + 1, k + rooms))
  end
  if #KEYS == k + rooms then return base end
  local except = {}
  for _, m in ipairs(redis.call('SUNION', unpack(KEYS, k + 1 + rooms, #KEYS))) do except[m] = true end
  local out = {}
  for _, m in ipairs(base) do if not except[m] then out[#out + 1] = m end end
  return out
end
