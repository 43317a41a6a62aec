-- 1000 messages sent in one go, all echoed in order (run with
-- FAKE_SDK_SEND_LIMIT small too). The port keeps one chunk in flight:
-- NodeMCU's espconn_send refuses a second one while the first is not wholly
-- inside lwIP (ESPCONN_ARG), and its TLS send takes one write at a time
-- (ESPCONN_INPROGRESS until the sent callback), so the library must queue
-- the rest. WS_BURST_TLS=1: over wss:// to the TLS echo server.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(30)
local N = 1000
local tls = os.getenv("WS_BURST_TLS") == "1"
local url = T.echo .. "/"
if tls then
  T.check(os.getenv("WS_ECHO_TLS") ~= nil, "WS_ECHO_TLS is set")
  url = os.getenv("WS_ECHO_TLS") .. "/"
end
local function msg(i) return string.format("burst %04d ", i) .. string.rep(string.char(97 + i % 26), i % 300) end
local got, bytes = 0, 0
local ws = websocket.createClient()
ws:on("connection", T.wrap(function(w)
  T.log("connected to " .. url .. "; FAKE_SDK_SEND_LIMIT=" .. tostring(os.getenv("FAKE_SDK_SEND_LIMIT")))
  for i = 1, N do w:send(msg(i), (i % 2) + 1) end
  T.log("queued", N, "messages")
end))
ws:on("receive", T.wrap(function(w, m, opcode)
  got = got + 1
  bytes = bytes + #m
  if m ~= msg(got) or opcode ~= (got % 2) + 1 then
    T.fail(string.format("message %d: got %s op %d, want %s op %d", got, T.show(m), opcode, T.show(msg(got)), (got % 2) + 1))
  end
  if got % 250 == 0 then T.log("received", got, "in order") end
  if got == N then w:close() end
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.eq(got, N, "all messages echoed")
  T.log("echoed", got, "messages,", bytes, "bytes", tls and "over TLS" or "over TCP")
  T.pass()
end))
ws:connect(url)
