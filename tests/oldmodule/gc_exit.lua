-- Lua 5.3 only (Lua 5.1's os.exit does not close the state): the script
-- exits with os.exit(0, true) while a client is connected and referenced
-- only by the module. lua_close runs the client's __gc. Expected defect D4
-- (EXPECTED-DEFECTS.md): __gc calls the close callback with -100 as its
-- only argument, frees its data and lets Lua free the ws_info, but never
-- calls ws_close: the library's connection is abandoned (on the device it
-- would later call back into freed memory; here the process ends first).
-- The driver checks that the line "GCCLOSE 1 -100" follows "PASS gc_exit".
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(10)
if T.lua ~= "5.3" then T.fail("gc_exit needs Lua 5.3 (os.exit(code, true) closes the state)") end
local c = websocket.createClient()
c:on("close", function(...)
  print("GCCLOSE " .. select("#", ...) .. " " .. table.concat({ ... }, " "))
end)
c:on("connection", T.wrap(function(w)
  w:send("in flight at exit")
  T.pass_exit("exit with a live connection")
end))
c:connect(T.echo .. "/")
c = nil
