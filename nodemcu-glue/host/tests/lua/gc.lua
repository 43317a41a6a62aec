-- __gc finalizers run when the runner closes the state at the end.
local mt = {__gc = function() print("finalized") end}
if newproxy then -- Lua 5.1: only userdata have __gc
  local p = newproxy(true)
  getmetatable(p).__gc = mt.__gc
  keep = p
else
  keep = setmetatable({}, mt)
end
print("DONE")
