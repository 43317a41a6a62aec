-- Receive a large message piece by piece instead of as one string.
--   build/nodemcu-lua examples/v2_streaming.lua ws://127.0.0.1:PORT/
-- With a "fragment" handler set before ws:connect, every data message
-- arrives as it comes off the network: fragment(ws, chunk, opcode, fin),
-- opcode 1 (text) or 2 (binary) on every piece, fin true on the last one.
-- Nothing is reassembled, so the heap does not have to hold the message
-- (max_message does not apply) and "receive" is not called for it.
local url = (arg and arg[1]) or "ws://127.0.0.1:8080/"
local SIZE = 200000

local ws = websocket.createClient()
local bytes, pieces, sum = 0, 0, 0
local sample = 1 -- every 97th byte of the message goes into a checksum

ws:on("fragment", function(client, chunk, opcode, fin)
  while sample <= bytes + #chunk do
    sum = (sum + chunk:byte(sample - bytes)) % 65536
    sample = sample + 97
  end
  bytes = bytes + #chunk
  pieces = pieces + 1
  if fin then
    print("received:  " .. bytes .. " bytes (opcode " .. opcode .. ") in " .. pieces .. " pieces, sample sum " .. sum)
    client:close()
  end
end)

ws:on("connection", function(client)
  print("connected: " .. url)
  -- the echo server sends it back as one message
  client:send(string.rep("0123456789", SIZE / 10), 2)
  print("sent:      " .. SIZE .. " bytes")
end)

ws:on("close", function(_, status)
  print("closed:    status " .. status)
  ws = nil
  -- A failure exits non-zero on the host runner (the device has no os.exit).
  if status ~= 0 and os and os.exit then os.exit(1) end
end)

print("connecting to " .. url)
ws:connect(url)
