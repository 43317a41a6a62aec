-- The examples of the module's documentation (NodeMCU docs/modules/
-- websocket.md), run on the original module from the repository's copies,
-- examples/doc_*.lua (the files tests/lua/doc_examples.lua runs on the new
-- module): unchanged but for the URL, which they take from arg[1] (the local
-- echo server) and, for the example whose client is a chunk-local, a
-- `return ws` appended so the test can drive it. Checks what each example prints and the documented behaviour:
-- close on an idle client does nothing (twice), connect then close gives
-- status 0, callbacks get the client first, opcode 1 text / 2 binary,
-- send raises an error when not connected, and a client whose close
-- callback dropped the last reference is collected.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(20)
arg[1] = T.echo .. "/"
local cap = T.capture_print()
local weak = setmetatable({}, { __mode = "v" })

local examples = os.getenv("WS_EXAMPLES") or ((arg[0]:gsub("[^/]+$", "")) .. "../../examples")
-- The text of examples/<name>.lua.
local function example(name)
  local f = assert(io.open(examples .. "/" .. name .. ".lua"))
  local code = f:read("*a")
  f:close()
  return code
end

-- Wait until the example printed `line` (exactly), then run fn.
local function when_printed(line, fn)
  local t = tmr.create()
  t:alarm(5, tmr.ALARM_AUTO, T.wrap(function(timer)
    for _, l in ipairs(cap.lines) do
      if l == line then
        timer:unregister()
        return fn()
      end
    end
  end))
end

local step_on, step_send

-- createClient / close examples: nothing may happen, no error.
T.run(example("doc_create_close"), "createClient and close examples")
T.check(ws == nil, "close example: close twice on an idle client raised nothing")

-- send on a client that is not connected: "an error".
local idle = websocket.createClient()
local ok, err = pcall(idle.send, idle, "x")
T.check(not ok and err == T.ERR_NOT_CONN, "send while not connected raises " .. T.show(err))
idle = nil

-- connect example: connect, then (test) close -> status 0.
T.run(example("doc_connect"), "connect example")
T.check(ws ~= nil, "connect example ran")
ws:on("close", T.wrap(function(w, status)
  T.check(rawequal(w, ws), "close callback gets the client first")
  T.eq(status, 0, "connect example closed by ws:close(): status")
  ws = nil
  T.later(1, step_on)
end))
T.later(200, function() ws:close() end)

-- on example: prints connection, messages (text 1, binary 2), close 0;
-- its close callback drops the client, which is then collected.
step_on = function()
  local client = T.run(example("doc_on") .. "\nreturn ws\n", "on example")
  weak.on = client
  when_printed("got ws connection", function()
    client:send("hello doc")
    when_printed("got message:\thello doc\t1", function()
      client:send("\0\1\2\255", 2)
      when_printed("got message:\t\0\1\2\255\t2", function()
        client:close()
        client = nil
        when_printed("connection closed\t0", function()
          T.later(1, function()
            collectgarbage()
            collectgarbage()
            T.check(weak.on == nil, "on example: client collected after its close callback set ws = nil")
            step_send()
          end)
        end)
      end)
    end)
  end)
end

-- send example: the connection callback sends 'hello!' through the global.
step_send = function()
  T.run(example("doc_send"), "send example")
  -- the echo of 'hello!', as text (the default opcode 1)
  T.close_after_echo(ws, "send example", "hello!", 1, function()
    ws = nil
    T.pass()
  end)
end
