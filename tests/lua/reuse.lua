-- One client reused three times, reconnecting from inside its own close
-- callback each time; callbacks are kept across connections.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(15)
local rounds, round = 3, 1
local ws = websocket.createClient()
ws:on("connection", T.wrap(function(w)
  T.log("round", round, "connected")
  w:send("round " .. round)
end))
ws:on("receive", T.wrap(function(w, msg)
  T.eq(msg, "round " .. round, "echo in round " .. round)
  w:close()
end))
ws:on("close", T.wrap(function(w, status)
  T.eq(status, 0, "round " .. round .. " close status")
  if round == rounds then return T.pass() end
  round = round + 1
  T.log("reconnecting from the close callback")
  w:connect(T.echo .. "/again")
end))
ws:connect(T.echo .. "/")
