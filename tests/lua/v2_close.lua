-- Close details: close(ws, status, code, reason) gets the server's close
-- frame (code 1005 for one without a code; only status when there was no
-- close frame), and ws:close(code, reason) sends ours.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)

-- Argument checks (also on a client that is not connected).
local c = websocket.createClient()
for _, bad in ipairs({ { 999 }, { 1004 }, { 1005 }, { 1006 }, { 1015 }, { 2999 }, { 5000 }, { 1000, string.rep("r", 124) }, { "x" }, { 1000, {} } }) do
  local ok, err = pcall(c.close, c, bad[1], bad[2])
  T.check(not ok, "ws:close(" .. tostring(bad[1]) .. ", " .. T.show(bad[2]) .. ") is an error: " .. tostring(err))
end
c:close(1000, string.rep("r", 123)) -- valid, not connected: nothing happens
c:close(3000)
c:close()
c = nil

-- A case's close handler checks the extra arguments.
local function want_close(code, reason)
  return function(_, status, ...)
    local n = select("#", ...)
    if code == nil then
      T.eq(n, 0, "no code/reason without a close frame")
    else
      T.eq(n, 2, "code and reason passed")
      T.eq((select(1, ...)), code, "close code")
      T.eq((select(2, ...)), reason, "close reason")
    end
  end
end

local cases = {
  { name = "server closes 4001 bye", url = T.raw("close-4001"), status = -6, connected = true,
    peer = "close", on_close = want_close(4001, "bye") },
  { name = "server closes without a code", url = T.raw("closeempty"), status = -6, connected = true,
    on_close = want_close(1005, "") },
  { name = "TCP closed without a close frame", url = T.raw("eof"), status = -110, connected = true,
    on_close = want_close(nil) },
  { name = "bad URL", url = "http://x/", status = -1, connected = false, on_close = want_close(nil) },
  { name = "echo server answers our 4000 done", url = T.echo .. "/", status = 0, connected = true,
    on_connect = function(ws) ws:close(4000, "done") end, on_close = want_close(4000, "done") },
  { name = "ws:close() sends 1000", url = T.echo .. "/", status = 0, connected = true,
    on_connect = function(ws) ws:close() end, on_close = want_close(1000, "") },
  { name = "reason only: code 1000", url = T.echo .. "/", status = 0, connected = true,
    on_connect = function(ws) ws:close(nil, "just a reason") end, on_close = want_close(1000, "just a reason") },
  { name = "echo server closes 4002 bye after one message", url = T.echo .. "/close/4002", status = -6, connected = true,
    on_connect = function(ws) ws:send("one") end, on_close = want_close(4002, "bye") },
}

-- Like T.run_cases, with the case's own close handler.
local i = 0
local function nxt()
  i = i + 1
  local k = cases[i]
  if not k then
    -- A two-argument handler still works with a close frame.
    local ws = websocket.createClient()
    ws:on("connection", function(w) w:close(4003, "x") end)
    ws:on("close", T.wrap(function(_, status)
      T.eq(status, 0, "two-argument close handler")
      T.pass()
    end))
    ws:connect(T.echo .. "/")
    return
  end
  local ws = websocket.createClient()
  local connected = false
  ws:on("connection", T.wrap(function(w)
    connected = true
    if k.on_connect then k.on_connect(w) end
  end))
  ws:on("close", T.wrap(function(w, status, ...)
    T.log(k.name, "close", status, ...)
    T.eq(status, k.status, k.name .. ": status")
    T.eq(connected, k.connected, k.name .. ": connection event")
    k.on_close(w, status, ...)
    if k.peer then print("PEERCHECK " .. k.peer) end
    T.later(1, nxt)
  end))
  T.log(k.name, "connect", k.url)
  ws:connect(k.url)
end
nxt()
