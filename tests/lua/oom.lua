-- Out-of-memory statuses end to end, on the host's device heap limit
-- (FAKE_SDK_HEAP_LIMIT and the host-only node.heap_limit / node.heap_device:
-- what the module, the library, the port and espconn allocate, not Lua; see
-- nodemcu-glue/host/README.md). One case per run, chosen by WS_OOM:
--
--   message    -8   a 50 000-byte message (raw peer toobig-50000) arrives in
--                   TCP segments and needs a buffer larger than the 40 KB
--                   device heap.
--   control    -9   pings of 125 bytes split over 40-byte segments (run with
--                   FAKE_SDK_SEGMENT=40; raw peer pingflood): from the
--                   connection event on, the limit leaves 100 bytes, room
--                   for a receive pbuf but not for the 125-byte ping buffer.
--   handshake  -10  (1) ws:connect under the limit set to the device heap in
--                   use plus 0, 8, 16, ... bytes until the connect no longer
--                   fails at once: each allocation of ws_connect (request,
--                   response parser, connection) fails in turn, reported
--                   before connect() returns, the heap unchanged. (2) The
--                   server's chosen protocol: a connection measures the
--                   device heap peak of its handshake (the 101 response in a
--                   pbuf, the protocol name copied); the next runs with the
--                   limit one byte lower, until the copy of the name fails:
--                   -10 after connect() returned, no connection event.
--   send       -16  ws:send of a message as large as the free device heap:
--                   the frame does not fit; the close callback runs before
--                   send() returns.
--   bigsend    0    a message of 60 % of the free device heap is sent and
--                   echoed (the bytes are held once, not copied by the port).
--   pong       -16  pings of 125 bytes in whole segments (raw peer
--                   pingflood), limit at the heap in use plus 100 bytes from
--                   the connection event on: no memory for the pong.
--
-- After each: nothing leaked (the device heap is back to its level before
-- the connect, exactly), and the same client object, with the limit back,
-- connects to the echo server and exchanges a message (close status 0, the
-- heap back to that level again).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(40)
local CASE = os.getenv("WS_OOM") or "message"
T.check(node.heap_device and node.heap_limit, "node.heap_device/heap_limit exist (host only)")
local LIMIT = node.heap_limit()
if LIMIT == 0 then
  LIMIT = 40960
  node.heap_limit(LIMIT)
end
T.log("case", CASE, "device heap limit", LIMIT)
local rawhost = assert(T.rawbase, "WS_RAW not set"):match("^(ws://[^/]+)")
local PROTO = "oom.protocol-name-long-enough-to-need-its-own-block-0123456789"

local ws = websocket.createClient()

local function dev() return (node.heap_device()) end
local function refused()
  local _, _, n, last = node.heap_device()
  return n, last
end

