-- Helpers for the scenarios run on the firmware's original websocket module
-- (tests/oldmodule/run.py). Loads tests/lua/testlib.lua (T) and adds:
--   T.ERR_CONNECTED   the module's error for connect on a busy client
--   T.ERR_NOT_CONN    the module's error for send on a client not connected
--   T.registry_count(obj)  how many registry entries hold obj (the module's
--                     self references live there); T.registry_holds(obj): > 0
--   T.run(code, name) runs example code text as its own chunk
-- (T.closed_ok and T.close_after_echo, the scenarios' last round, come from
-- testlib.lua.)
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

-- Lua 5.1 or 5.3, from the running interpreter.
T.lua = _VERSION:match("%d+%.%d+")
T.log("running on Lua " .. T.lua)

return T
