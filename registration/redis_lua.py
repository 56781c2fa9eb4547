"""The Lua scripts of the Redis stores: the state changes that must be atomic.

Each touches one Cluster slot: a registrant's keys (``{w:<nik>}``), a phone's
verification keys (``{p:<phone>}``), a facility's seats (``{f:<id>}``) or a ticket
(``{t:<code>}``). Their text is their identity (Redis caches them by SHA-1): change
one only together with its callers, and data written by the old one must still read.

The booking hash holds the current booking (state, fid, day, session, dose, code,
claim, payload) and, while a booking is in flight, a claim (c_id, c_fid, c_day,
c_session, c_dose, c_deadline in epoch ms). At most one claim exists at a time,
which is what makes "one active booking per registrant" hold across processes.
"""

from core.redis_lean import Script

# KEYS: phone_index, wrong_answers, lock.
# ARGV: last6, max_attempts, lockout_seconds, now_ms, answer_id (one per user action)
# Wrong answers are a sorted set of their times (ms), one member per answer id: the
# max_attempts-th within the window locks the phone, whatever matched in between. An id
# already counted (the same hop sent twice at once: a double tap, a gateway's retransmit
# to another worker) is answered as the first copy was and not counted again. A right
# answer clears nothing: on a household's shared phone one member's right answer must
# not wipe the count of guesses at another's. A counter written by an earlier version (a
# string) is read as that many wrong answers made now. -> {'locked', ttl_ms} |
# {'not_listed', 0} | {'wrong', count} | {'ok', nik} | {'locked_now', lock_ms}
VERIFY_BODY = """
local ttl = redis.call('PTTL', KEYS[3])
if ttl > 0 or ttl == -1 then return {'locked', ttl} end
local niks = redis.call('SMEMBERS', KEYS[1])
if #niks == 0 then return {'not_listed', 0} end
local now, window = tonumber(ARGV[4]), tonumber(ARGV[3]) * 1000
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local old = tonumber(redis.call('GET', KEYS[2])) or 0
  redis.call('DEL', KEYS[2])
  for i = 1, old do redis.call('ZADD', KEYS[2], now, 'old:' .. i) end
  if old > 0 then redis.call('PEXPIRE', KEYS[2], window) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local last6 = ARGV[1]
if string.len(last6) ~= 6 or string.find(last6, '%D') then
  return {'wrong', redis.call('ZCARD', KEYS[2])}
end
local found = false
for _, nik in ipairs(niks) do
  if string.sub(nik, -6) == last6 and (not found or nik < found) then found = nik end
end
if found then return {'ok', found} end
if redis.call('ZADD', KEYS[2], 'NX', now, ARGV[5]) == 0 then
  return {'wrong', redis.call('ZCARD', KEYS[2])}
end
redis.call('PEXPIRE', KEYS[2], window)
local n = redis.call('ZCARD', KEYS[2])
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return {'locked_now', tonumber(ARGV[3]) * 1000}
end
return {'wrong', n}
"""

# KEYS: booked, holders. ARGV: session, capacity, holder. -> 1 taken (or already held), 0 full.
TAKE_SEAT_BODY = """
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 1 end
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: booked, holders. ARGV: holder. -> 1 released, 0 nothing held.
RELEASE_SEAT_BODY = """
local s = redis.call('HGET', KEYS[2], ARGV[1])
if not s then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], s, -1)
return 1
"""

# KEYS: the booked hashes of one facility's days -> one flat HGETALL reply per day.
# One command instead of one per day: the USSD hot path pays per command in Python.
READ_DAYS_BODY = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
"""

# KEYS: ticket. ARGV: field/value pairs -> 1 created, 0 code taken.
CREATE_TICKET_BODY = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: booking, screening, status, worker
# ARGV: mode(book|reschedule), fid, day, session, claim_id, now_ms, deadline_ms, grace_ms,
#       phone (acting for it: the worker's phone must be it; '' checks nothing)
# -> {kind, dose_or_code, stale_fid, stale_day, stale_claim, old_fid, old_day, old_claim}
#    (kind 'too_early': a dose-2 day before the status hash's dose2_due; 'done': every dose
#    of the course given, nothing to book; 'other_phone': the registrant was re-listed
#    with another phone)
#    (old_*: the active booking a reschedule is about to replace)
CLAIM_BODY = """
if redis.call('EXISTS', KEYS[4]) == 0 then return {'not_listed', ''} end
local phone = ARGV[9] or ''
if phone ~= '' and redis.call('HGET', KEYS[4], 'phone') ~= phone then
  return {'other_phone', ''}
end
local b = redis.call('HMGET', KEYS[1], 'state', 'fid', 'day', 'session', 'code',
  'c_id', 'c_deadline', 'c_fid', 'c_day', 'dose', 'claim')
local state, code = b[1], b[5] or ''
if state == 'active' and b[2] == ARGV[2] and b[3] == ARGV[3] and b[4] == ARGV[4] then
  return {'same', code}
end
if state == 'active' and ARGV[1] ~= 'reschedule' then return {'already', code} end
local now = tonumber(ARGV[6])
local stale_fid, stale_day, stale_claim = '', '', ''
if b[6] then
  if tonumber(b[7] or '0') + tonumber(ARGV[8]) > now then return {'busy', code} end
  stale_fid, stale_day, stale_claim = b[8] or '', b[9] or '', b[6]
end
local dose = tonumber(redis.call('HGET', KEYS[3], 'doses_done') or '0') + 1
if state == 'active' then dose = tonumber(b[10] or '1') end
if dose > 2 then return {'done', code} end
local s = redis.call('HMGET', KEYS[2], 'outcome', 'dose')
if s[1] ~= 'eligible' or tonumber(s[2] or '0') ~= dose then return {'not_eligible', code} end
if dose == 2 then
  local due = redis.call('HGET', KEYS[3], 'dose2_due')
  if due and ARGV[3] < due then return {'too_early', code} end
end
redis.call('HSET', KEYS[1], 'c_id', ARGV[5], 'c_fid', ARGV[2], 'c_day', ARGV[3],
  'c_session', ARGV[4], 'c_deadline', ARGV[7], 'c_dose', dose)
local old = {'', '', ''}
if state == 'active' then old = {b[2] or '', b[3] or '', b[11] or ''} end
return {'claimed', tostring(dose), stale_fid, stale_day, stale_claim, old[1], old[2], old[3]}
"""

