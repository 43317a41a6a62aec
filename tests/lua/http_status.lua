-- A server refusing the opening handshake: the close callback gets -17 and,
-- as its fifth argument (code and reason nil), the HTTP status the server
-- answered with. Servers of two WebSocket libraries (websockets, aiohttp:
-- tests/peers/fail_server.py) and the scripted raw peer refuse.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)

local tid = assert(os.getenv("WS_TID"), "WS_TID not set")
local wsk = assert(os.getenv("WS_FAIL_WEBSOCKETS"), "WS_FAIL_WEBSOCKETS not set")
local aio = assert(os.getenv("WS_FAIL_AIOHTTP"), "WS_FAIL_AIOHTTP not set")

local cases = {
  { name = "websockets refuses 403", url = wsk .. "/t/" .. tid .. "/status/403", status = -17, http = 403 },
  { name = "aiohttp refuses 401", url = aio .. "/t/" .. tid .. "/status/401", status = -17, http = 401 },
  { name = "websockets refuses 503", url = wsk .. "/t/" .. tid .. "/status/503", status = -17, http = 503 },
  { name = "raw peer answers 200", url = T.raw("badstatus"), status = -17, http = 200 },
  -- Not a refusal: no fifth argument.
  { name = "bad Sec-WebSocket-Accept after 101", url = T.raw("badaccept"), status = -7, nargs = 0 },
  { name = "server closes 4002", url = T.echo .. "/close/4002", status = -6, nargs = 2,
    on_connect = function(ws) ws:send("x") end },
  { name = "refused TCP", url = T.refused, status = -109, nargs = 0 },
}

local i = 0
local function nxt()
  i = i + 1
  local k = cases[i]
  if not k then return T.pass(#cases .. " cases") end
  local ws = websocket.createClient()
  ws:on("connection", T.wrap(function(w) if k.on_connect then k.on_connect(w) end end))
  ws:on("close", T.wrap(function(_, status, ...)
    local n = select("#", ...)
    T.log(k.name, "close", status, n, ...)
    T.eq(status, k.status, k.name .. ": status")
    if k.http then
      T.eq(n, 3, k.name .. ": three more arguments")
      local code, reason, http = ...
      T.eq(code, nil, k.name .. ": no close code")
      T.eq(reason, nil, k.name .. ": no close reason")
      T.eq(http, k.http, k.name .. ": HTTP status")
    else
      T.eq(n, k.nargs, k.name .. ": arguments after the status")
    end
    T.later(1, nxt)
  end))
  ws:connect(k.url)
end
nxt()
