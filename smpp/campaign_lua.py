"""The Lua scripts behind :mod:`smpp.campaign_store` (each touches one campaign's keys,
all under its hash tag, so each is atomic and Cluster-safe)."""

TAKE = """
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
for _, e in ipairs(items) do
  local nik = string.match(e, '^[^\\t]*')
  redis.call('HSET', KEYS[2], nik, e)
  redis.call('HSET', KEYS[3], nik, 'i')
end
return items
"""
# ARGV: nik1, msgid1, nik2, msgid2, ...
COMMIT = """
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], 's:' .. ARGV[i + 1])
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[3], 'submitted', n) end
return n
"""
# ARGV: max_attempts, nik1, reason1, ... ; temporary failure -> back to the queue.
RETRY = """
local failed, requeued = 0, 0
local max = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local e = redis.call('HGET', KEYS[1], ARGV[i])
  if e then
    redis.call('HDEL', KEYS[1], ARGV[i])
    if redis.call('HINCRBY', KEYS[4], ARGV[i], 1) >= max then
      redis.call('HSET', KEYS[2], ARGV[i], 'f:' .. ARGV[i + 1])
      failed = failed + 1
    else
      redis.call('HSET', KEYS[2], ARGV[i], 'q')
      redis.call('RPUSH', KEYS[5], e)
      requeued = requeued + 1
    end
  end
end
if failed > 0 then redis.call('HINCRBY', KEYS[3], 'failed', failed) end
return requeued
"""
# ARGV: counter, nik1, state1, ... ; a permanent outcome for in-flight recipients.
FINISH = """
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[3], ARGV[1], n) end
return n
"""
# ARGV: nik, new state, counter ; only a submitted recipient takes a receipt (once).
RECEIPT = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or string.sub(cur, 1, 2) ~= 's:' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
return 1
"""
# ARGV: entry1, entry2, ... ; add recipients once each (a re-run after a crash is harmless).
ADD = """
local n = 0
for _, e in ipairs(ARGV) do
  local nik = string.match(e, '^[^\\t]*')
  if redis.call('HSETNX', KEYS[2], nik, 'q') == 1 then
    redis.call('RPUSH', KEYS[1], e)
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[3], 'total', n) end
return n
"""
RECOVER = """
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  redis.call('HSET', KEYS[2], all[i], 'q')
  redis.call('LPUSH', KEYS[3], all[i + 1])
end
redis.call('DEL', KEYS[1])
return #all / 2
"""
# ARGV: entries taken but never submitted -> back to the front of the queue, in order.
UNSEND = """
for i = #ARGV, 1, -1 do
  local nik = string.match(ARGV[i], '^[^\\t]*')
  if redis.call('HDEL', KEYS[1], nik) == 1 then
    redis.call('HSET', KEYS[2], nik, 'q')
    redis.call('LPUSH', KEYS[3], ARGV[i])
  end
end
return #ARGV
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
