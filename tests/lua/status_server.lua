-- Status codes caused by the server or the network: -6, -7, -17, -18, -19,
-- -27, espconn errors (refused, reset, closed).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)
local function send_first(w) w:send("first") end
T.run_cases({
  { name = "server close 4001", url = T.raw("close-4001"), status = -6, connected = true, peer = "close" },
  { name = "echo server close 4000", url = T.echo .. "/close/4000", status = -6, connected = true, on_connect = send_first },
  { name = "bad accept key", url = T.raw("badaccept"), status = -7, connected = false },
  { name = "not switching", url = T.raw("badstatus"), status = -17, connected = false },
  { name = "huge response headers", url = T.raw("hugeheaders"), status = -27, connected = false },
  { name = "malformed header line", url = T.raw("badheader"), status = -27, connected = false },
  { name = "connect timeout", url = T.raw("mute"), config = { connect_timeout = 0.3 }, status = -18, connected = false },
  { name = "ping timeout (raw)", url = T.raw("deaf"), config = { ping_interval = 0.2, pong_timeout = 0.5 },
    status = -19, connected = true, peer = "deaf" },
  { name = "ping timeout (websockets, reading paused)", url = T.echo .. "/silent",
    config = { ping_interval = 0.2, pong_timeout = 0.5 }, status = -19, connected = true },
  { name = "connection refused", url = T.refused, status = -109, connected = false }, -- the fake SDK maps ECONNREFUSED to ESPCONN_RST
  { name = "TCP reset", url = T.raw("reset"), status = -109, connected = true }, -- ECONNRESET -> ESPCONN_RST
  { name = "TCP closed without close frame", url = T.raw("eof"), status = -110, connected = true },
  { name = "close while handshaking", url = T.raw("mute"), status = 0, connected = false,
    after_connect = function(w) T.later(100, function() w:close() end) end },
  { name = "user close, server never replies", url = T.echo .. "/silent", config = { close_timeout = 0.3 },
    status = 0, connected = true, on_connect = function(w) w:close() end },
}, function() T.pass() end)
