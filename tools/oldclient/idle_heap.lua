-- Heap held per idle open connection (issue 12): the same script on the old
-- and the new module. One client connects first and stays open (one-time
-- allocations such as the registry's first growth happen then), the live
-- heap is read, K more clients connect to the echo server and stay idle,
-- the heap is read again; the difference / K is printed. Everything the
-- module holds counts: the Lua userdata and registry references (Lua class),
-- and what is malloc'd: the client engine, port state, espconn and esp_tcp,
-- copied strings (device class, node.heap_device()).
-- Each reading collects garbage until the live figure stops changing (Lua
-- 5.1 halves its string buffer at every cycle, which would otherwise drift).
-- Nothing is closed: the script exits with the connections open (closing an
-- old client from its own callbacks trips its close-from-callback defect).
-- usage: nodemcu-lua51 idle_heap.lua ws://127.0.0.1:PORT/ [K]
-- prints: idle_heap clients=K total=<B per connection> device=<B> lua=<B>
local url, k = ...
k = tonumber(k) or 4
local opened = 0
local clients = {}
for i = 1, k do clients[i] = false end -- the script's own table, full before the first reading
local t = tmr.create()
local base_total, base_dev
local function measure()
  local last = -1
  for _ = 1, 50 do
    collectgarbage("collect")
    local now = node.heap_live()
    if now == last then break end
    last = now
  end
  return node.heap_live(), (node.heap_device())
end
local function finish()
  local total, dev = measure()
  local per, per_dev = (total - base_total) / k, (dev - base_dev) / k
  print(string.format("idle_heap clients=%d total=%.0f device=%.0f lua=%.0f", k, per, per_dev, per - per_dev))
  os.exit(0)
end
local function on_connection()
  opened = opened + 1
  if opened == k then t:alarm(300, tmr.ALARM_SINGLE, finish) end
end
local function on_receive() end
local function on_close(_, status)
  print("idle_heap: a connection closed, status " .. tostring(status))
  os.exit(1)
end
local first = websocket.createClient()
first:on("receive", on_receive)
first:on("close", on_close)
first:on("connection", function()
  t:alarm(100, tmr.ALARM_SINGLE, function()
    base_total, base_dev = measure()
    for i = 1, k do
      local c = websocket.createClient()
      c:on("connection", on_connection)
      c:on("receive", on_receive)
      c:on("close", on_close)
      c:connect(url)
      clients[i] = c
    end
  end)
end)
first:connect(url)
