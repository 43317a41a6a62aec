-- Runner for the fault tests (tests/lua/fault_*.lua). Loaded with
--   local F = dofile(os.getenv("WS_TESTLIB"):gsub("testlib%.lua$", "fault_lib.lua"))
-- One client object is used for every case of a script. Each case:
--   1. connects (url may be a function, evaluated when the case starts),
--      with the case's config, and must end with the expected status;
--   2. the heap it used is bounded: peak live bytes above the level before
--      the connect (node.heap_peak, host only) <= the case's `heap` limit,
--      and once the connection has ended and garbage has been collected the
--      live heap is back to that level (<= `residual`, default 0 bytes);
--   3. the same client then connects to the echo server, exchanges a message
--      and closes with status 0 (the fault left nothing behind that stops
--      it from connecting again).
-- Case fields: name, url, config, status (number or list), connected
-- (whether the connection event must fire), on_connect(ws),
-- on_receive(ws, msg, opcode), peer (raw-peer verdict to wait for),
-- heap (peak limit in bytes, default F.HEAP), residual (bytes).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
local F = { T = T }

-- Peak heap a failing connection may use above its starting level. The
-- figure counts everything on the host: the library, the glue, the fake
-- SDK's copy of each received segment (<= 1460 bytes), Lua's own objects
-- for the callbacks and their arguments. Printed figures are far lower
-- (see the HEAP lines); this ceiling only has to catch a message-sized or
-- header-sized allocation (the cases send 1 MiB headers or announce lengths
-- of 2^32 and more).
F.HEAP = 32768

-- Live-heap levels are sampled at the same place each time (start of a
-- case, in a timer callback, after two full collections), yet they move by
-- up to a few dozen bytes between samples without any trend (seen: -64..+48
-- over 200 identical echo cases, summing to between -112 and +16): Lua's
-- own stack and CallInfo blocks are resized by the collector according to
-- recent call depth (the likely cause; the library and port allocate
-- nothing between connections). A leak of any library, port or SDK object (the
-- smallest, a timer or DNS record, is > 24 bytes) in every case adds up
-- over a script's cases beyond this; the soak test (soak.lua) compares
-- exactly over 1000 cycles of the ordinary path.
F.NOISE = 64

-- The defaults of ws:config, restored before each reuse check.
F.DEFAULTS = { connect_timeout = 10, ping_interval = 30, pong_timeout = 60, close_timeout = 5,
               max_message = 1048576, headers = {} }

local function gc()
  collectgarbage()
  collectgarbage()
end

F.results = {}

-- Passes over the case list. Lua's own tables grow once to what the
-- script needs and are kept while still in use (its string table doubles
-- when the number of strings alive passes its size: 128 -> 256 slots is
-- +1024 bytes on 64 bit; stack and CallInfo arrays likewise), so the first
-- pass can leave a few hundred bytes behind it for good (seen under Lua
-- 5.1 with the first case of a script: +224 and +928 bytes, depending on
-- how many strings the script had made before). The first pass checks
-- status, peak and reuse; the last one also checks that the live heap
-- comes back.
F.PASSES = tonumber(os.getenv("WS_FAULT_PASSES")) or 2

