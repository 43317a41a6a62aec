-- One connection under a fault plan of the fake SDK (FAKE_SDK_FAULTS, see
-- nodemcu-glue/host/fake/fault.c): the espconn return code it forces must
-- reach the script as the status the port and library promise
-- (WS_FAULT_STATUS: 0 = the port recovered, else espconn code - 100), and
-- nothing may be left behind: the runner exits only when no connection,
-- timer or DNS lookup is pending, so a connection the port forgot to
-- disconnect (connect_mem_kept, send_mem_kept) shows up as a hang.
-- WS_FAULT_TLS=1 connects with wss:// to the TLS echo server.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(20)
local plan = os.getenv("FAKE_SDK_FAULTS") or ""
local want = tonumber(os.getenv("WS_FAULT_STATUS") or "")
T.check(want ~= nil, "WS_FAULT_STATUS is set: " .. tostring(os.getenv("WS_FAULT_STATUS")))
local url = T.echo .. "/"
if os.getenv("WS_FAULT_TLS") == "1" then url = os.getenv("WS_ECHO_TLS") .. "/" end
T.log("plan", plan, "url", url, "want status", want)
local payload = string.rep("fault test ", 500) -- 5500 bytes: beyond lwIP's 2920-byte send buffer
local got, closed = 0, false
local ws = websocket.createClient()
ws:on("connection", T.wrap(function(w)
  T.log("connected")
  w:send("first")
  -- a send refused at once ends the connection inside this call
  if not closed then w:send(payload) end
end))
ws:on("receive", T.wrap(function(w, m)
  got = got + 1
  if got == 1 then T.eq(m, "first", "first echo") end
  if got == 2 then
    T.eq(m, payload, "second echo")
    w:close()
  end
end))
ws:on("close", T.wrap(function(_, status)
  closed = true
  T.eq(status, want, "status under plan " .. plan)
  if want == 0 then T.eq(got, 2, "both echoes") end
  T.pass()
end))
ws:connect(url)
