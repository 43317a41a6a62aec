-- A server that floods: 20 000 text messages (about 1 MB) written in one go,
-- as fast as TCP takes them, while the receive callback does some work on
-- each (checks it against the expected text, sums its bytes, and hashes it
-- WORK more times) so that Lua is the slow side; the raw peer's verdict
-- says how long the client held its writing back. All must arrive, in
-- order, with the peak heap bounded (TCP flow control holds the rest back:
-- the fake SDK reads one segment per callback, like lwIP), and the client
-- is reused afterwards. Not covered elsewhere: burst.lua floods in the
-- other direction (the client's send queue).
local F = dofile((os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua")):gsub("testlib%.lua$", "fault_lib.lua"))
local T = F.T
local N = tonumber(os.getenv("WS_FLOOD_N")) or 20000
T.deadline(60)
local WORK = tonumber(os.getenv("WS_FLOOD_WORK")) or 8
local got, sum, want_sum, busy = 0, 0, 0, 0
local function expected(i) return "flood " .. i .. " " .. string.rep(".", i % 61) end
for i = 1, N do
  local m = expected(i)
  for k = 1, #m do want_sum = want_sum + m:byte(k) end
end
local t_first
local LIVE_MAX, live_max = 16384, 0
local case
case = { id = "flood", name = N .. " messages as fast as possible", url = T.raw("flood-" .. N), status = 0, connected = true,
    start = function() got, sum, busy = 0, 0, 0 end,
    -- Garbage from the callback (the message strings) is part of the peak:
    -- Lua collects it in steps, so a bound above F.HEAP is allowed; still
    -- far below the ~1.1 MB of the whole stream.
    heap = 262144, peer = "flood",
    on_receive = function(w, msg, opcode)
      got = got + 1
      if got == 1 then t_first = tmr.now() end
      local want = expected(got)
      if msg ~= want or opcode ~= 1 then
        T.fail(string.format("message %d: got %s (opcode %s), want %s", got, T.show(msg), tostring(opcode), T.show(want)))
      end
      -- Some work per message: a byte sum (checked at the end) and a few
      -- more passes, so that Lua reads slower than the server writes.
      for k = 1, #msg do sum = sum + msg:byte(k) end
      for _ = 1, WORK do
        local x = 0
        for k = 1, #msg do x = (x * 31 + msg:byte(k)) % 65521 end
        busy = (busy + x) % 65521
      end
      if got % 1000 == 0 then
        -- What stays alive while the flood goes on (garbage collected):
        -- the connection, the segment being processed, this message.
        collectgarbage()
        collectgarbage()
        local live = node.heap_live() - case.base
        if live > live_max then live_max = live end
        if live > LIVE_MAX then T.fail(string.format("message %d: live heap %d above the level before connect > %d", got, live, LIVE_MAX)) end
      end
      if got % 5000 == 0 then T.log("received", got, "in order") end
      if got == N then
        local secs = (tmr.now() - t_first) / 1e6
        T.log(string.format("%d messages in %.2f s after the first", N, secs))
        w:close()
      end
    end }
F.run({ case }, function()
  print("HEAP fault_flood_live_max " .. live_max)
  T.check(live_max > 0, "flood live heap sampled: at most " .. live_max .. " bytes above the level before connect")
  T.eq(got, N, "every message received")
  T.eq(sum, want_sum, "byte sum of all messages")
  F.summary()
  T.pass()
end)
