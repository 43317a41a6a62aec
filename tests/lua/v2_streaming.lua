-- Streaming: with a "fragment" handler set before ws:connect, data messages
-- arrive piece by piece (opcode on every piece, fin on the last) with no
-- reassembly buffer: a 1 MiB echo keeps the heap peak far below 1 MiB.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(50)
local GROWTH_MAX = tonumber(os.getenv("WS_STREAM_HEAP_MAX")) or 16384

-- 1 MiB by default; the tiny-segment run uses less (one piece per segment).
local SIZE = tonumber(os.getenv("WS_STREAM_SIZE")) or 1048576
local big
do
  local parts = {}
  for k = 1, 4096 do parts[k] = string.char(k % 256) end
  local block = table.concat(parts) -- 4 KiB of every byte value
  parts = {}
  for k = 1, SIZE / 4096 do parts[k] = block end
  big = table.concat(parts)
end

local steps = {}
local function nxt()
  table.remove(steps, 1)()
end

-- Receives one streamed message on `ws`; calls done(total, pieces) after the
-- fin piece. `expect` is the whole message (compared piece by piece).
local function collector(expect, opcode, done, each)
  local got, pieces, finished = 0, 0, false
  return T.wrap(function(w, chunk, op, fin)
    T.check(not finished, "no piece after the last") -- only logged on success
    if op ~= opcode then T.fail("piece opcode " .. tostring(op) .. ", want " .. opcode) end
    if type(fin) ~= "boolean" then T.fail("fin is not a boolean") end
    if expect:sub(got + 1, got + #chunk) ~= chunk then
      T.fail("piece at offset " .. got .. " differs")
    end
    got = got + #chunk
    pieces = pieces + 1
    if each then each(w, chunk) end
    if fin then
      finished = true
      done(w, got, pieces)
    end
  end)
end

local quiet_check = T.check
-- The per-piece T.check above would log thousands of lines: keep it quiet.
T.check = function(cond, msg)
  if not cond then T.fail(msg) end
end

steps[#steps + 1] = function()
  local ws = websocket.createClient()
  local base
  local peak, garbage = 0, 0
  ws:on("receive", T.wrap(function() T.fail("receive called for a streamed message") end))
  ws:on("fragment", collector(big, 2, function(w, total, pieces)
    local growth = peak - base
    print("HEAP stream_" .. SIZE .. "_echo " .. growth)
    quiet_check(total == SIZE, SIZE .. " bytes received in " .. pieces .. " pieces")
    quiet_check(pieces > 1, "more than one piece")
    quiet_check(growth < GROWTH_MAX, "heap peak growth while streaming " .. growth .. " < " .. GROWTH_MAX)
    w:close()
  end, function(w, chunk)
    if not base then
      -- First piece: the 1 MiB send queue is gone (the server has read it
      -- all before echoing). Measure from here.
      collectgarbage()
      node.heap_reset_peak()
      base = node.heap_peak()
    else
      -- Lua garbage (the piece strings) is collected as we go, so the peak
      -- shows what the library and the port hold (plus < 4 KiB of garbage).
      garbage = garbage + #chunk + 64
      if garbage > 4096 then
        garbage = 0
        collectgarbage()
      end
      if node.heap_peak() > peak then peak = node.heap_peak() end
    end
  end))
  ws:on("connection", T.wrap(function(w) w:send(big, 2) end))
  ws:on("close", T.wrap(function(_, status)
    quiet_check(status == 0, "big stream closed with 0")
    T.later(1, nxt)
  end))
  ws:connect(T.echo .. "/")
end

steps[#steps + 1] = function()
  -- Text with multi-byte characters; max_message does not apply.
  local text = string.rep("h\195\169llo w\226\130\172rld \240\159\152\128 ", 400)
  local ws = websocket.createClient()
  ws:config({ max_message = 100 })
  ws:on("fragment", collector(text, 1, function(w, total)
    quiet_check(total == #text, #text .. "-byte text streamed past max_message 100")
    w:close()
  end))
  ws:on("connection", T.wrap(function(w) w:send(text) end))
  ws:on("close", T.wrap(function(_, status)
    quiet_check(status == 0, "text stream closed with 0")
    T.later(1, nxt)
  end))
  ws:connect(T.echo .. "/")
end

steps[#steps + 1] = function()
  -- A fragmented message with pings between the fragments: pieces per frame.
  local ws = websocket.createClient()
  local seen, n = "", 0
  ws:on("fragment", T.wrap(function(w, chunk, op, fin)
    -- "|" marks a fin piece; pieces per frame (and per segment).
    seen = seen .. chunk .. (fin and "|" or "")
    n = n + 1
    quiet_check(op == 1, "text opcode on every piece")
    if seen:find("pong-ok|", 1, true) then
      quiet_check(seen == "frag1-frag2-end|pong-ok|", "fragment pieces " .. seen)
      quiet_check(n >= 4, n .. " pieces for 3 fragments + 1 message")
      w:close()
    elseif seen:find("pong-bad", 1, true) then
      T.fail(seen)
    end
  end))
  ws:on("close", T.wrap(function(_, status)
    quiet_check(status == 0, "fragping closed with 0")
    print("PEERCHECK fragping")
    T.later(1, nxt)
  end))
  ws:connect(T.raw("fragping"))
end

steps[#steps + 1] = function()
  -- Invalid UTF-8 in a streamed text message: -25 (client sends 1007).
  local ws = websocket.createClient()
  ws:on("fragment", T.wrap(function(_, chunk)
    quiet_check(not chunk:find("\255", 1, true), "invalid bytes never delivered")
  end))
  ws:on("close", T.wrap(function(_, status)
    quiet_check(status == -25, "invalid UTF-8 while streaming: " .. status)
    print("PEERCHECK badutf8")
    T.later(1, nxt)
  end))
  ws:connect(T.raw("badutf8"))
end

steps[#steps + 1] = function()
  -- Handler removed before connect: whole messages again.
  local ws = websocket.createClient()
  ws:on("fragment", function() T.fail("removed fragment handler called") end)
  ws:on("fragment", nil)
  ws:on("connection", T.wrap(function(w) w:send("whole") end))
  ws:on("receive", T.wrap(function(w, msg)
    quiet_check(msg == "whole", "receive without a fragment handler")
    w:close()
  end))
  ws:on("close", T.wrap(function(_, status)
    quiet_check(status == 0, "closed with 0")
    T.later(1, nxt)
  end))
  ws:connect(T.echo .. "/")
end

steps[#steps + 1] = function() T.pass() end
nxt()
