-- Shared helpers for the end-to-end Lua tests. Runs under Lua 5.1 and 5.3.
-- Servers come from the environment set by tests/e2e/run.py:
--   WS_ECHO     ws://127.0.0.1:<port>          (websockets echo server)
--   WS_RAW      ws://127.0.0.1:<port>/t/<id>   (scripted raw peer, + "/<scenario>")
--   WS_REFUSED  ws://127.0.0.1:<port>/         (nothing listens there)
local T = {}
local print = print -- tests may wrap the global print

T.name = ((arg and arg[0]) or "test"):match("([^/]+)%.lua$") or "test"
T.echo = os.getenv("WS_ECHO") or (arg and arg[1])
T.rawbase = os.getenv("WS_RAW")
T.refused = os.getenv("WS_REFUSED")

function T.raw(scenario)
  assert(T.rawbase, "WS_RAW not set")
  return T.rawbase .. "/" .. scenario
end

function T.log(...)
  print("[" .. T.name .. "]", ...)
end

-- Success. The deadline is cancelled and the script simply returns: the
-- runner exits once nothing is pending any more (no connection, timer or DNS
-- lookup left) and closes the Lua state, so anything the library or the port
-- forgot to stop shows up as a hang (the driver's timeout) or a leak report.
function T.pass(msg)
  print("PASS " .. T.name .. (msg and (": " .. msg) or ""))
  if T.guard then
    T.guard:unregister()
    T.guard = nil
  end
end

-- Success, exiting at once and closing the Lua state (Lua 5.3; 5.1 just
-- exits) even though connections may still be open.
function T.pass_exit(msg)
  print("PASS " .. T.name .. (msg and (": " .. msg) or ""))
  os.exit(0, true)
end

function T.fail(msg)
  print("FAIL " .. T.name .. ": " .. tostring(msg))
  os.exit(1, true)
end

function T.check(cond, msg)
  if not cond then T.fail(msg) end
  T.log("ok", msg)
end

-- Short description of a (possibly long, possibly binary) string.
function T.show(s)
  if type(s) ~= "string" then return tostring(s) end
  if #s <= 40 and not s:find("[%z\1-\31\127-\255]") then return string.format("%q", s) end
  return string.format("<%d bytes %q...>", #s, s:sub(1, 12))
end

function T.eq(got, want, msg)
  if got ~= want then
    local detail = ""
    if type(got) == "string" and type(want) == "string" then
      local i = 1
      while i <= #got and i <= #want and got:byte(i) == want:byte(i) do i = i + 1 end
      detail = string.format(" (lengths %d/%d, first difference at byte %d)", #got, #want, i)
    end
    T.fail(string.format("%s: got %s, want %s%s", msg, T.show(got), T.show(want), detail))
  end
  T.log("ok", msg)
end

-- Run fn in a later event-loop turn.
function T.later(ms, fn)
  local t = tmr.create()
  t:alarm(ms > 0 and ms or 1, tmr.ALARM_SINGLE, T.wrap(fn))
  return t
end

-- Fail the test if it has not finished after `seconds`.
function T.deadline(seconds)
  local t = tmr.create()
  t:alarm(seconds * 1000, tmr.ALARM_SINGLE, function()
    T.fail("deadline of " .. seconds .. " s reached")
  end)
  T.guard = t
  return t
end

-- Wrap a callback so any Lua error in it fails the test loudly.
function T.wrap(fn)
  return function(...)
    local ok, err = pcall(fn, ...)
    if not ok then T.fail("error in callback: " .. tostring(err)) end
  end
end

-- c's close callback: checks status 0, then returns after(c).
function T.closed_ok(c, what, after)
  c:on("close", T.wrap(function(w, status)
    T.eq(status, 0, what .. ": close status")
    return after(w)
  end))
end

-- c's receive callback checks one echo (msg; its opcode unless opcode is
-- nil) and closes; its close callback is T.closed_ok(c, what, after).
function T.close_after_echo(c, what, msg, opcode, after)
  c:on("receive", T.wrap(function(w, got, op)
    T.eq(got, msg, what .. ": echo")
    if opcode ~= nil then T.eq(op, opcode, what .. ": opcode") end
    w:close()
  end))
  T.closed_ok(c, what, after)
end

-- A close status matches `want`: a number, or a list of acceptable numbers.
function T.status_ok(status, want)
  if type(want) == "table" then
    for _, w in ipairs(want) do
      if status == w then return true end
    end
    return false
  end
  return status == want
end

function T.status_str(want)
  if type(want) == "table" then return table.concat(want, " or ") end
  return tostring(want)
end

-- Run connection cases one after the other. A case:
--   name, url, config (table for ws:config), status (number or list),
--   connected (true/false: whether the connection event must have fired),
--   on_connect(ws), on_receive(ws, msg, opcode), after_connect(ws) (runs
--   right after ws:connect returns), peer (raw-peer scenario
--   whose verdict the driver must check; printed as "PEERCHECK <scenario>").
function T.run_cases(cases, done)
  local i = 0
  local function nxt()
    i = i + 1
    local c = cases[i]
    if not c then return done() end
    local ws = websocket.createClient()
    local connected = false
    if c.config then ws:config(c.config) end
    ws:on("connection", T.wrap(function(w)
      connected = true
      T.log(c.name, "connection event")
      if c.on_connect then c.on_connect(w) end
    end))
    ws:on("receive", T.wrap(function(w, msg, opcode)
      T.log(c.name, "received", T.show(msg), opcode)
      if c.on_receive then c.on_receive(w, msg, opcode) end
    end))
    ws:on("close", T.wrap(function(_, status)
      T.log(c.name, "close status", status)
      if not T.status_ok(status, c.status) then
        T.fail(string.format("%s: status %s, want %s", c.name, tostring(status), T.status_str(c.status)))
      end
      if c.connected ~= nil and connected ~= c.connected then
        T.fail(string.format("%s: connection event %s, want %s", c.name, tostring(connected), tostring(c.connected)))
      end
      T.log("ok", c.name, "-> " .. tostring(status))
      if c.peer then print("PEERCHECK " .. c.peer) end
      T.later(1, nxt)
    end))
    T.log(c.name, "connect", c.url)
    ws:connect(c.url)
    if c.after_connect then c.after_connect(ws) end
  end
  nxt()
end

-- Replaces print so that what example scripts print is kept: returns a table
-- whose `lines` list gets each printed line (tab-joined, as print shows it);
-- the lines still go to stdout, prefixed "  example> ".
function T.capture_print()
  local cap = { lines = {} }
  local real_print = print -- testlib's own reference to the original
  _G.print = function(...)
    local parts = {}
    for k = 1, select("#", ...) do parts[k] = tostring((select(k, ...))) end
    local line = table.concat(parts, "\t")
    cap.lines[#cap.lines + 1] = line
    real_print("  example> " .. line)
  end
  return cap
end

return T
