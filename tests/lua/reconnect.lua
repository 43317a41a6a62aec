-- Automatic reconnection (ws:config{reconnect = {initial = s, max = s}}):
-- the close callback runs for each lost connection, the waits grow with
-- jitter up to max, ws:close() stops it (from inside the close callback or
-- during the wait), ws:connect() during the wait connects at once, and a
-- reconnecting client with no Lua reference left keeps going. Against the
-- websockets echo server (closing with 4000 after one echo) and a port
-- where nothing listens.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(50)

-- Option checks: nothing changes on an error.
local c = websocket.createClient()
T.check(not pcall(c.config, c, { reconnect = 5 }), "reconnect = 5 is an error")
T.check(not pcall(c.config, c, { reconnect = {} }), "reconnect without initial is an error")
T.check(not pcall(c.config, c, { reconnect = { initial = 0 } }), "reconnect.initial = 0 is an error")
T.check(not pcall(c.config, c, { reconnect = { initial = 1, max = -1 } }), "reconnect.max < 0 is an error")
T.check(not pcall(c.config, c, { reconnect = { initial = "1" } }), "reconnect.initial must be a number")
T.check(pcall(c.config, c, { reconnect = { initial = 1 } }), "reconnect = {initial = 1}")
T.check(pcall(c.config, c, { reconnect = false }), "reconnect = false turns it off")
c = nil

local closing = T.echo .. "/close/4000"

-- 1. The server closes each connection: three connections, then ws:close()
-- inside the third close callback ends it with one more close callback.
local function server_closes(nxt)
  local ws = websocket.createClient()
  ws:config({ reconnect = { initial = 0.05, max = 0.2 } })
  local opened, ends = 0, {}
  ws:on("connection", T.wrap(function(w)
    opened = opened + 1
    w:send("hello " .. opened)
  end))
  ws:on("receive", T.wrap(function(_, msg)
    T.eq(msg, "hello " .. opened, "echo on connection " .. opened)
  end))
  ws:on("close", T.wrap(function(w, status, code)
    ends[#ends + 1] = status
    T.log("close", status, code, "after", opened, "connections")
    if status == 0 then
      T.eq(#ends, 4, "ws:close() in the callback: one more close callback")
      T.eq(opened, 3, "three connections")
      T.check(not pcall(w.send, w, "x"), "not connected afterwards")
      return T.later(300, function()
        T.eq(opened, 3, "no reconnection after ws:close()")
        nxt()
      end)
    end
    T.eq(status, -6, "lost connection " .. #ends .. ": the server closed")
    T.eq(code, 4000, "the server's close code")
    T.check(not pcall(w.send, w, "x"), "ws:send() while waiting is an error")
    if opened == 3 then
      w:close()
    end
  end))
  ws:connect(closing)
end

-- 2. Nothing listens: every attempt fails; the waits double from 0.1 s up
-- to 0.4 s (each at least half its step); ws:close() during a wait stops it.
local function refused(nxt)
  local ws = websocket.createClient()
  ws:config({ reconnect = { initial = 0.1, max = 0.4 } })
  local at = {}
  ws:on("connection", T.wrap(function() T.fail("connected to a closed port") end))
  ws:on("close", T.wrap(function(w, status)
    at[#at + 1] = tmr.now()
    if status == 0 then
      T.eq(#at, 6, "five failed attempts, then ws:close()")
      local steps = { 100, 200, 400, 400 }
      for i = 1, 4 do
        local gap = (at[i + 1] - at[i]) / 1000
        T.log("wait before attempt", i + 1, gap, "ms")
        T.check(gap >= steps[i] / 2, "wait " .. i .. " at least half of " .. steps[i] .. " ms")
      end
      return nxt()
    end
    T.eq(status, -109, "attempt " .. #at .. ": connection refused")
    if #at == 5 then
      T.later(20, function() w:close() end)
    end
  end))
  ws:connect(T.refused)
end

-- 3. ws:connect() during a (long) wait connects there at once.
local function connect_while_waiting(nxt)
  local ws = websocket.createClient()
  ws:config({ reconnect = { initial = 30 } })
  local ends = {}
  ws:on("connection", T.wrap(function(w)
    T.eq(#ends, 1, "connected before the 15-30 s wait was over")
    w:close()
  end))
  ws:on("close", T.wrap(function(w, status)
    ends[#ends + 1] = status
    if #ends == 1 then
      T.eq(status, -109, "first attempt refused")
      T.later(50, function() w:connect(T.echo .. "/") end)
    else
      T.eq(status, 0, "closed by us: no reconnection")
      nxt()
    end
  end))
  ws:connect(T.refused)
end

-- 4. No Lua reference left: the pending reconnection keeps the client.
local function unreferenced(nxt)
  local opened = 0
  do
    local ws = websocket.createClient()
    ws:config({ reconnect = { initial = 0.1 } })
    ws:on("connection", T.wrap(function(w)
      opened = opened + 1
      w:send("x")
    end))
    ws:on("close", T.wrap(function(w, status)
      if opened == 1 then
        collectgarbage()
        collectgarbage()
      elseif opened == 2 then
        if status ~= 0 then return w:close() end
        return nxt()
      end
    end))
    ws:connect(closing)
  end
  collectgarbage()
end

server_closes(function()
  refused(function()
    connect_while_waiting(function()
      unreferenced(function() T.pass("reconnect") end)
    end)
  end)
end)