-- Runs the cases in order on one client, F.PASSES times, then calls done().
-- A case's `start` function, if any, runs before each of its connections.
function F.run(cases, done)
  local ws = websocket.createClient()
  local i = 0
  local seq = {}
  for pass = 1, F.PASSES do
    for _, c in ipairs(cases) do seq[#seq + 1] = { c = c, last = pass == F.PASSES } end
  end
  -- Bookkeeping is allocated up front so that it does not count as growth.
  for _, c in ipairs(cases) do
    c.base, c.level = 0, 0
    c.result = { id = c.id, status = 0, peak = 0, residual = 0, ms = 0 }
    F.results[#F.results + 1] = c.result
  end
  local nxt

  local function reuse(c, after)
    local msg = "reuse after " .. c.name
    ws:config(F.DEFAULTS)
    ws:on("connection", T.wrap(function(w) w:send(msg) end))
    ws:on("receive", T.wrap(function(w, m)
      T.eq(m, msg, c.name .. ": echo on the reused client")
      w:close()
    end))
    ws:on("close", T.wrap(function(_, status)
      T.eq(status, 0, c.name .. ": reused client closes with 0")
      T.later(1, after)
    end))
    ws:connect(T.echo .. "/reuse")
  end

  -- Always called from a timer callback (same Lua stack and objects
  -- alive each time), so the live heap levels of successive calls compare.
  local prev, first
  nxt = function()
    gc()
    local live = node.heap_live()
    if prev and prev.last then
      local pc = prev.c
      local residual = live - pc.level
      pc.result.residual = residual
      print(string.format("HEAP fault_%s_residual %d", pc.id, residual))
      local allowed = pc.residual or F.NOISE
      T.check(residual <= allowed, string.format(
        "%s: after it and the reuse check the live heap is back to its level before (%+d bytes, allowed <= %d)",
        pc.name, residual, allowed))
    end
    i = i + 1
    local step = seq[i]
    if step and step.last then first = first or live end
    prev = step
    if not step then
      local drift, allowed = live - first, F.NOISE
      for _, c in ipairs(cases) do allowed = allowed + (c.residual or 0) end
      print(string.format("HEAP fault_total_residual %d", drift))
      T.check(drift <= allowed, string.format("after all %d cases the live heap is back to its level before them (%+d bytes, allowed <= %d)",
        #cases, drift, allowed))
      return done()
    end
    local c = step.c
    c.level = live
    if c.start then c.start() end
    local connected = false
    ws:config(F.DEFAULTS)
    if c.config then ws:config(c.config) end
    ws:on("connection", T.wrap(function(w)
      connected = true
      T.log(c.name, "connection event")
      if c.on_connect then c.on_connect(w) end
    end))
    ws:on("receive", T.wrap(function(w, msg, opcode)
      if c.on_receive then return c.on_receive(w, msg, opcode) end
      T.log(c.name, "received", T.show(msg), opcode)
    end))
    local t0
    ws:on("close", T.wrap(function(_, status)
      local ms = (tmr.now() - t0) / 1000
      local peak = node.heap_peak() - c.base
      T.log(c.name, "close status", status, string.format("after %.0f ms", ms))
      if not T.status_ok(status, c.status) then
        T.fail(string.format("%s: status %s, want %s", c.name, tostring(status), T.status_str(c.status)))
      end
      if c.connected ~= nil and connected ~= c.connected then
        T.fail(string.format("%s: connection event %s, want %s", c.name, tostring(connected), tostring(c.connected)))
      end
      if c.peer then print("PEERCHECK " .. c.peer) end
      local limit = c.heap or F.HEAP
      if step.last then
        print(string.format("HEAP fault_%s_peak %d", c.id, peak))
        c.result.status, c.result.peak, c.result.ms = status, peak, ms
      end
      T.check(peak <= limit, string.format("%s: peak heap %d <= %d", c.name, peak, limit))
      T.later(1, function() reuse(c, nxt) end)
    end))
    local url = c.url
    if type(url) == "function" then url = url() end
    T.log(c.name, "connect", url)
    gc()
    c.base = node.heap_reset_peak()
    t0 = tmr.now()
    ws:connect(url)
  end
  -- Warm-up: one plain echo exchange first, so that whatever the first
  -- connection allocates once for good (Lua strings and tables of the
  -- runner, stdio buffers) is not counted against the first case.
  T.later(1, function() reuse({ name = "warm-up" }, nxt) end)
end

-- Summary line of every case's figures (status, peak, residual, time).
function F.summary()
  for _, r in ipairs(F.results) do
    T.log(string.format("%-28s status %5d  peak %6d B  residual %+d B  %6.0f ms",
      r.id, r.status, r.peak, r.residual or 0, r.ms))
  end
end

return F
