-- Garbage collection and the original module:
--  * a connected client without any script reference is kept alive by the
--    module's self reference, works, and is collected after its close
--    callback; its __gc then calls no callback (state 4);
--  * a client that never connected is collected; expected defect D4
--    (EXPECTED-DEFECTS.md): its __gc calls the close callback anyway
--    (state 0 is "not 4") with -100 as the callback's ONLY argument (the
--    client is not passed), i.e. function(ws, status) sees ws = -100,
--    status = nil. Without a close callback nothing is called.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(20)
local weak = setmetatable({}, { __mode = "v" })

-- never connected, no close callback
weak.plain = websocket.createClient()
-- never connected, with a close callback
local gc_calls = {}
do
  local c = websocket.createClient()
  c:on("close", function(...)
    gc_calls[#gc_calls + 1] = { n = select("#", ...), ... }
  end)
  weak.withcb = c
end
collectgarbage()
collectgarbage()
T.check(weak.plain == nil, "a never-connected client is collected")
T.check(weak.withcb == nil, "a never-connected client with a close callback is collected")
T.eq(#gc_calls, 1, "D4: close callbacks from __gc of a never-connected client")
T.eq(gc_calls[1].n, 1, "D4: number of arguments")
T.eq(gc_calls[1][1], -100, "D4: the only argument")

local closes = 0
local function start()
  local c = websocket.createClient()
  weak.live = c
  c:on("connection", T.wrap(function(w)
    collectgarbage()
    collectgarbage()
    T.eq(T.registry_count(w), 1, "connected, no script reference: the module's self reference")
    w:send("still alive")
  end))
  T.close_after_echo(c, "unreferenced client", "still alive", nil, function()
    closes = closes + 1
    T.later(5, function()
      collectgarbage()
      collectgarbage()
      T.check(weak.live == nil, "collected once its close callback has run")
      T.eq(closes, 1, "no close callback from __gc after a finished connection")
      T.pass()
    end)
  end)
  c:connect(T.echo .. "/")
end
start()
collectgarbage()
collectgarbage()
T.check(weak.live ~= nil, "a connecting client without references is not collected")