# KEYS: booking. ARGV: claim_id -> 1 if the claim was ours and is dropped.
ABORT_BODY = """
if redis.call('HGET', KEYS[1], 'c_id') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'c_id', 'c_deadline', 'c_fid', 'c_day', 'c_session', 'c_dose')
return 1
"""

# KEYS: booking. ARGV: claim_id, now_ms, grace_ms -> 'kept' (the claim is the booking's),
# 'in_flight' (still within its time) or 'free'. An expired claim is dropped here, in the
# same step that decides: its confirmation may still be on its way (queued behind a slow
# command, with a time read before), and it must then find the claim gone, not confirm
# a booking on a seat the repair is about to give back.
EXPIRE_CLAIM_BODY = """
local b = redis.call('HMGET', KEYS[1], 'state', 'claim', 'c_id', 'c_deadline')
if (b[1] == 'active' or b[1] == 'used') and b[2] == ARGV[1] then return 'kept' end
if b[3] == ARGV[1] then
  if tonumber(b[4] or '0') + tonumber(ARGV[3]) > tonumber(ARGV[2]) then return 'in_flight' end
  redis.call('HDEL', KEYS[1], 'c_id', 'c_deadline', 'c_fid', 'c_day', 'c_session', 'c_dose')
end
return 'free'
"""

# KEYS: booking, status. ARGV: claim_id, now_ms, code, payload, history_line
# -> {'ok', old_fid, old_day, old_claim, old_code} (old_* set when a reschedule replaced one)
#    {'lost'} when the claim expired or was taken over.
CONFIRM_BODY = """
local b = redis.call('HMGET', KEYS[1], 'c_id', 'c_deadline', 'c_fid', 'c_day', 'c_session',
  'c_dose', 'state', 'fid', 'day', 'claim', 'code')
if b[1] ~= ARGV[1] then return {'lost'} end
redis.call('HDEL', KEYS[1], 'c_id', 'c_deadline', 'c_fid', 'c_day', 'c_session', 'c_dose')
if tonumber(b[2]) < tonumber(ARGV[2]) then return {'lost'} end
local old = {'', '', '', ''}
if b[7] == 'active' then old = {b[8] or '', b[9] or '', b[10] or '', b[11] or ''} end
redis.call('HSET', KEYS[1], 'state', 'active', 'fid', b[3], 'day', b[4], 'session', b[5],
  'dose', b[6], 'code', ARGV[3], 'claim', ARGV[1], 'payload', ARGV[4], 'nik', ARGV[6])
local h = redis.call('HGET', KEYS[2], 'history') or ''
redis.call('HSET', KEYS[2], 'history', string.sub(h .. ARGV[5] .. '\\n', -2000))
return {'ok', old[1], old[2], old[3], old[4]}
"""

# KEYS: booking, status, worker. ARGV: claim_id (expected), history_line, phone (acting for
# it: the worker's phone must be it; '' checks nothing)
# -> {fid, day, claim, code} of the booking just cancelled, or {} if none active, or it
#    is another booking than the one read (the claim names it), or the phone is not it.
CANCEL_BODY = """
local b = redis.call('HMGET', KEYS[1], 'state', 'fid', 'day', 'claim', 'code')
if b[1] ~= 'active' or b[4] ~= ARGV[1] then return {} end
if ARGV[3] ~= '' and redis.call('HGET', KEYS[3], 'phone') ~= ARGV[3] then return {} end
redis.call('HSET', KEYS[1], 'state', 'cancelled')
local h = redis.call('HGET', KEYS[2], 'history') or ''
redis.call('HSET', KEYS[2], 'history', string.sub(h .. ARGV[2] .. '\\n', -2000))
return {b[2], b[3], b[4], b[5]}
"""

