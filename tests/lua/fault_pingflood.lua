-- A server that sends 50 000 pings (125-byte payloads) and never reads
-- again. The client cannot deliver its pongs; it answers every ping while
-- the waiting pongs fit in WS_MAX_PENDING_PONGS (1024) bytes, and beyond
-- that only the most recent one (RFC 6455 5.5.3), so what it holds for
-- them must stay bounded (16 KiB above the level before connect, the
-- kernel's socket buffers take the first ~2 MB of pongs). Then a text
-- message arrives, the client closes (close_timeout 0.5 s: status 0) and
-- is reused.
-- (Without a bound on waiting pongs the library grew by ~131 bytes per
-- ping: 4.4 MB here.)
-- Residual: the closed connection's last unsent bytes stay in the fake
-- SDK's TCP send buffer (FAKE_SDK_SEND_LIMIT, 2920 bytes) and in the port's
-- copy of the chunk espconn still reads, until the peer resets the
-- connection 3 s later, as lwIP keeps a closing pcb's unsent data; that is
-- the network stack's memory, not the library's, hence 8 KiB allowed
-- instead of 0.
local F = dofile((os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua")):gsub("testlib%.lua$", "fault_lib.lua"))
local T = F.T
local N = tonumber(os.getenv("WS_PINGFLOOD_N")) or 50000
local LIMIT = 16384
T.deadline(40)
local case
case = { id = "pingflood", name = N .. " pings, pongs never read", url = T.raw("pingflood-" .. N),
  config = { close_timeout = 0.5 }, status = 0, connected = true, heap = LIMIT, residual = 8192,
  on_receive = function(w, msg)
    T.eq(msg, "sent " .. N .. " pings", "message after the pings")
    collectgarbage()
    collectgarbage()
    local live = node.heap_live() - case.base
    print("HEAP fault_pingflood_live " .. live)
    T.check(live <= LIMIT, string.format("live heap after %d unread pongs: %d bytes above the level before connect <= %d", N, live, LIMIT))
    w:close()
  end }
F.run({ case }, function()
  F.summary()
  T.pass()
end)
