-- user:password@ in the URL sends Authorization: Basic (RFC 7617), the
-- userinfo percent-decoded (RFC 3986); an Authorization header set with
-- ws:config{headers} wins. The websockets echo server's /auth/<user>/<pw>
-- refuses (HTTP 401) anything but the right credentials; the raw peer's
-- "headers" scenario sends the request head back to check it byte by byte.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)

local function with_user(url, userinfo)
  return "ws://" .. userinfo .. "@" .. url:sub(6)
end
local echo_auth = T.echo .. "/auth/al%20i/p%40ss%3Aw"

local head -- the request head the raw peer sent back
local cases = {
  { name = "right credentials, percent-encoded", url = with_user(echo_auth, "al%20i:p%40ss%3aw"),
    status = 0, http = nil,
    on_connect = function(ws) ws:send("hi") end, on_receive = function(ws) ws:close() end },
  { name = "wrong password: 401", url = with_user(echo_auth, "al%20i:nope"), status = -17, http = 401 },
  { name = "no credentials: 401", url = echo_auth, status = -17, http = 401 },
  { name = "the request head", url = with_user(T.raw("headers"), "Aladdin:open%20sesame"), status = 0,
    on_receive = function(ws, msg) head = msg; ws:close() end,
    check = function()
      T.check(head:find("\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n", 1, true) ~= nil,
        "Authorization: Basic of Aladdin:open sesame")
      T.check(head:find("Aladdin", 1, true) == nil, "user name only in base64")
      T.check(head:find("\r\nHost: 127.0.0.1:", 1, true) ~= nil, "Host without credentials")
    end },
  { name = "an explicit Authorization header wins", url = with_user(T.raw("headers"), "u:p"), status = 0,
    config = { headers = { Authorization = "Bearer abc" } },
    on_receive = function(ws, msg) head = msg; ws:close() end,
    check = function()
      T.check(head:find("\r\nAuthorization: Bearer abc\r\n", 1, true) ~= nil, "the configured header is sent")
      local _, n = head:gsub("[Aa]uthorization:", "")
      T.eq(n, 1, "one Authorization header")
    end },
  { name = "malformed percent-encoding: -4", url = "ws://u:p%zz@127.0.0.1:1/", status = -4 },
  { name = "@ without a host: -4", url = "ws://u:p@/x", status = -4 },
}

local i = 0
local function nxt()
  i = i + 1
  local k = cases[i]
  if not k then return T.pass(#cases .. " cases") end
  local ws = websocket.createClient()
  ws:config(k.config or { headers = {} })
  ws:on("connection", T.wrap(function(w) if k.on_connect then k.on_connect(w) end end))
  ws:on("receive", T.wrap(function(w, msg) if k.on_receive then k.on_receive(w, msg) end end))
  ws:on("close", T.wrap(function(_, status, code, reason, http)
    T.log(k.name, "close", status, code, reason, http)
    T.eq(status, k.status, k.name .. ": status")
    T.eq(http, k.http, k.name .. ": HTTP status")
    if k.check then k.check() end
    T.later(1, nxt)
  end))
  ws:connect(k.url)
end
nxt()
