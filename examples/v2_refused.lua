-- A server refusing the opening handshake: the close callback gets status
-- -17 and, as its fifth argument, the HTTP status the server answered with.
--   build/nodemcu-lua examples/v2_refused.lua ws://127.0.0.1:PORT/refuse/403
-- (the test echo server refuses with the status in the path.)
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/refuse/403"

local ws = websocket.createClient()

ws:on("connection", function(client)
  print("connected: not refused after all")
  client:close()
end)

ws:on("close", function(_, status, code, reason, http)
  if status == -17 and http then
    print("closed:    status -17, the server answered HTTP " .. http)
  else
    print("closed:    status " .. status)
  end
  ws = nil
end)

print("connecting to " .. url)
ws:connect(url)
