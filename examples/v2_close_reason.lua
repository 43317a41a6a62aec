-- Close with a code and a reason, and read the server's close frame.
--   build/nodemcu-lua examples/v2_close_reason.lua ws://127.0.0.1:PORT/
-- ws:close(code, reason): code 1000-1003, 1007-1014 or 3000-4999 (default
-- 1000), reason at most 123 bytes. The close callback gets the server's
-- close code and reason as extra arguments when the server sent a close
-- frame (code 1005 if the frame carried no code); both are nil otherwise.
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/"

local ws = websocket.createClient()

ws:on("connection", function(client)
  print("connected: " .. url)
  client:send("please say goodbye")
end)

ws:on("receive", function(client, msg)
  print("received:  " .. msg)
  -- 4000-4999 are for applications; an echo server answers with our frame.
  client:close(4000, "done for today")
end)

ws:on("close", function(_, status, code, reason)
  if code then
    print("closed:    status " .. status .. ", server's close frame: code " .. code .. ", reason '" .. reason .. "'")
  else
    print("closed:    status " .. status .. ", no close frame from the server")
  end
  ws = nil
  -- A failure exits non-zero on the host runner (the device has no os.exit).
  if status ~= 0 and os and os.exit then os.exit(1) end
end)

print("connecting to " .. url)
ws:connect(url)
