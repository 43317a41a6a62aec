-- Stay connected: with ws:config{reconnect = {initial = s, max = s}} a lost
-- connection is made again on its own, after a growing random wait. The
-- "close" callback still runs for each loss; ws:close() stops it. This demo
-- stops after the third connection (against the test echo server's
-- /close/4000, which closes every connection after one echo).
--   build/nodemcu-lua examples/v2_reconnect.lua ws://127.0.0.1:PORT/close/4000
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/"

local ws = websocket.createClient()
ws:config({ reconnect = { initial = 0.2, max = 30 } })
local connections = 0

ws:on("connection", function(client)
  connections = connections + 1
  print("connected: " .. connections)
  client:send("hello " .. connections)
end)

ws:on("receive", function(_, msg)
  print("received:  " .. msg)
end)

ws:on("close", function(client, status, code)
  if status == 0 then
    print("closed:    status 0 after " .. connections .. " connections")
    ws = nil
    return
  end
  print("lost:      status " .. status .. (code and (", close code " .. code) or "") .. ", reconnecting")
  if connections >= 3 then
    client:close() -- enough for this demo: no more reconnections
  end
end)

print("connecting to " .. url)
ws:connect(url)
