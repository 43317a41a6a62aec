-- 1000 messages sent in one go (run with FAKE_SDK_SEND_LIMIT small): the
-- port keeps one chunk in flight (espconn_send refuses a second one while
-- the first is not wholly inside lwIP), so the library must queue the rest;
-- all must come back, in order.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(30)
local N = 1000
local function msg(i) return string.format("burst %04d ", i) .. string.rep(string.char(97 + i % 26), i % 300) end
local got = 0
local ws = websocket.createClient()
ws:on("connection", T.wrap(function(w)
  T.log("connected; FAKE_SDK_SEND_LIMIT=" .. tostring(os.getenv("FAKE_SDK_SEND_LIMIT")))
  for i = 1, N do w:send(msg(i), (i % 2) + 1) end
  T.log("queued", N, "messages")
end))
ws:on("receive", T.wrap(function(w, m, opcode)
  got = got + 1
  if m ~= msg(got) or opcode ~= (got % 2) + 1 then
    T.fail(string.format("message %d: got %s op %d, want %s op %d", got, T.show(m), opcode, T.show(msg(got)), (got % 2) + 1))
  end
  if got % 250 == 0 then T.log("received", got, "in order") end
  if got == N then w:close() end
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.eq(got, N, "all messages echoed")
  T.pass()
end))
ws:connect(T.echo .. "/")
