-- The server ends the connection: close frame after an echo (websockets
-- server, code 4000), close frame at once (raw peer, code 4001: the peer
-- checks the client echoes it), TCP FIN without a close frame, TCP reset.
-- Each status reaches the close callback unchanged through the module.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(20)
T.run_cases({
  { name = "echo server close 4000", url = T.echo .. "/close/4000", status = -6, connected = true,
    on_connect = function(w) w:send("first") end },
  { name = "raw server close 4001", url = T.raw("close-4001"), status = -6, connected = true, peer = "close" },
  { name = "TCP closed without close frame", url = T.raw("eof"), status = -110, connected = true },
  { name = "TCP reset", url = T.raw("reset"), status = -109, connected = true },
}, function() T.pass() end)