# KEYS: booking, status. ARGV: code, dose2_due (yyyymmdd), history_line, today (yyyymmdd)
# -> {'ok', dose} | {'used'} | {'cancelled'} | {'other'} (not this registrant's current ticket)
#    | {'too_early', dose2_due}: a dose 2 checked in before its due date (the booking rule
#    again: a check-in tolerance must not let it through days early); not checked in.
CHECK_IN_BODY = """
local b = redis.call('HMGET', KEYS[1], 'state', 'code', 'dose')
if b[2] ~= ARGV[1] then return {'other'} end
if b[1] == 'used' then return {'used'} end
if b[1] ~= 'active' then return {'cancelled'} end
local dose = tonumber(b[3] or '1')
if dose == 2 then
  local due = redis.call('HGET', KEYS[2], 'dose2_due')
  if due and ARGV[4] < due then return {'too_early', due} end
end
redis.call('HSET', KEYS[1], 'state', 'used')
redis.call('HSET', KEYS[2], 'doses_done', dose)
if dose == 1 then redis.call('HSET', KEYS[2], 'dose2_due', ARGV[2]) end
local h = redis.call('HGET', KEYS[2], 'history') or ''
redis.call('HSET', KEYS[2], 'history', string.sub(h .. ARGV[3] .. '\\n', -2000))
return {'ok', dose}
"""

# KEYS: screening, worker, status, booking. ARGV: outcome, reason_id, retry_on, answers_json,
# at, today (dates yyyymmdd), history_line ('' none; ' dose <n>' added; not when the stored
# screening says the same) -> {previous_outcome, facility_id, dose2_due} | {'not_listed'} |
# {'booked'} | {'done'} | {'kept', reason_id, retry_on}: a deferral whose retry date is after
# today stays. An active booking is the screening of its dose already passed: nothing
# replaces it (an old session answering a question late must not undo a booking made
# since). After the last dose there is no next dose to screen for ('done', nothing stored).
RECORD_SCREENING_BODY = """
local fid = redis.call('HGET', KEYS[2], 'facility_id')
if not fid then return {'not_listed'} end
if redis.call('HGET', KEYS[4], 'state') == 'active' then return {'booked'} end
local st = redis.call('HMGET', KEYS[3], 'doses_done', 'dose2_due')
local dose = tonumber(st[1] or '0') + 1
if dose > 2 then return {'done'} end
local s = redis.call('HMGET', KEYS[1], 'outcome', 'reason_id', 'retry_on')
if s[1] == 'deferred' and s[3] and s[3] > ARGV[6] then return {'kept', s[2] or '', s[3]} end
local prev = s[1] or ''
local same = prev == ARGV[1] and (s[2] or '') == ARGV[2] and (s[3] or '') == ARGV[3]
if ARGV[7] and ARGV[7] ~= '' and not same then
  local h = (redis.call('HGET', KEYS[3], 'history') or '') .. ARGV[7] .. ' dose ' .. dose
  redis.call('HSET', KEYS[3], 'history', string.sub(h .. '\\n', -2000))
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'outcome', ARGV[1], 'reason_id', ARGV[2], 'retry_on', ARGV[3],
  'answers', ARGV[4], 'at', ARGV[5], 'dose', dose)
return {prev, fid, st[2] or ''}
"""


# The health-worker import's lock (registration.redis_import): held by a random token.
# KEYS: lock. ARGV: token, lease_ms. -> 1 still ours (lease renewed), 0 lost.
RENEW_LOCK_BODY = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# KEYS: lock. ARGV: token. -> 1 released, 0 it was not ours any more.
RELEASE_LOCK_BODY = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

VERIFY = Script(VERIFY_BODY)
TAKE_SEAT = Script(TAKE_SEAT_BODY)
RELEASE_SEAT = Script(RELEASE_SEAT_BODY)
READ_DAYS = Script(READ_DAYS_BODY)
CREATE_TICKET = Script(CREATE_TICKET_BODY)
CLAIM = Script(CLAIM_BODY)
ABORT = Script(ABORT_BODY)
EXPIRE_CLAIM = Script(EXPIRE_CLAIM_BODY)
CONFIRM = Script(CONFIRM_BODY)
CANCEL = Script(CANCEL_BODY)
CHECK_IN = Script(CHECK_IN_BODY)
RECORD_SCREENING = Script(RECORD_SCREENING_BODY)
# The import runs these through redis-py (core.redis_scripts): not in ALL_SCRIPTS.
RENEW_LOCK = Script(RENEW_LOCK_BODY)
RELEASE_LOCK = Script(RELEASE_LOCK_BODY)
ALL_SCRIPTS = (
    VERIFY,
    TAKE_SEAT,
    RELEASE_SEAT,
    READ_DAYS,
    CREATE_TICKET,
    CLAIM,
    ABORT,
    EXPIRE_CLAIM,
    CONFIRM,
    CANCEL,
    CHECK_IN,
    RECORD_SCREENING,
)
