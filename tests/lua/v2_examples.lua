-- Runs examples/v2_*.lua (unchanged; URL from arg[1]) against the echo
-- server one after the other and checks what they print.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)
local dir = os.getenv("WS_EXAMPLES") or "examples"
arg[1] = T.echo .. "/"

local cap = T.capture_print()

-- The sample sum the streaming example must print for its 200 000 bytes.
local sum = 0
do
  local msg = string.rep("0123456789", 20000)
  for i = 1, #msg, 97 do sum = (sum + msg:byte(i)) % 65536 end
end

local runs = {
  { "v2_protocols.lua", {
      "connected, protocol: echo.v2",
      "received:  hello over echo.v2",
      "closed:    status 0, protocol was echo.v2" } },
  { "v2_close_reason.lua", {
      "received:  please say goodbye",
      "closed:    status 0, server's close frame: code 4000, reason 'done for today'" } },
  { "v2_streaming.lua", {
      "sent:      200000 bytes",
      "closed:    status 0" },
    -- piece count depends on the segments: match the rest
    "^received:  200000 bytes %(opcode 2%) in %d+ pieces, sample sum " .. sum .. "$" },
  { "v2_refused.lua", {
      "closed:    status -17, the server answered HTTP 403" }, nil, T.echo .. "/refuse/403" },
  { "v2_ping.lua", { "closed:    status 0" }, "^pong:      'ping 3' after %d+%.%d ms$" },
  { "v2_auth.lua", {
      "connected: authenticated",
      "closed:    status 0" }, nil, "ws://user:s%40cret@" .. T.echo:sub(6) .. "/auth/user/s%40cret" },
  { "v2_auth.lua", {
      "closed:    status -17, refused with HTTP 401" }, nil, "ws://user:wrong@" .. T.echo:sub(6) .. "/auth/user/s%40cret" },
  { "v2_reconnect.lua", {
      "connected: 3",
      "received:  hello 3",
      "lost:      status -6, close code 4000, reconnecting",
      "closed:    status 0 after 3 connections" }, nil, T.echo .. "/close/4000" },
}

local function nxt()
  local r = table.remove(runs, 1)
  if not r then return T.pass("v2 examples") end
  cap.lines = {}
  arg[1] = r[4] or (T.echo .. "/")
  dofile(dir .. "/" .. r[1])
  -- Poll until the example printed its closing line, then check all lines.
  local t = tmr.create()
  t:alarm(20, tmr.ALARM_AUTO, T.wrap(function()
    local last = cap.lines[#cap.lines] or ""
    if not last:find("^closed:") then return end
    t:unregister()
    local have = {}
    for _, l in ipairs(cap.lines) do have[l] = true end
    for _, want in ipairs(r[2]) do
      T.check(have[want], r[1] .. " printed " .. T.show(want))
    end
    if r[3] then
      local found = false
      for _, l in ipairs(cap.lines) do found = found or l:find(r[3]) ~= nil end
      T.check(found, r[1] .. " printed a line matching " .. r[3])
    end
    collectgarbage()
    T.later(1, nxt)
  end))
end
nxt()
