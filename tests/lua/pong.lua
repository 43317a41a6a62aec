-- The "pong" event: payload and round-trip time of our own pings, sent
-- with ws:ping([payload]), ws:send(payload, 9) or by the keep-alive; against
-- the websockets echo server and the raw peer's echo.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)

-- Argument checks on a client that is not connected.
local c = websocket.createClient()
T.check(not pcall(c.ping, c), "ws:ping() when not connected is an error")
T.check(not pcall(c.ping, c, string.rep("x", 126)), "ws:ping() with 126 bytes is an error")
c = nil

local function run(name, url, config, steps, done)
  local ws = websocket.createClient()
  if config then ws:config(config) end
  local got = {}
  ws:on("connection", T.wrap(function(w) steps.start(w) end))
  ws:on("pong", T.wrap(function(w, payload, rtt)
    T.log(name, "pong", T.show(payload), rtt)
    got[#got + 1] = { payload, rtt }
    steps.pong(w, payload, rtt, #got)
  end))
  ws:on("close", T.wrap(function(_, status)
    T.eq(status, 0, name .. ": closed by us")
    done(got)
  end))
  ws:connect(url)
end

local function explicit(name, url, nxt)
  run(name, url, { ping_interval = 0 }, {
    start = function(w)
      T.check(not pcall(w.ping, w, string.rep("x", 126)), name .. ": 126-byte ping refused")
      w:ping("hello")
    end,
    pong = function(w, payload, rtt, n)
      if n == 1 then
        T.eq(payload, "hello", name .. ": pong payload")
        T.check(type(rtt) == "number" and rtt >= 0 and rtt < 5000, name .. ": round-trip time " .. tostring(rtt) .. " ms")
        w:ping()
      elseif n == 2 then
        T.eq(payload, "", name .. ": empty ping, empty pong")
        T.check(type(rtt) == "number", name .. ": timed")
        w:send("via send", 9)
      else
        T.eq(payload, "via send", name .. ": ws:send(p, 9) is a ping too")
        T.check(type(rtt) == "number", name .. ": timed")
        w:close()
      end
    end,
  }, function(got)
    T.eq(#got, 3, name .. ": three pongs")
    nxt()
  end)
end

explicit("websockets", T.echo .. "/", function()
  explicit("raw peer", T.raw("echo"), function()
    -- The keep-alive's own ping after 0.2 s of silence.
    run("keep-alive", T.echo .. "/", { ping_interval = 0.2 }, {
      start = function() end,
      pong = function(w, payload, rtt)
        T.eq(payload, "", "keep-alive ping's pong")
        T.check(type(rtt) == "number" and rtt >= 0, "keep-alive round-trip time " .. tostring(rtt) .. " ms")
        w:close()
      end,
    }, function() T.pass("pongs") end)
  end)
end)
