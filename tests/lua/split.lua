-- The 101 response arrives in many 1..7-byte segments and the first frame
-- shares the last segment with the end of the response.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(10)
local got = 0
local ws = websocket.createClient()
ws:on("connection", T.wrap(function() T.log("connected after the split handshake") end))
ws:on("receive", T.wrap(function(w, msg, opcode)
  got = got + 1
  if got == 1 then
    T.eq(msg, "glued", "frame glued to the handshake")
    T.eq(opcode, 1, "opcode")
    w:send("then echo")
  else
    T.eq(msg, "then echo", "echo after the split handshake")
    w:close()
  end
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.eq(got, 2, "message count")
  T.pass()
end))
ws:connect(T.raw("split"))
