-- Whole *119# registrations over the Africa's Talking dialect, as wrk load.
--
-- Run with one connection per thread (-t N -c N): each thread is one virtual
-- gateway connection playing sessions back to back, each with its own phone
-- from a preloaded registry (index base + tid * per_thread + k). Every hop is
-- checked: CON until the last, which must be END with "Kode tiket: ". Failures
-- are counted and the first few printed by done().
-- Arguments (after --): base per_thread screening_groups [mode]
-- mode "register" (default): the whole registration, ticket on the last hop;
-- mode "navigate": menus only (language, back, register, "not a health worker"
-- END), no Registry call: the cost of the HTTP layer plus the dialogue engine.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- As bench/ussd.py's nik(): born 1970-1999, inside the 18-59 age band.
local function last6(i)
  local yy = 70 + math.floor(i / 9999) % 30
  local serial = i % 9999 + 1
  return string.format("%02d%04d", yy, serial)
end

local function start_session()
  k = k + 1
  local i = base + tid * per_thread + (k % per_thread)
  phone = string.format("%%2B62811%08d", i)
  session_id = string.format("b%d-%d-%d", base, tid, k)
  step = 0
  if mode == "navigate" then
    inputs = { "4", "0", "4", "0", "1", "0", "1", "2" }
    return
  end
  inputs = { "1", "1", last6(i), "1" }
  for _ = 1, groups do table.insert(inputs, "2") end
  table.insert(inputs, "1") -- first slot
  table.insert(inputs, "1") -- confirm
end

function init(args)
  base = tonumber(args[1])
  per_thread = tonumber(args[2])
  groups = tonumber(args[3])
  mode = args[4] or "register"
  expect_end = mode == "navigate" and "tenaga kesehatan" or "Kode tiket: "
  k = 0
  failures = 0
  sessions = 0
  errors = ""
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  start_session()
end

function request()
  local text = table.concat(inputs, "*", 1, step)
  local body = "sessionId=" .. session_id .. "&serviceCode=%2A119%23&phoneNumber=" .. phone
    .. "&networkCode=51010&text=" .. text
  return wrk.format(nil, "/ussd/africastalking", nil, body)
end

local function fail(why, body)
  failures = failures + 1
  if failures <= 3 then
    errors = errors .. string.format("[step %d] %s: %s\n", step, why, string.sub(body or "", 1, 120))
  end
  start_session()
end

function response(status, headers, body)
  if status ~= 200 then return fail("HTTP " .. status, body) end
  if step < #inputs then
    if string.sub(body, 1, 4) ~= "CON " then return fail("expected CON", body) end
    step = step + 1
  else
    if string.sub(body, 1, 4) ~= "END " or not string.find(body, expect_end, 1, true) then
      return fail("expected END with " .. expect_end, body)
    end
    sessions = sessions + 1
    start_session()
  end
end

function done(summary, latency, requests)
  local total_sessions, total_failures, errs = 0, 0, ""
  for _, thread in ipairs(threads) do
    total_sessions = total_sessions + thread:get("sessions")
    total_failures = total_failures + thread:get("failures")
    errs = errs .. thread:get("errors")
  end
  io.write(string.format("JOURNEY sessions=%d failures=%d requests=%d duration_us=%d errors=%d\n",
    total_sessions, total_failures, summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
  io.write(string.format("LATENCY_US p50=%d p90=%d p99=%d max=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  if errs ~= "" then io.write("FAILURES\n" .. errs) end
end
