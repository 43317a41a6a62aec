-- Autobahn|Testsuite fuzzing-server client for the NodeMCU host runner.
--
--   build/nodemcu-lua [--lua51|--lua53] tests/conformance/client.lua [BASE_URL [AGENT]]
--
-- BASE_URL and AGENT come from the arguments, else from $WS_BASE_URL and
-- $WS_AGENT (defaults ws://127.0.0.1:9001 and "libwebsocket").
-- The script is an ordinary NodeMCU script: websocket + tmr only.
--
-- 1. /getCaseCount                   -> number of cases N (one text message)
-- 2. /runCase?case=i&agent=AGENT      for i = 1..N (1-based index): every text
--    or binary message is echoed back with the same opcode; pings, pongs and
--    the closing handshake are the library's job.
-- 3. /updateReports?agent=AGENT      -> the server writes its reports
-- Each connection has a guard timer: a case still open after CASE_GUARD
-- seconds is closed with ws:close(), and one whose close callback never comes
-- is abandoned, so a stuck case cannot hang the run.
-- One line per case on stdout: "case i: status S, M messages echoed, T ms".
--
-- wss:// base URLs: when $WS_TLS_CA names a PEM file (run.py --tls sets it to
-- the run's throw-away certificate), the server's certificate is checked
-- against it with tls.cert.verify(pem), as a device script would; without it
-- the runner's default (no check) applies.

local getenv = os and os.getenv or function() return nil end

local base = (arg and arg[1]) or getenv("WS_BASE_URL") or "ws://127.0.0.1:9001"
local agent = (arg and arg[2]) or getenv("WS_AGENT") or "libwebsocket"
local CASE_GUARD = tonumber(getenv("WS_CASE_GUARD") or "") or 120 -- seconds
local CLOSE_GRACE = 15 -- seconds after ws:close() before a client is given up

-- 9.x sends messages of up to 16 MiB; leave some slack above that.
local MAX_MESSAGE = 16 * 1024 * 1024 + 64 * 1024

local stuck = 0
local started_ms

local function now_ms()
  -- tmr.now() counts microseconds (and wraps); used for log lines only
  return tmr.now and tmr.now() / 1000 or 0
end

local function later(ms, fn)
  local t = tmr.create()
  t:alarm(ms, tmr.ALARM_SINGLE, function() t:unregister(); fn() end)
end

local function finish(code)
  if os and os.exit then
    os.exit(code)
  end
end

-- Open one connection to `url`. on_receive(ws, msg, opcode) handles messages;
-- done(status, info) runs once, from a fresh timer callback, when the
-- connection has ended (status nil if it was abandoned by the guard).
local function session(url, on_receive, done)
  local ws = websocket.createClient()
  local guard = tmr.create()
  local ended = false
  local info = {}

  local function complete(status)
    if ended then return end
    ended = true
    guard:unregister()
    later(1, function() done(status, info) end)
  end

  ws:on("receive", on_receive)
  ws:on("close", function(_, status) complete(status) end)
  -- No keep-alive pings: client pings are traffic the cases do not expect.
  ws:config{ max_message = MAX_MESSAGE, ping_interval = 0 }

  guard:alarm(CASE_GUARD * 1000, tmr.ALARM_SINGLE, function()
    info.guard = true
    ws:close()
    guard:alarm(CLOSE_GRACE * 1000, tmr.ALARM_SINGLE, function()
      info.abandoned = true
      stuck = stuck + 1
      complete(nil)
    end)
  end)
  ws:connect(url)
end

local function report_and_exit(count)
  session(base .. "/updateReports?agent=" .. agent, function() end, function(status)
    print(string.format("reports updated (status %s); %d cases, %d stuck, %.1f s",
      tostring(status), count, stuck, (now_ms() - started_ms) / 1000))
    finish(stuck == 0 and 0 or 1)
  end)
end

local function run_case(i, count)
  if i > count then
    return report_and_exit(count)
  end
  local echoed = 0
  local t0 = now_ms()
  local url = string.format("%s/runCase?case=%d&agent=%s", base, i, agent)
  session(url, function(ws, msg, opcode)
    echoed = echoed + 1
    local ok, err = pcall(ws.send, ws, msg, opcode)
    if not ok then
      print(string.format("case %d: send failed: %s", i, tostring(err)))
    end
  end, function(status, info)
    local note = info.abandoned and " ABANDONED (no close callback)"
      or (info.guard and " (closed by the guard)" or "")
    print(string.format("case %d: status %s, %d messages echoed, %d ms%s",
      i, tostring(status), echoed, math.floor(now_ms() - t0), note))
    run_case(i + 1, count)
  end)
end

local ca_file = getenv("WS_TLS_CA")
if ca_file and ca_file ~= "" then
  local f = io and io.open(ca_file, "rb")
  local pem = f and f:read("*a")
  if f then f:close() end
  if not (pem and tls and tls.cert and tls.cert.verify) then
    print("cannot check the server certificate with " .. ca_file)
    return finish(2)
  end
  -- the current NodeMCU form: a function handing out certificate i
  tls.cert.verify(function(i) return i == 1 and pem or nil end)
  print("server certificate checked against " .. ca_file)
end

started_ms = now_ms()
local count
session(base .. "/getCaseCount", function(_, msg)
  count = tonumber(msg)
end, function(status)
  if not count then
    print("getCaseCount failed, close status " .. tostring(status))
    return finish(2)
  end
  print(string.format("%d cases at %s, agent %s", count, base, agent))
  run_case(1, count)
end)
