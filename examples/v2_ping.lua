-- Ping the server and measure the round trip: ws:ping([payload]) and the
-- "pong" event, function(ws, payload, rtt), rtt in milliseconds since our
-- latest ping (also the keep-alive's own pings), nil when unknown.
--   build/nodemcu-lua examples/v2_ping.lua ws://127.0.0.1:PORT/
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/"

local ws = websocket.createClient()
local left = 3

ws:on("connection", function(client)
  print("connected: " .. url)
  client:ping("ping 1")
end)

ws:on("pong", function(client, payload, rtt)
  print(string.format("pong:      '%s' after %.1f ms", payload, rtt or -1))
  left = left - 1
  if left > 0 then
    client:ping("ping " .. (4 - left))
  else
    client:close()
  end
end)

ws:on("close", function(_, status)
  print("closed:    status " .. status)
  ws = nil
  if status ~= 0 and os and os.exit then os.exit(1) end
end)

print("connecting to " .. url)
ws:connect(url)
