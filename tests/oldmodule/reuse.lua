-- One client reused: three connections, each next one started from inside
-- the close callback of the previous (the callbacks are kept), then one
-- more started later from a timer. The script keeps its own reference `ws`
-- and acts through it.
--
-- Expected defect D2 (EXPECTED-DEFECTS.md): connect stores a new registry
-- reference to the client in the module's self_ref without releasing the
-- one already there, and the close callback wrapper releases self_ref (sets
-- LUA_NOREF) after the Lua callback returns. A connect from inside the close
-- callback therefore (a) leaks the previous reference and (b) loses its own
-- at once, and since every callback passes the client by pushing self_ref,
-- (c) all callbacks of that connection get nil instead of the client.
-- Registry entries holding the client:
--   connection 1 (plain connect)                 1  (R1)
--   in close callback 1, after connect           2  (R1 + R2)
--   connection 2: callbacks get nil              1  (R2 released, R1 leaked)
--   connection 3: the same                       1
--   connection 4 (connect from a timer)          2  (R1 + R4)
--   after the last close                         1  (R1, forever)
-- So a client ever reconnected from its close callback is never collected.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(20)
local round = 1
local want_count = { 1, 1, 1, 2 }
local gets_client = { true, false, false, true }
local weak = setmetatable({}, { __mode = "v" })

local function check_arg(w, what)
  if gets_client[round] then
    T.check(rawequal(w, ws), "round " .. round .. ": " .. what .. " callback gets the client")
  else
    T.check(w == nil, "round " .. round .. ": D2: " .. what .. " callback gets nil")
  end
end

ws = websocket.createClient()
weak.ws = ws
ws:on("connection", T.wrap(function(w)
  check_arg(w, "connection")
  T.eq(T.registry_count(ws), want_count[round], "round " .. round .. ": registry references to the client")
  ws:send("round " .. round)
end))
ws:on("receive", T.wrap(function(w, msg, opcode)
  check_arg(w, "receive")
  T.eq(msg, "round " .. round, "round " .. round .. ": echo")
  T.eq(opcode, 1, "round " .. round .. ": opcode")
  ws:close()
end))
ws:on("close", T.wrap(function(w, status)
  check_arg(w, "close")
  T.eq(status, 0, "round " .. round .. ": close status")
  if round == 4 then
    T.later(1, function()
      T.eq(T.registry_count(ws), 1, "after the last close: registry references (the leaked one)")
      ws = nil
      collectgarbage()
      collectgarbage()
      T.check(weak.ws ~= nil, "D2: the leaked reference keeps the client from being collected")
      T.pass()
    end)
    return
  end
  round = round + 1
  if round <= 3 then
    T.log("reconnecting from the close callback")
    ws:connect(T.echo .. "/round" .. round)
    T.eq(T.registry_count(ws), 2, "inside the close callback, after connect: registry references")
  else
    T.later(20, function()
      T.log("reconnecting from a timer")
      ws:connect(T.echo .. "/round" .. round)
    end)
  end
end))
ws:connect(T.echo .. "/")
