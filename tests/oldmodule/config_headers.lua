-- The original module's ws:config{headers = {...}}: it builds a malloc'd
-- header_t array (strdup'd keys and values, {NULL, NULL} at the end) in
-- ws_info.extraHeaders, frees the previous one on each call and in __gc.
-- The raw peer sends the request head back: the second config's headers
-- are sent (the first's are gone), User-Agent overrides the default, the
-- mandatory headers come first; other config keys are ignored by this
-- module. Under ASan this also checks the module's header memory.
local T = dofile((arg[0]:gsub("[^/]+$", "")) .. "oldlib.lua")
T.deadline(10)
ws = websocket.createClient()
ws:config({ headers = { ["X-First"] = "1" } })
ws:config({ headers = { ["X-Second"] = "2", ["User-Agent"] = "old-module" }, ping_interval = 1 })
ws:on("receive", T.wrap(function(w, head, opcode)
  T.eq(opcode, 1, "request head arrives as text")
  local seen = {}
  for line in head:gmatch("([^\r\n]*)\r\n") do
    local name = line:match("^([^:]+):")
    if name then seen[#seen + 1] = name end
  end
  T.eq(table.concat(seen, ",", 1, 5), "Host,Upgrade,Connection,Sec-WebSocket-Key,Sec-WebSocket-Version",
    "mandatory headers first")
  T.check(head:find("\r\nX-Second: 2\r\n", 1, true) ~= nil, "X-Second sent")
  T.check(head:find("\r\nUser-Agent: old-module\r\n", 1, true) ~= nil, "User-Agent from config")
  T.check(not head:find("User-Agent: ESP8266", 1, true), "default User-Agent replaced")
  T.check(not head:find("X-First", 1, true), "the first config's headers are gone")
  w:close()
end))
ws:on("close", T.wrap(function(_, status)
  T.eq(status, 0, "close status")
  -- an empty header table frees the array; the next connection sends none
  ws:config({ headers = {} })
  ws = nil
  collectgarbage()
  collectgarbage()
  T.pass()
end))
ws:connect(T.raw("headers"))
