"""Lua scripts on one registrant's keys (all tagged ``{w:<nik>}``: one Cluster slot).

The booking hash holds the current booking (state, fid, day, session, dose, code,
claim, payload) and, while a booking is in flight, a claim (c_id, c_fid, c_day,
c_session, c_dose, c_deadline in epoch ms). At most one claim exists at a time,
which is what makes "one active booking per registrant" hold across processes.
"""

# KEYS: booking, screening, status, worker
# ARGV: mode(book|reschedule), fid, day, session, claim_id, now_ms, deadline_ms, grace_ms
# -> {kind, dose_or_code, stale_fid, stale_day, stale_claim, old_fid, old_day, old_claim}
#    (old_*: the active booking a reschedule is about to replace)
CLAIM = """
if redis.call('EXISTS', KEYS[4]) == 0 then return {'not_listed', ''} end
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
redis.call('HSET', KEYS[1], 'c_id', ARGV[5], 'c_fid', ARGV[2], 'c_day', ARGV[3],
  'c_session', ARGV[4], 'c_deadline', ARGV[7], 'c_dose', dose)
local old = {'', '', ''}
if state == 'active' then old = {b[2] or '', b[3] or '', b[11] or ''} end
return {'claimed', tostring(dose), stale_fid, stale_day, stale_claim, old[1], old[2], old[3]}
"""

# KEYS: booking. ARGV: claim_id -> 1 if the claim was ours and is dropped.
ABORT = """
if redis.call('HGET', KEYS[1], 'c_id') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'c_id', 'c_deadline', 'c_fid', 'c_day', 'c_session', 'c_dose')
return 1
"""

# KEYS: booking, status. ARGV: claim_id, now_ms, code, payload, history_line
# -> {'ok', old_fid, old_day, old_claim, old_code} (old_* set when a reschedule replaced one)
#    {'lost'} when the claim expired or was taken over.
CONFIRM = """
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

# KEYS: booking, status. ARGV: claim_id (expected), history_line
# -> {fid, day, claim, code} of the booking just cancelled, or {} if none active.
CANCEL = """
local b = redis.call('HMGET', KEYS[1], 'state', 'fid', 'day', 'claim', 'code')
if b[1] ~= 'active' or b[4] ~= ARGV[1] then return {} end
redis.call('HSET', KEYS[1], 'state', 'cancelled')
local h = redis.call('HGET', KEYS[2], 'history') or ''
redis.call('HSET', KEYS[2], 'history', string.sub(h .. ARGV[2] .. '\\n', -2000))
return {b[2], b[3], b[4], b[5]}
"""

# KEYS: booking, status. ARGV: code, dose2_due (yyyymmdd), history_line
# -> {'ok', dose} | {'used'} | {'cancelled'} | {'other'} (not this registrant's current ticket)
CHECK_IN = """
local b = redis.call('HMGET', KEYS[1], 'state', 'code', 'dose')
if b[2] ~= ARGV[1] then return {'other'} end
if b[1] == 'used' then return {'used'} end
if b[1] ~= 'active' then return {'cancelled'} end
redis.call('HSET', KEYS[1], 'state', 'used')
local dose = tonumber(b[3] or '1')
redis.call('HSET', KEYS[2], 'doses_done', dose)
if dose == 1 then redis.call('HSET', KEYS[2], 'dose2_due', ARGV[2]) end
local h = redis.call('HGET', KEYS[2], 'history') or ''
redis.call('HSET', KEYS[2], 'history', string.sub(h .. ARGV[3] .. '\\n', -2000))
return {'ok', dose}
"""

# KEYS: screening, worker, status. ARGV: outcome, reason_id, retry_on, answers_json, at
# -> {previous_outcome, facility_id} or {'not_listed'}
RECORD_SCREENING = """
local fid = redis.call('HGET', KEYS[2], 'facility_id')
if not fid then return {'not_listed'} end
local prev = redis.call('HGET', KEYS[1], 'outcome') or ''
local dose = tonumber(redis.call('HGET', KEYS[3], 'doses_done') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'outcome', ARGV[1], 'reason_id', ARGV[2], 'retry_on', ARGV[3],
  'answers', ARGV[4], 'at', ARGV[5], 'dose', dose)
return {prev, fid}
"""
