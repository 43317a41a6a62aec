-- An error in a callback is printed with a traceback; the loop goes on.
tmr.create():alarm(5, tmr.ALARM_SINGLE, function() error("boom-in-callback") end)
tmr.create():alarm(30, tmr.ALARM_SINGLE, function() print("DONE") end)
