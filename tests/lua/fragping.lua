-- A text message in three fragments with a ping between each: the message
-- arrives joined, and each ping is answered with a pong of the same payload
-- (the raw peer checks the pongs and tells us "pong-ok").
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(10)
local got = {}
local ws = websocket.createClient()
ws:on("connection", T.wrap(function() T.log("connected") end))
ws:on("receive", T.wrap(function(w, msg, opcode)
  got[#got + 1] = msg
  if #got == 1 then
    T.eq(msg, "frag1-frag2-end", "fragments joined")
    T.eq(opcode, 1, "opcode of the first fragment")
  elseif #got == 2 then
    T.eq(msg, "pong-ok", "peer verdict on the pongs")
    w:send("after fragments")
  else
    T.eq(msg, "after fragments", "echo afterwards")
    w:close()
  end
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.eq(#got, 3, "message count")
  print("PEERCHECK fragping")
  T.pass()
end))
ws:connect(T.raw("fragping"))
