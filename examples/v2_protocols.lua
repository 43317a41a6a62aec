-- Offer WebSocket subprotocols and see which one the server chose.
--   build/nodemcu-lua examples/v2_protocols.lua ws://127.0.0.1:PORT/
-- (the test echo server, tests/peers/echo_server.py, speaks "echo.v2" and
-- "json.v1"). Without ws:config{protocols = ...} the module offers "chat";
-- an empty list offers none. A server answering with a protocol that was not
-- offered fails the connection with status -7.
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/"

local ws = websocket.createClient()
-- Sent as "Sec-WebSocket-Protocol: mqtt, echo.v2", most preferred first.
ws:config({ protocols = { "mqtt", "echo.v2" } })

ws:on("connection", function(client)
  -- nil when the server chose none
  print("connected, protocol: " .. tostring(client:protocol()))
  client:send("hello over " .. tostring(client:protocol()))
end)

ws:on("receive", function(client, msg)
  print("received:  " .. msg)
  client:close()
end)

ws:on("close", function(client, status)
  -- ws:protocol() stays readable until the next ws:connect
  print("closed:    status " .. status .. ", protocol was " .. tostring(client:protocol()))
  ws = nil
  -- A failure exits non-zero on the host runner (the device has no os.exit).
  if status ~= 0 and os and os.exit then os.exit(1) end
end)

print("connecting to " .. url)
ws:connect(url)
