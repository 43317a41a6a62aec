-- Runs the module documentation's examples (examples/doc_*.lua, unchanged but
-- for the URL, which they take from arg[1]) against the echo server. The
-- examples never finish on their own, so this script watches what they print
-- and drives the clients they create.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(15)
local dir = os.getenv("WS_EXAMPLES") or "examples"
arg[1] = T.echo .. "/"

-- Record every client the examples create (the module table may be read-only,
-- so shadow the global instead of patching it).
local real = websocket
local created = {}
websocket = setmetatable({
  createClient = function()
    local c = real.createClient()
    created[#created + 1] = c
    return c
  end,
}, { __index = real })

-- Capture what the examples print.
local cap = T.capture_print()
local function seen(line)
  for _, l in ipairs(cap.lines) do
    if l == line then return true end
  end
  return false
end
-- Poll until cond() holds, then run fn.
local function when(what, cond, fn)
  local t = tmr.create()
  t:alarm(10, tmr.ALARM_AUTO, T.wrap(function()
    if cond() then
      t:unregister()
      T.log("ok", what)
      fn()
    end
  end))
end

local steps = {}
local function nxt()
  table.remove(steps, 1)()
end

steps[1] = function()
  dofile(dir .. "/doc_create_close.lua")
  T.eq(#created, 2, "createClient/close examples made two clients")
  created = {}
  collectgarbage()
  T.later(1, nxt)
end

steps[2] = function()
  dofile(dir .. "/doc_on.lua")
  local c = created[1]
  when("on() example printed its connection line", function() return seen("got ws connection") end, function()
    c:send("hi from the test")
    when("on() example printed the message", function() return seen("got message:\thi from the test\t1") end, function()
      c:send("binary\0bytes", 2)
      when("on() example printed the binary message", function() return seen("got message:\tbinary\0bytes\t2") end, function()
        c:close()
        when("on() example printed its close line", function() return seen("connection closed\t0") end, nxt)
      end)
    end)
  end)
end

steps[3] = function()
  created = {}
  dofile(dir .. "/doc_send.lua")
  T.check(ws == created[1], "send example uses the global ws")
  -- The example only sends; watch the echo and close from here.
  T.close_after_echo(ws, "send example", "hello!", 1, function()
    ws = nil
    T.later(1, nxt)
  end)
end

steps[4] = function()
  created = {}
  dofile(dir .. "/doc_connect.lua")
  ws:on("connection", T.wrap(function(w)
    T.log("ok", "connect example connected")
    w:close()
  end))
  ws:on("close", T.wrap(function(_, status)
    T.eq(status, 0, "connect example closed")
    ws = nil
    collectgarbage()
    T.later(1, nxt)
  end))
end

steps[5] = function() T.pass("documentation examples") end

nxt()
