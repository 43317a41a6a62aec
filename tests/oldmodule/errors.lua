-- URL, DNS, connect and handshake errors reach the close callback; URL
-- errors (-1..-4) from inside ws:connect itself, the others later. After
-- each, the client's self reference is released (the client can be
-- collected). Also the module's Lua argument errors.
-- Expected defect D3 (EXPECTED-DEFECTS.md): connect takes its self
-- reference before checking the URL argument, so ws:connect() without a
-- string leaks a registry reference and the client is never collected.
-- Run with FAKE_SDK_DNS_HOSTS_ONLY=1.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(20)
local port = T.echo:match(":(%d+)$")
local cases = {
  { "http scheme", "http://127.0.0.1:" .. port .. "/", -1, true },
  { "ftp scheme", "ftp://127.0.0.1/", -1, true },
  { "256-char host", "ws://" .. string.rep("a", 256) .. "/", -2, true },
  { "port 0", "ws://127.0.0.1:0/", -3, true },
  { "port 65536", "ws://127.0.0.1:65536/", -3, true },
  { "empty host", "ws:///path", -4, true },
  { "unknown host", "ws://no-such-host.invalid/", -5, false },
  { "connection refused", T.refused, -109, false },
  { "bad Sec-WebSocket-Accept", T.raw("badaccept"), -7, false },
  { "status not 101", T.raw("badstatus"), -17, false },
}
local weak = setmetatable({}, { __mode = "k" })
local i = 0
local after_cases
local function nxt()
  i = i + 1
  local c = cases[i]
  if not c then return after_cases() end
  local name, url, want, sync = c[1], c[2], c[3], c[4]
  local ws = websocket.createClient()
  weak[ws] = name
  local closed, in_connect = false, false
  ws:on("connection", T.wrap(function() T.fail(name .. ": connection event") end))
  ws:on("close", T.wrap(function(w, status)
    T.check(not closed, name .. ": one close callback")
    closed = true
    T.eq(status, want, name .. ": status")
    T.eq(in_connect, sync, name .. ": reported from inside connect")
    T.later(1, nxt)
  end))
  in_connect = true
  ws:connect(url)
  in_connect = false
  if not sync then T.eq(T.registry_count(ws), 1, name .. ": self reference while pending") end
end

after_cases = function()
  collectgarbage()
  collectgarbage()
  local left = {}
  for _, name in pairs(weak) do left[#left + 1] = name end
  T.eq(table.concat(left, ", "), "", "clients not collected after their close callbacks")

  local ws = websocket.createClient()
  local ok, err = pcall(ws.on, ws, "open", function() end)
  T.check(not ok and tostring(err):find("invalid option 'open'", 1, true), "on with an unknown event: " .. tostring(err))
  ok, err = pcall(ws.on, ws, "close", 42)
  T.check(not ok and tostring(err):find("function or nil", 1, true), "on with a number: " .. tostring(err))
  ok, err = pcall(ws.connect, ws)
  T.check(not ok and tostring(err):find("string expected", 1, true), "connect without URL: " .. tostring(err))
  T.eq(T.registry_count(ws), 1, "D3: connect without URL leaked a self reference")
  -- the state is still idle: a real connect works
  ws:on("connection", T.wrap(function(w) w:close() end))
  ws:on("close", T.wrap(function(w, status)
    T.eq(status, 0, "connect after the argument error: close status")
    T.later(1, function()
      T.eq(T.registry_count(w), 1, "D3: the leaked reference outlives the connection")
      T.pass()
    end)
  end))
  ws:connect(T.echo .. "/")
end
nxt()
