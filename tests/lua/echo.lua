-- Echo of text and binary messages through the websockets echo server,
-- including empty, all-byte-values and 100 000-byte messages (byte-exact).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(15)

local function pattern(n, seed)
  local t, x = {}, seed
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    t[i] = string.char(math.floor(x / 65536) % 256)
  end
  return table.concat(t)
end

local all = {}
for b = 0, 255 do all[#all + 1] = string.char(b) end
local text100k = string.rep("0123456789abcdefghijklmnopqrstuvwxyz", 2778):sub(1, 100000)

local msgs = {
  { "hello", 1 },
  { "", 1 },
  { "h\195\169llo w\195\182rld \226\156\147", 1 },
  { table.concat(all), 2 },
  { string.rep("A", 125), 1 },
  { string.rep("B", 126), 2 },
  { string.rep("C", 65535), 1 },
  { pattern(65536, 7), 2 },
  { text100k, 1 },
  { pattern(100000, 42), 2 },
  { string.rep("0123456789abcdef", 65536), 1 }, -- exactly the default max_message (1 MiB)
}

local i = 0
local ws = websocket.createClient()
local function send_next(w)
  i = i + 1
  local m = msgs[i]
  if not m then
    T.log("all", #msgs, "messages echoed; closing")
    return w:close()
  end
  T.log("send", i, T.show(m[1]), "opcode", m[2])
  w:send(m[1], m[2])
end
ws:on("connection", T.wrap(function(w)
  T.log("connected")
  send_next(w)
end))
ws:on("receive", T.wrap(function(w, msg, opcode)
  T.eq(msg, msgs[i][1], "message " .. i .. " echoed byte-exact")
  T.eq(opcode, msgs[i][2], "message " .. i .. " opcode")
  send_next(w)
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.eq(i, #msgs + 1, "every message was echoed")
  T.pass()
end))
T.log("connect", T.echo)
ws:connect(T.echo .. "/")
