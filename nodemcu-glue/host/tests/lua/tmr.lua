-- tmr semantics of the host runner; self-checking, prints PASS/FAIL lines.
local function check(name, cond) print((cond and "PASS " or "FAIL ") .. name) end
local log = {}
local t0 = tmr.now()

local auto = tmr.create()
local n = 0
check("alarm returns true", auto:alarm(10, tmr.ALARM_AUTO, function(t)
  n = n + 1
  check("auto callback gets its timer", t == auto)
  if n == 3 then
    t:stop()
    local running, mode = t:state()
    check("auto stopped: state", running == false and mode == tmr.ALARM_AUTO)
    log[#log + 1] = "auto"
  end
end))
local running, mode = auto:state()
check("auto state while running", running == true and mode == tmr.ALARM_AUTO)

-- armed before the 5 ms semi timer, so it fires first however slowly this
-- script runs (a loaded machine once let 4 ms pass between the two)
local single = tmr.create()
single:alarm(1, tmr.ALARM_SINGLE, function(t)
  log[#log + 1] = "single"
  check("single unregistered after firing", t:state() == nil)
  check("single start without register fails", t:start() == false)
end)

local semi = tmr.create()
local semi_runs = 0
semi:register(5, tmr.ALARM_SEMI, function(t)
  semi_runs = semi_runs + 1
  log[#log + 1] = "semi" .. semi_runs
  if semi_runs == 1 then check("semi restart", t:start()) end
end)
check("registered semi not running", (semi:state()) == false)
check("semi start", semi:start())

local stopped = tmr.create()
stopped:alarm(20, tmr.ALARM_SINGLE, function() log[#log + 1] = "stopped fired" end)
check("stop returns true", stopped:stop() == true)
check("second stop returns false", stopped:stop() == false)

local unreg = tmr.create()
unreg:register(20, tmr.ALARM_AUTO, function() log[#log + 1] = "unregistered fired" end)
unreg:start()
unreg:unregister()
check("unregistered state is nil", unreg:state() == nil)

local iv = tmr.create()
iv:alarm(10000, tmr.ALARM_SINGLE, function() log[#log + 1] = "interval" end)
iv:interval(120)

-- anchored while armed: the only reference is dropped here
tmr.create():alarm(200, tmr.ALARM_SINGLE, function()
  log[#log + 1] = "anonymous"
end)
collectgarbage()
collectgarbage()

tmr.create():alarm(350, tmr.ALARM_SINGLE, function()
  local s = table.concat(log, ",")
  check("order " .. s, s == "single,semi1,semi2,auto,interval,anonymous")
  check("elapsed", tmr.now() - t0 >= 350000)
  print("DONE")
end)
