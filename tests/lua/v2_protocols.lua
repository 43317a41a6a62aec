-- Protocols: ws:config{protocols = {...}} sets the offered
-- Sec-WebSocket-Protocol (default "chat", {} = no header), the server's
-- choice must be one of them (else -7), ws:protocol() tells it from the
-- connection callback until the next connect.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)

-- Config errors: nothing changes, a Lua error.
local c = websocket.createClient()
T.eq(c:protocol(), nil, "no protocol before any connection")
for _, bad in ipairs({ "a", { "a b" }, { "" }, { 1 }, { "a,b" }, { "x", {} } }) do
  local ok, err = pcall(c.config, c, { protocols = bad })
  T.check(not ok and tostring(err):find("protocol"), "config rejects protocols " .. T.show(type(bad) == "table" and tostring(bad[1]) or bad) .. ": " .. tostring(err))
end
c = nil

local seen = {}
local function head_has(ws, msg, line)
  return msg:find("\r\n" .. line .. "\r\n", 1, true) ~= nil
end

local cases = {
  { name = "echo server picks echo.v2 of mqtt, echo.v2", url = T.echo .. "/",
    config = { protocols = { "mqtt", "echo.v2" } }, status = 0, connected = true,
    on_connect = function(ws)
      T.eq(ws:protocol(), "echo.v2", "protocol in the connection callback")
      ws:send("with a protocol")
    end,
    on_receive = function(ws, msg)
      T.eq(msg, "with a protocol", "echo with a protocol")
      ws:close()
    end },
  { name = "request carries the list", url = T.raw("headers"),
    config = { protocols = { "a", "b" } }, status = 0, connected = true,
    on_receive = function(ws, msg)
      T.check(head_has(ws, msg, "Sec-WebSocket-Protocol: a, b"), "request has 'Sec-WebSocket-Protocol: a, b'")
      T.check(not msg:find("chat", 1, true), "default chat replaced")
      T.eq(ws:protocol(), nil, "raw peer chose none")
      ws:close()
    end },
  { name = "empty list sends no protocol header", url = T.raw("headers"),
    config = { protocols = {} }, status = 0, connected = true,
    on_receive = function(ws, msg)
      T.check(not msg:lower():find("sec-websocket-protocol", 1, true), "no protocol header")
      ws:close()
    end },
  { name = "default offer is still chat", url = T.raw("headers"), status = 0, connected = true,
    on_receive = function(ws, msg)
      T.check(head_has(ws, msg, "Sec-WebSocket-Protocol: chat"), "request has the default chat")
      ws:close()
    end },
  { name = "server picks b of a, b", url = T.raw("proto-b"),
    config = { protocols = { "a", "b" } }, status = 0, connected = true,
    on_connect = function(ws)
      T.eq(ws:protocol(), "b", "raw peer's choice")
      seen.client = ws
      ws:close()
    end },
  { name = "server picks c that was not offered", url = T.raw("proto-c"),
    config = { protocols = { "a", "b" } }, status = -7, connected = false },
  { name = "server picks chat with the default offer", url = T.raw("proto-chat"), status = 0, connected = true,
    on_connect = function(ws)
      T.eq(ws:protocol(), "chat", "chat accepted by default")
      ws:close()
    end },
  { name = "server picks chat after an empty list", url = T.raw("proto-chat"),
    config = { protocols = {} }, status = -7, connected = false },
}

T.run_cases(cases, function()
  -- Still readable after the close, until the next connect.
  T.eq(seen.client:protocol(), "b", "protocol kept after the close")
  local ws = seen.client
  ws:on("connection", T.wrap(function(w)
    T.eq(w:protocol(), nil, "next connection: none chosen")
    w:close()
  end))
  ws:on("close", T.wrap(function(_, status)
    T.eq(status, 0, "reconnect closed")
    T.pass()
  end))
  ws:connect(T.echo .. "/")
  T.eq(ws:protocol(), nil, "cleared by connect")
end)
