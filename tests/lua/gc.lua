-- Garbage collection and clients:
--  * a never-connected client can be collected;
--  * a connected client with no Lua reference stays alive (the module holds
--    it until its close callback ran) and is collected after the close;
--  * clients dropped while connected / handshaking / resolving are torn down
--    when the Lua state closes at exit (ASan/valgrind must stay quiet).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(15)
local weak = setmetatable({}, { __mode = "v" })

weak.idle = websocket.createClient()
collectgarbage()
collectgarbage()
T.check(weak.idle == nil, "a never-connected client is collected")

local phase2
local function start_unreferenced()
  local ws = websocket.createClient()
  weak.live = ws
  -- The callbacks use only their argument, never the local.
  ws:on("connection", T.wrap(function(w)
    collectgarbage()
    collectgarbage()
    T.log("connected; still alive after two full collections")
    w:send("still alive")
  end))
  T.close_after_echo(ws, "unreferenced client", "still alive", nil, function()
    T.later(5, phase2)
  end)
  ws:connect(T.echo .. "/")
end
start_unreferenced()
collectgarbage()
collectgarbage()
T.check(weak.live ~= nil, "a connecting client without references is not collected")

phase2 = function()
  collectgarbage()
  collectgarbage()
  T.check(weak.live == nil, "collected once its close callback has run")

  -- Dropped while open, while handshaking (peer never answers), and before
  -- DNS/connect completes; then exit closing the Lua state.
  ws = websocket.createClient()
  ws:on("connection", T.wrap(function(w)
    ws = nil
    collectgarbage()
    collectgarbage()
    T.log("open client dropped and collected-at; exiting with it still connected")
    w:send("in flight at exit")
    local mute = websocket.createClient()
    mute:connect(T.raw("mute"))
    mute = nil
    local late = websocket.createClient()
    late:connect(T.echo .. "/late")
    late = nil
    collectgarbage()
    T.pass_exit("exit with live connections")
  end))
  ws:connect(T.echo .. "/")
end
