-- Peak heap per connection, from the fake SDK's accounting of every
-- malloc/realloc (library, port, espconn and Lua alike), printed as
-- "HEAP <what> <bytes>" lines that the driver collects.
-- Bounds are generous ceilings that catch gross regressions only.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(15)
T.check(node and node.heap_peak and node.heap_reset_peak, "node.heap_peak/heap_reset_peak exist (host only)")
local IDLE_MAX = tonumber(os.getenv("WS_HEAP_IDLE_MAX")) or 8192
local ECHO_MAX = tonumber(os.getenv("WS_HEAP_ECHO_MAX")) or 400000

local big = {}
for k = 1, 100000 do big[k] = string.char(32 + (k * 7) % 95) end
big = table.concat(big)
local ws = websocket.createClient()
local base

local function mark()
  collectgarbage()
  collectgarbage()
  node.heap_reset_peak()
  return node.heap_peak()
end

ws:on("connection", T.wrap(function(w)
  T.later(200, function()
    local idle = node.heap_peak() - base
    print("HEAP idle_open_connection " .. idle)
    T.check(idle > 0 and idle <= IDLE_MAX, "idle open connection peak " .. idle .. " <= " .. IDLE_MAX)
    base = mark()
    w:send(big)
  end)
end))
ws:on("receive", T.wrap(function(w, msg)
  local peak = node.heap_peak() - base
  T.eq(msg, big, "100 000-byte echo")
  print("HEAP echo_100000 " .. peak)
  T.check(peak >= 100000 and peak <= ECHO_MAX, "100 000-byte echo peak " .. peak .. " <= " .. ECHO_MAX)
  w:close()
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.pass()
end))
base = mark()
ws:connect(T.echo .. "/")
