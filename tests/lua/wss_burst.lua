-- 1000 messages over wss:// sent in one go: NodeMCU's TLS send takes one
-- write at a time (ESPCONN_INPROGRESS until its sent callback), so the port
-- must keep one chunk in flight and the library queue the rest; every
-- message must come back, in order. Run with FAKE_SDK_SEND_LIMIT small too.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(60)
local tls = os.getenv("WS_ECHO_TLS")
T.check(tls ~= nil, "WS_ECHO_TLS is set: " .. tostring(tls))
local N = 1000
local function msg(i) return string.format("tls burst %04d ", i) .. string.rep(string.char(97 + i % 26), i % 300) end
local got, bytes = 0, 0
local ws = websocket.createClient()
ws:on("connection", T.wrap(function(w)
  T.log("connected over TLS; FAKE_SDK_SEND_LIMIT=" .. tostring(os.getenv("FAKE_SDK_SEND_LIMIT")))
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
  T.log("echoed", got, "messages,", bytes, "bytes over TLS")
  T.pass()
end))
ws:connect(tls .. "/")
