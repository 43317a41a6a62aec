-- Close, then connect at once, from the connection callback (issue 11):
--   ws:on("connection", function(c) c:close(); c:connect(url) end)
-- The old C client kept connectionState at 3 through a closing handshake
-- the user started, so the module's connect raised
-- "Websocket already connecting or connected." and the first connection
-- then ended normally (status 0, once). Then the same client connects again
-- (from a timer) and works. Depends on the library keeping state 3 during a
-- user close (issue 11, item 1; before it, connect was accepted and the
-- library started a second connection on the same ws_info).
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(15)
local url = T.echo .. "/"
local connections, closes, second = 0, 0, false
ws = websocket.createClient()
ws:on("connection", T.wrap(function(c)
  connections = connections + 1
  if second then
    c:send("second")
    return
  end
  c:close()
  local ok, err = pcall(c.connect, c, url)
  T.check(not ok, "connect right after close raises an error")
  T.eq(err, T.ERR_CONNECTED, "the error")
  -- state 3 while closing: the module's send check passes (no error, as
  -- with the old client); the library sends nothing after its close frame,
  -- so no echo of it may arrive (the receive callback accepts only "second")
  ok, err = pcall(c.send, c, "late")
  T.check(ok, "send while the closing handshake runs raises no error: " .. tostring(err))
end))
-- the echo of "second" comes only on the reconnected client
T.close_after_echo(ws, "close-then-connect client", "second", nil, function()
  closes = closes + 1
  if second then
    T.eq(connections, 2, "connection callbacks")
    T.eq(closes, 2, "close callbacks")
    return T.pass()
  end
  -- No second connection may be running: nothing more happens for 300 ms.
  T.later(300, function()
    T.eq(connections, 1, "connection callbacks after close-then-connect")
    T.eq(closes, 1, "close callbacks after close-then-connect")
    second = true
    ws:connect(url)
  end)
end)
ws:connect(url)
-- a second connect while the first is still connecting: refused too
local ok, err = pcall(ws.connect, ws, url)
T.check(not ok and err == T.ERR_CONNECTED, "connect while connecting raises " .. T.show(err))
T.eq(T.registry_count(ws), 1, "the refused connect took no reference")
