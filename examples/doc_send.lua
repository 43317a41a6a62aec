-- The websocket module documentation's send() example; only the URL differs
-- (first script argument, else the documentation's own URL).
ws = websocket.createClient()
ws:on("connection", function()
  ws:send('hello!')
end)
ws:connect((arg and arg[1]) or 'ws://echo.websocket.org')
