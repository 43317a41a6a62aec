-- A first look at the websocket module: connect, send two messages, print
-- what comes back, close.
--   build/nodemcu-lua examples/echo.lua ws://127.0.0.1:8080/
-- (`make example` starts a local echo server and runs this for you.)
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/"
local outbox = { "Hello from a NodeMCU Lua script!", "Second message, sent after the first echo." }

local ws = websocket.createClient()

local function send_next(client)
  local msg = table.remove(outbox, 1)
  if msg then
    print("sent:      " .. msg)
    client:send(msg)
  else
    print("closing the connection")
    client:close()
  end
end

ws:on("connection", function(client)
  print("connected: " .. url)
  send_next(client)
end)

ws:on("receive", function(client, msg, opcode)
  print("received:  " .. msg .. "  (opcode " .. opcode .. ")")
  send_next(client)
end)

ws:on("close", function(_, status)
  print("closed:    status " .. status .. (status == 0 and " (normal close)" or " (error)"))
  ws = nil
  -- A failure exits non-zero on the host runner (the device has no os.exit).
  if status ~= 0 and os and os.exit then os.exit(1) end
end)

print("connecting to " .. url)
ws:connect(url)
