-- 16 clients connected at the same time to the echo server; each sends only
-- once all 16 are open, checks its own echoes in order, then closes.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(20)
local N, PER = 16, 5
local clients, open, closed = {}, 0, 0
local function start_all()
  T.log("all", N, "connected at once; sending")
  for k = 1, N do
    for j = 1, PER do clients[k].ws:send(string.format("client %d message %d", k, j)) end
  end
end
for k = 1, N do
  local c = { ws = websocket.createClient(), got = 0 }
  clients[k] = c
  c.ws:on("connection", T.wrap(function()
    open = open + 1
    if open == N then start_all() end
  end))
  c.ws:on("receive", T.wrap(function(w, msg)
    c.got = c.got + 1
    T.eq(msg, string.format("client %d message %d", k, c.got), "client " .. k .. " echo " .. c.got)
    if c.got == PER then w:close() end
  end))
  c.ws:on("close", T.wrap(function(_, status)
    T.eq(status, 0, "client " .. k .. " close status")
    T.eq(c.got, PER, "client " .. k .. " got all echoes")
    closed = closed + 1
    if closed == N then T.pass(N .. " clients") end
  end))
  c.ws:connect(T.echo .. "/c" .. k)
end
