-- An uncaught error in the main chunk: exit status 1, no loop.
tmr.create():alarm(5, tmr.ALARM_SINGLE, function() print("loop ran") end)
error("main-chunk-failure")
