"""The Lua scripts behind :mod:`smpp.campaign_store` and :mod:`smpp.campaign_batches`.

Each touches one campaign's keys, all under its hash tag, so each is atomic and
Cluster-safe. Recipients are sent in batches: TAKE moves a batch from the queue
to the in-flight hash (each value prefixed ``b<batch id><TAB>``) under a lease
held by one sender; the outcome scripts only touch recipients whose batch is the
one the caller names, so a sender whose lease was taken over (it stalled or
died) can no longer change what the new holder does. RECLAIM puts the in-flight
recipients of an expired (or, with force, any) lease back at the front of the
queue.
"""

from core.redis_wire import Script

# Helpers every script below starts with. now_ms: Redis's clock (senders' clocks may differ).
_PRELUDE = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function hset_many(key, flat)
  for i = 1, #flat, 1000 do
    redis.call('HSET', key, unpack(flat, i, math.min(i + 999, #flat)))
  end
end
-- The queue entry of an in-flight value "b<batch>\\t<entry>" (a value without a batch
-- prefix, from before batches, is the entry itself).
local function entry_of(value)
  if string.sub(value, 1, 1) ~= 'b' then return value, '' end
  local tab = string.find(value, '\\t', 1, true)
  return string.sub(value, tab + 1), string.sub(value, 1, tab - 1)
end
-- Calls fn(nik, value, batch prefix) for each recipient of ARGV groups
-- "batch, count, nik, value, nik, value, ..." starting at ARGV[first] whose in-flight
-- entry belongs to that batch (KEYS[1] is the in-flight hash).
local function each_owned(first, fn)
  local i = first
  while i <= #ARGV do
    local prefix, count = ARGV[i] .. '\\t', tonumber(ARGV[i + 1])
    for j = i + 2, i + 2 * count, 2 do
      local cur = redis.call('HGET', KEYS[1], ARGV[j])
      if cur and string.sub(cur, 1, #prefix) == prefix then
        fn(ARGV[j], ARGV[j + 1], string.sub(cur, #prefix + 1))
      end
    end
    i = i + 2 + 2 * count
  end
end
"""


def _script(body: str) -> Script:
    return Script(_PRELUDE + body)


# KEYS: queue, inflight, state, meta, leases, batch owners, later. ARGV: n, owner, lease
# ms. -> {batch id, entry, entry, ...} or {} when the queue is empty. Entries of `later`
# whose time has come go to the front of the queue first.
TAKE = _script("""
local due = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then
  redis.call('ZREM', KEYS[7], unpack(due))
  for i = #due, 1, -1 do redis.call('LPUSH', KEYS[1], due[i]) end
end
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
local batch = 'b' .. redis.call('HINCRBY', KEYS[4], 'batches', 1)
redis.call('ZADD', KEYS[5], now_ms() + tonumber(ARGV[3]), batch)
redis.call('HSET', KEYS[6], batch, ARGV[2])
local inflight, state = {}, {}
for _, e in ipairs(items) do
  local nik = string.match(e, '^[^\\t]*')
  inflight[#inflight + 1] = nik
  inflight[#inflight + 1] = batch .. '\\t' .. e
  state[#state + 1] = nik
  state[#state + 1] = 'i'
end
hset_many(KEYS[2], inflight)
hset_many(KEYS[3], state)
table.insert(items, 1, batch)
return items
""")
# KEYS: inflight, state, meta. ARGV: groups (batch, count, nik, message id, ...).
COMMIT = _script("""
local n = 0
each_owned(1, function(nik, mid)
  redis.call('HDEL', KEYS[1], nik)
  redis.call('HSET', KEYS[2], nik, 's:' .. mid)
  n = n + 1
end)
if n > 0 then redis.call('HINCRBY', KEYS[3], 'submitted', n) end
return n
""")
# KEYS: inflight, state, meta, attempts, later. ARGV: max attempts, delay ms, max delay
# ms, groups (batch, count, nik, reason, ...). A temporary failure is queued again after
# attempts x delay (at most max delay), until max attempts.
RETRY = _script("""
local failed, requeued = 0, 0
local max, delay, longest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
each_owned(4, function(nik, reason, entry)
  redis.call('HDEL', KEYS[1], nik)
  local attempts = redis.call('HINCRBY', KEYS[4], nik, 1)
  if attempts >= max then
    redis.call('HSET', KEYS[2], nik, 'f:' .. reason)
    failed = failed + 1
  else
    redis.call('HSET', KEYS[2], nik, 'q')
    redis.call('ZADD', KEYS[5], now + math.min(attempts * delay, longest), entry)
    requeued = requeued + 1
  end
end)
if failed > 0 then redis.call('HINCRBY', KEYS[3], 'failed', failed) end
return requeued
""")
# KEYS: inflight, state, meta. ARGV: counter, groups (batch, count, nik, final state, ...).
FINISH = _script("""
local n = 0
each_owned(2, function(nik, final)
  redis.call('HDEL', KEYS[1], nik)
  redis.call('HSET', KEYS[2], nik, final)
  n = n + 1
end)
if n > 0 then redis.call('HINCRBY', KEYS[3], ARGV[1], n) end
return n
""")
# KEYS: inflight, state, queue. ARGV: batch, entries taken but never submitted -> back
# to the front of the queue, in order.
UNSEND = _script("""
local prefix = ARGV[1] .. '\\t'
for i = #ARGV, 2, -1 do
  local nik = string.match(ARGV[i], '^[^\\t]*')
  local cur = redis.call('HGET', KEYS[1], nik)
  if cur and string.sub(cur, 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[1], nik)
    redis.call('HSET', KEYS[2], nik, 'q')
    redis.call('LPUSH', KEYS[3], ARGV[i])
  end
end
return #ARGV - 1
""")
# KEYS: state, meta, latency. ARGV: nik, new state, counter, latency bucket ("" = unknown).
# -> 1 recorded, 0 not recorded as submitted yet (try again later), -1 nothing to do.
RECEIPT = _script("""
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur == 'i' or cur == 'q' then return 0 end
if not cur or string.sub(cur, 1, 2) ~= 's:' then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('HINCRBY', KEYS[2], 'receipted', 1)
if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[4], 1) end
return 1
""")
# KEYS: queue, state, meta. ARGV: entries ; add recipients once each (a re-run is harmless).
ADD = _script("""
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
""")
# KEYS: leases, batch owners. ARGV: owner, lease ms, batch ids -> the ids still held.
RENEW = _script("""
local until_ms, held = now_ms() + tonumber(ARGV[2]), {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], until_ms, ARGV[i])
    held[#held + 1] = ARGV[i]
  end
end
return held
""")
# KEYS: leases, batch owners. ARGV: owner, batch ids whose recipients are all recorded.
RELEASE = _script("""
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
return 0
""")
# KEYS: leases, batch owners, inflight, state, queue. ARGV: mode, owner.
# mode "expired": the batches whose lease ran out; "owner": the caller's own (a clean
# stop); "all": every batch (an operator's takeover); "orphans": none, but also in-flight
# recipients of no batch at all. Their in-flight recipients go back to the queue front.
RECLAIM = _script("""
local mode, dead = ARGV[1], {}
local ended
if mode == 'expired' then
  ended = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms())
elseif mode == 'all' or mode == 'owner' then
  ended = redis.call('ZRANGE', KEYS[1], 0, -1)
else
  ended = {}
end
for _, b in ipairs(ended) do
  if mode ~= 'owner' or redis.call('HGET', KEYS[2], b) == ARGV[2] then
    dead[b] = true
    redis.call('ZREM', KEYS[1], b)
    redis.call('HDEL', KEYS[2], b)
  end
end
if next(dead) == nil and mode ~= 'orphans' then return 0 end
local all, n = redis.call('HGETALL', KEYS[3]), 0
for i = 1, #all, 2 do
  local entry, batch = entry_of(all[i + 1])
  if dead[batch] or (mode == 'orphans' and not redis.call('ZSCORE', KEYS[1], batch)) then
    redis.call('HDEL', KEYS[3], all[i])
    redis.call('HSET', KEYS[4], all[i], 'q')
    redis.call('LPUSH', KEYS[5], entry)
    n = n + 1
  end
end
return n
""")

# The operator's side (cold). State changes are compare-and-set on the meta hash, so two
# operators (or an operator and a sender) never both win: "cancelled" and "done" are final.
# KEYS: meta. ARGV: target state, n, n states it may start from, then field/value pairs
# set along. -> {'ok', previous state} | {'refused', current state} | {'missing', ''}.
SET_STATE = Script("""
local m = redis.call('HMGET', KEYS[1], 'name', 'state')
if not m[1] then return {'missing', ''} end
local cur, n = m[2] or 'draft', tonumber(ARGV[2])
for i = 3, 2 + n do
  if ARGV[i] == cur then
    redis.call('HSET', KEYS[1], 'state', ARGV[1])
    for j = 3 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
    return {'ok', cur}
  end
end
return {'refused', cur}
""")
# KEYS: meta. ARGV: field/value pairs. -> 1 created, 0 a campaign of that name exists.
# One step: a state change racing a create could otherwise land between its name and
# its fields, and be overwritten by the fields' "draft".
CREATE = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
""")
# KEYS: queue, later, inflight, meta. ARGV: finished stamp -> 1 when a running, fully
# materialized campaign with nothing queued or in flight is now done, else 0.
FINISH_IF_SENT = Script("""
if redis.call('LLEN', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0
  or redis.call('HLEN', KEYS[3]) > 0 then return 0 end
local m = redis.call('HMGET', KEYS[4], 'materialized', 'state')
if m[1] ~= '1' or m[2] ~= 'running' then return 0 end
redis.call('HSET', KEYS[4], 'state', 'done', 'finished', ARGV[1])
return 1
""")