-- Calls fn(level) once the device heap is back to `base` (the port frees
-- its state after espconn's final callback, a loop turn later), or after 3 s.
local function when_heap(base, fn)
  local t0 = tmr.now()
  local function probe()
    local level = dev()
    if level == base or tmr.now() - t0 > 3000000 then return fn(level) end
    T.later(10, probe)
  end
  T.later(1, probe)
end

-- The end of every case: nothing leaked, then the client is used again.
local function reuse(base, what)
  node.heap_limit(LIMIT)
  when_heap(base, function(level)
    T.eq(level, base, what .. ": device heap back to its level before the connect")
    local msg = "after " .. what
    ws:on("connection", T.wrap(function(w) w:send(msg) end))
    ws:on("receive", T.wrap(function(w, m)
      T.eq(m, msg, "reuse after " .. what .. ": echo")
      w:close()
    end))
    ws:on("close", T.wrap(function(_, st)
      T.eq(st, 0, "reuse after " .. what .. ": close status")
      when_heap(base, function(after)
        T.eq(after, base, "reuse after " .. what .. ": device heap back to its level")
        T.pass(what)
      end)
    end))
    ws:connect(T.echo .. "/")
  end)
end

local function no_receive(w, m) T.fail(CASE .. ": unexpected message " .. T.show(m)) end

-- One connection that must end with `want`; opts.on_connect runs in the
-- connection event; opts.check(status, connected) before the reuse.
local function oom_case(url, want, opts)
  local connected, in_connect = false, false
  local base = dev()
  local n0 = refused()
  ws:on("connection", T.wrap(function(w)
    connected = true
    if opts.on_connect then opts.on_connect(w) end
  end))
  ws:on("receive", T.wrap(opts.on_receive or no_receive))
  ws:on("close", T.wrap(function(_, st)
    node.heap_limit(LIMIT)
    local n, last = refused()
    T.log(CASE, "close status", st, "refused allocations", n - n0, "last asked", last)
    T.eq(st, want, CASE .. ": close status")
    T.check(n > n0, CASE .. ": the limit refused an allocation")
    if opts.check then opts.check(st, connected, last, in_connect) end
    reuse(base, CASE .. " (" .. want .. ")")
  end))
  T.log(CASE, "connect", url)
  if opts.before_connect then opts.before_connect() end
  in_connect = true
  ws:connect(url)
  in_connect = false
end

local cases = {}

function cases.message()
  oom_case(rawhost .. "/toobig-50000", -8, {
    -- The raw peer's verdict expects close code 1009 (for -26); out of
    -- memory the client drops TCP without a close frame, so the URL has no
    -- /t/<id> and the verdict is not this test's.
    check = function(_, connected, last)
      T.check(connected, "message: the connection was open")
      T.check(last >= 50000, "message: the refused allocation is the 50 000-byte message buffer (" .. last .. ")")
    end,
  })
end

function cases.control()
  T.eq(os.getenv("FAKE_SDK_SEGMENT"), "40", "control: run with FAKE_SDK_SEGMENT=40")
  oom_case(T.raw("pingflood-20"), -9, {
    on_connect = function() node.heap_limit(dev() + 100) end,
    check = function(_, connected, last)
      T.check(connected, "control: the connection was open")
      T.eq(last, 125, "control: the refused allocation is the 125-byte ping buffer")
    end,
  })
end

function cases.pong()
  oom_case(T.raw("pingflood-20"), -16, {
    on_connect = function() node.heap_limit(dev() + 100) end,
    check = function(_, connected, last)
      T.check(connected, "pong: the connection was open")
      T.check(last > 125 and last < 200, "pong: the refused allocation is the pong frame (" .. last .. ")")
    end,
  })
end

function cases.send()
  local sending = false
  oom_case(T.echo .. "/", -16, {
    on_connect = function(w)
      local free = LIMIT - dev()
      T.log("send: free device heap", free, "node.heap()", node.heap())
      T.check(node.heap() <= free, "send: node.heap() reports at most the free device heap")
      sending = true
      w:send(string.rep("x", free))
      sending = false
    end,
    check = function(_, connected, _, _)
      T.check(connected, "send: the connection was open")
      T.check(sending, "send: the close callback ran before send() returned")
    end,
  })
end

-- Not an out-of-memory case: what sending costs. A message of 60 % of the
-- free device heap is sent and echoed: the library's send queue holds it
-- once and the port hands espconn those bytes (no copy of its own), so
-- sending needs the message's size, not twice it (with a copy it failed
-- with -101).
function cases.bigsend()
  local base, n0, size = dev(), refused(), nil
  ws:on("connection", T.wrap(function(w)
    size = math.floor((LIMIT - dev()) * 0.6)
    T.log("bigsend: free device heap", LIMIT - dev(), "sending", size)
    node.heap_reset_peak()
    w:send(string.rep("y", size))
  end))
  ws:on("receive", T.wrap(function(w, m)
    T.eq(#m, size, "bigsend: echo length")
    T.check(m == string.rep("y", size), "bigsend: echo intact")
    local _, peak = node.heap_device()
    T.log("bigsend: device heap peak over the base", peak - base)
    w:close()
  end))
  ws:on("close", T.wrap(function(_, st)
    T.eq(st, 0, "bigsend: close status")
    T.eq(refused(), n0, "bigsend: no allocation refused")
    reuse(base, CASE)
  end))
  ws:connect(T.echo .. "/")
end

function cases.handshake()
  ws:config({ protocols = { PROTO } })
  local base = dev()
  -- (1) the allocations of ws_connect, one after the other
  local sites, statuses, slack = {}, {}, 0
  while true do
    local st, connected = nil, false
    ws:on("connection", function() connected = true end)
    ws:on("close", function(_, s) st = s end)
    ws:on("receive", no_receive)
    node.heap_limit(base + slack)
    local n0 = refused()
    ws:connect(T.echo .. "/")
    node.heap_limit(LIMIT)
    if st == nil then
      -- got past ws_connect's allocations: stop this connection
      T.log("handshake: connect with " .. slack .. " bytes free did not fail at once")
      ws:close()
      break
    end
    local n, last = refused()
    if n ~= n0 + 1 or connected or dev() ~= base then
      T.fail(string.format("handshake: with %d bytes free: %d refused allocations, connected %s, device heap %+d",
        slack, n - n0, tostring(connected), dev() - base))
    end
    statuses[st] = (statuses[st] or 0) + 1
    if #sites == 0 or sites[#sites].size ~= last then
      sites[#sites + 1] = { size = last, status = st, slack = slack }
      T.log(string.format("handshake: from %d bytes free the allocation of %d bytes fails: status %d",
        slack, last, st))
    end
    slack = slack + 8
    if slack > 4096 then T.fail("handshake: ws_connect still failing with 4 KB free") end
  end
  local n10 = 0
  for _, s in ipairs(sites) do
    if s.status == -10 then n10 = n10 + 1 end
  end
  T.check(n10 >= 3, "handshake: -10 for at least three allocations of ws_connect (request, parser, connection): " .. n10)
  -- Every allocation of ws_connect, the port's connection state in
  -- ws_port_resolve included (it returns WS_ERR_NO_MEMORY_HANDSHAKE), is -10.
  for st, count in pairs(statuses) do
    T.eq(st, -10, "handshake: status of a failed ws_connect (" .. count .. "x)")
  end
  T.check(n10 >= 4, "handshake: -10 for the request, the parser, the engine and the port's state: " .. n10)
  -- (2) the server's chosen protocol. Each connection that still opens
  -- tells the device heap peak of its handshake (the 101 response in a pbuf
  -- and the copy of the protocol name, while the request and the parser are
  -- still held); the next one runs with the limit one byte below it. The
  -- library first asks for room with slack and settles for the exact size,
  -- so it takes a few rounds until the copy itself fails.
  local url = T.raw("proto-" .. PROTO)
  local rounds = 0
  local function attempt(limit)
    rounds = rounds + 1
    if rounds > 6 then T.fail("handshake: the protocol copy never failed") end
    local connected, in_connect, peak = false, false, nil
    local n0 = refused()
    ws:on("connection", T.wrap(function(w)
      connected = true
      peak = select(2, node.heap_device())
      T.eq(w:protocol(), PROTO, "handshake: the server chose the protocol")
      T.log(string.format("handshake: opened under a limit of %d bytes over the base; peak %d over the base",
        limit - base, peak - base))
      w:close()
    end))
    ws:on("close", T.wrap(function(_, st)
      node.heap_limit(LIMIT)
      if connected then
        T.eq(st, 0, "handshake: a connection that opened, closed")
        return when_heap(base, function() attempt(peak - 1) end)
      end
      local n, last = refused()
      T.log("handshake: close status", st, "last refused allocation", last, "bytes")
      T.eq(st, -10, "handshake: status without memory for the chosen protocol")
      T.check(n > n0, "handshake: the limit refused an allocation")
      T.check(not in_connect, "handshake: the protocol failure is reported after connect() returned")
      T.eq(ws:protocol(), nil, "handshake: no protocol")
      T.check(last == #PROTO or last == #PROTO + 1,
        "handshake: the refused allocation is the copy of the protocol name (" .. last .. " bytes)")
      reuse(base, "handshake (-10, chosen protocol)")
    end))
    node.heap_reset_peak()
    node.heap_limit(limit)
    in_connect = true
    ws:connect(url)
    in_connect = false
  end
  T.later(1, function() when_heap(base, function() attempt(LIMIT) end) end)
end

T.check(cases[CASE] ~= nil, "known case " .. CASE)
T.later(1, cases[CASE])
