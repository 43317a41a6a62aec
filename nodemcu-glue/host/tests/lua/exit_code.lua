-- os.exit(code) from a callback ends the run with that code, even with an
-- armed auto timer and arguments passed through.
print("args", arg[1], select("#", ...), ...)
tmr.create():alarm(1000, tmr.ALARM_AUTO, function() print("never") end)
tmr.create():alarm(10, tmr.ALARM_SINGLE, function() os.exit(tonumber(arg[1])) end)
