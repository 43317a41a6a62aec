-- The server vanishes (TCP close, or TCP reset) at each stage of a
-- connection: halfway through the 101 response, after half a frame header,
-- after half a frame payload, and during the closing handshake (after our
-- close frame, without replying). Each ends with its status, bounded heap,
-- and the same client connects again (see fault_lib.lua).
-- Already covered elsewhere (status_server.lua): reset/close right after a
-- complete 101 (-109/-110) and a silent server during the closing
-- handshake (close_timeout, status 0).
local F = dofile((os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua")):gsub("testlib%.lua$", "fault_lib.lua"))
local T = F.T
T.deadline(30)
local function close_now(w) w:close() end
F.run({
  { id = "handshake_fin", name = "TCP close mid-handshake", url = T.raw("vanish-handshake-fin"), status = -110, connected = false },
  { id = "handshake_rst", name = "TCP reset mid-handshake", url = T.raw("vanish-handshake-rst"), status = -109, connected = false },
  { id = "header_fin", name = "TCP close after half a frame header", url = T.raw("vanish-header-fin"), status = -110, connected = true },
  { id = "header_rst", name = "TCP reset after half a frame header", url = T.raw("vanish-header-rst"), status = -109, connected = true },
  { id = "payload_fin", name = "TCP close after half a payload", url = T.raw("vanish-payload-fin"), status = -110, connected = true },
  { id = "payload_rst", name = "TCP reset after half a payload", url = T.raw("vanish-payload-rst"), status = -109, connected = true },
  -- A user close ends with 0 when the peer just closes TCP; a reset is
  -- reported as the espconn error (DESIGN.md: "except while closing").
  { id = "closing_fin", name = "TCP close instead of a close reply", url = T.raw("vanish-closing-fin"), status = 0,
    connected = true, on_connect = close_now, peer = "vanish-closing-fin" },
  { id = "closing_rst", name = "TCP reset instead of a close reply", url = T.raw("vanish-closing-rst"), status = -109,
    connected = true, on_connect = close_now, peer = "vanish-closing-rst" },
}, function()
  F.summary()
  T.pass()
end)
