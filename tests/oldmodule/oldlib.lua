-- Helpers for the scenarios run on the firmware's original websocket module
-- (tests/oldmodule/run.py). Loads tests/lua/testlib.lua (T) and adds:
--   T.ERR_CONNECTED   the module's error for connect on a busy client
--   T.ERR_NOT_CONN    the module's error for send on a client not connected
--   T.registry_count(obj)  how many registry entries hold obj (the module's
--                     self references live there); T.registry_holds(obj): > 0
--   T.run(code, name) runs example code text as its own chunk
--   T.closed_ok(c, what, after)  c's close callback: status 0, then after(c)
--   T.close_after_echo(c, what, msg, opcode, after)  c's receive callback
--                     checks the echo (msg; opcode unless nil) and closes;
--                     then T.closed_ok(c, what, after)
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "../lua/testlib.lua"))

-- luaL_error from a C function adds no position; the module's own messages
-- end with a newline.
T.ERR_CONNECTED = "Websocket already connecting or connected.\n"
T.ERR_NOT_CONN = "Websocket isn't connected.\n"

function T.registry_count(obj)
  local n = 0
  for _, v in pairs(debug.getregistry()) do
    if rawequal(v, obj) then n = n + 1 end
  end
  return n
end

function T.registry_holds(obj)
  return T.registry_count(obj) > 0
end

local load_ = loadstring or load
function T.run(code, name)
  local f = assert(load_(code, "=" .. name))
  return f()
end

-- The end of most scenarios: a normal close (status 0), then after(client).
function T.closed_ok(c, what, after)
  c:on("close", T.wrap(function(w, status)
    T.eq(status, 0, what .. ": close status")
    return after(w)
  end))
end

-- One echo, checked, closes the client (the scenarios' last round).
function T.close_after_echo(c, what, msg, opcode, after)
  c:on("receive", T.wrap(function(w, got, op)
    T.eq(got, msg, what .. ": echo")
    if opcode ~= nil then T.eq(op, opcode, what .. ": opcode") end
    w:close()
  end))
  T.closed_ok(c, what, after)
end

-- Lua 5.1 or 5.3, from the running interpreter.
T.lua = _VERSION:match("%d+%.%d+")
T.log("running on Lua " .. T.lua)

return T
