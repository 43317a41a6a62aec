-- The websocket module documentation's on() example; only the URL differs
-- (first script argument, else the documentation's own URL).
local ws = websocket.createClient()
ws:on("connection", function(ws)
  print('got ws connection')
end)
ws:on("receive", function(_, msg, opcode)
  print('got message:', msg, opcode) -- opcode is 1 for text message, 2 for binary
end)
ws:on("close", function(_, status)
  print('connection closed', status)
  ws = nil -- required to lua gc the websocket client
end)
ws:connect((arg and arg[1]) or 'ws://echo.websocket.org')
