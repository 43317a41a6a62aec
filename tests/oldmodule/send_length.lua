-- Expected defect D1 (EXPECTED-DEFECTS.md): ws:send passes the length as
-- (unsigned short) msgLength, so only length mod 65536 bytes of a message
-- are sent: 65535 bytes go whole, 65536 bytes go as an empty message, and
-- 65536 + 100 bytes go as their first 100 bytes. Text and binary.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(20)
local function msg(n, salt)
  local unit = salt .. "0123456789abcdefghijklmnopqrstuvwxyz"
  local s = string.rep(unit, math.floor(n / #unit) + 1)
  return s:sub(1, n)
end
local steps = {
  { 65535, 1, 65535 },
  { 65536, 1, 0 },
  { 65636, 1, 100 },
  { 131072 + 7, 2, 7 },
  { 1000, 2, 1000 },
}
local k = 0
ws = websocket.createClient()
local sent
local function send_next(w)
  k = k + 1
  local s = steps[k]
  if not s then return w:close() end
  sent = msg(s[1], tostring(k))
  T.log("sending", #sent, "bytes, opcode", s[2])
  w:send(sent, s[2])
end
ws:on("connection", T.wrap(send_next))
ws:on("receive", T.wrap(function(w, got, opcode)
  local s = steps[k]
  T.eq(opcode, s[2], #sent .. " bytes: opcode")
  T.eq(got, sent:sub(1, s[3]), #sent .. " bytes sent: echo is the first " .. s[3] .. " bytes")
  send_next(w)
end))
T.closed_ok(ws, "after the last step", function()
  T.eq(k, #steps + 1, "all steps done")
  T.pass()
end)
ws:connect(T.echo .. "/")
