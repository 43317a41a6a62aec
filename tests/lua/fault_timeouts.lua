-- Faults that end by a timer or a failed lookup: the TCP connect never
-- completes (a listener whose accept queue is full drops our SYNs), the
-- server accepts TCP but never answers the opening handshake, host name
-- lookups that fail, and a server that never answers pings. Each ends with
-- its status, bounded heap, and the same client connects again.
-- Run with FAKE_SDK_DNS_HOSTS_ONLY=1 (no lookup leaves the machine).
-- Already covered elsewhere with a fresh client per case (status_server.lua,
-- status_url.lua): -18 against a mute server, -19 against the raw "deaf"
-- peer and the websockets server with reading paused, -5 for .invalid names.
-- New here: -18 while TCP is still connecting, -5 from a lookup answered
-- later by the resolver thread, and the reuse of the client after each.
local F = dofile((os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua")):gsub("testlib%.lua$", "fault_lib.lua"))
local T = F.T
T.deadline(30)
local hole
F.run({
  -- Step 1: the raw peer opens the black hole and tells us its port.
  { id = "blackhole_port", name = "black hole port", url = T.raw("blackhole"), status = 0, connected = true,
    on_receive = function(w, msg)
      hole = tonumber(msg)
      T.check(hole ~= nil, "black hole port " .. tostring(msg))
      w:close()
    end },
  { id = "tcp_connect_timeout", name = "TCP connect never completes", config = { connect_timeout = 0.5 },
    url = function() return "ws://127.0.0.1:" .. hole .. "/" end, status = -18, connected = false },
  { id = "handshake_timeout", name = "no answer to the opening handshake", url = T.raw("mute"),
    config = { connect_timeout = 0.3 }, status = -18, connected = false },
  { id = "dns_invalid", name = "lookup of a .invalid name", url = "ws://no-such-host.invalid/", status = -5, connected = false },
  { id = "dns_unknown", name = "lookup of an unknown name", url = "ws://no-such-host.example:8080/", status = -5, connected = false },
  { id = "ping_timeout", name = "server never answers pings", url = T.raw("deaf"),
    config = { ping_interval = 0.2, pong_timeout = 0.5 }, status = -19, connected = true, peer = "deaf" },
}, function()
  F.summary()
  T.pass()
end)
