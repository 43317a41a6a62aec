-- The opening handshake request as the server sees it (the raw peer sends
-- the request head back as a text message): header order, the query string,
-- ws:config{headers=...} overriding the defaults but never the mandatory four.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(10)
local url = T.raw("headers") .. "?a=1&b=two"
local ws = websocket.createClient()
ws:config({ headers = { ["User-Agent"] = "e2e-tester", ["X-Extra"] = "yes", ["upgrade"] = "h2c" } })

local function lines_of(head)
  local t = {}
  for line in head:gmatch("([^\r\n]*)\r\n") do
    if line ~= "" then t[#t + 1] = line end
  end
  return t
end

ws:on("receive", T.wrap(function(w, head)
  T.log("request head as received by the server:\n" .. head)
  local l = lines_of(head)
  local path = url:match("^ws://[^/]+(/.*)$")
  T.eq(l[1], "GET " .. path .. " HTTP/1.1", "request line keeps path and query")
  T.eq(l[2], "Host: " .. url:match("^ws://([^/]+)/"), "Host with port")
  T.eq(l[3], "Upgrade: websocket", "Upgrade (not overridable)")
  T.eq(l[4], "Connection: Upgrade", "Connection")
  local key = l[5] and l[5]:match("^Sec%-WebSocket%-Key: ([A-Za-z0-9+/]+=*)$")
  T.check(key ~= nil and #key == 24 and key:sub(-2) == "==", "Sec-WebSocket-Key is base64 of 16 bytes: " .. tostring(l[5]))
  T.eq(l[6], "Sec-WebSocket-Version: 13", "version")
  local rest, seen = {}, {}
  for k = 7, #l do
    rest[#rest + 1] = l[k]
    local name = l[k]:match("^([^:]+):")
    T.check(name and not seen[name:lower()], "header appears once: " .. tostring(name))
    seen[name:lower()] = true
  end
  T.eq(#rest, 3, "extra + default headers after the mandatory ones")
  local extras = table.concat(rest, "|", 1, 2)
  T.check(extras == "User-Agent: e2e-tester|X-Extra: yes" or extras == "X-Extra: yes|User-Agent: e2e-tester",
    "the caller's headers come next (User-Agent overridden): " .. extras)
  T.eq(rest[3], "Sec-WebSocket-Protocol: chat", "remaining default last")
  w:close()
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  T.pass()
end))
ws:connect(url)
