-- print reaches stdout at once (the harness kills this run after 1 s).
print("early")
io.write("partial")
tmr.create():alarm(5000, tmr.ALARM_SINGLE, function() print("late") end)
