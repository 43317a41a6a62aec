-- The websocket module is registered and reports early failures through the
-- close callback from the event loop (run with FAKE_SDK_DNS_HOSTS_ONLY=1).
local function check(name, cond) print((cond and "PASS " or "FAIL ") .. name) end
check("module", type(websocket) == "table" and type(websocket.createClient) == "function")
local refused_port = arg[1]
local results = {}
local pending = 3
local function client(url)
  local ws = websocket.createClient()
  local sync = true
  ws:on("close", function(w, status)
    check("close callback gets its client", w == ws)
    check("close not called from inside connect for " .. url, not sync)
    results[url] = status
    pending = pending - 1
    if pending == 0 then
      check("dns failure -5", results["ws://nonexistent.invalid/"] == -5)
      check("refused -109", results["ws://127.0.0.1:" .. refused_port .. "/"] == -109)
      check("localhost refused -109", results["ws://localhost:" .. refused_port .. "/"] == -109)
      print("DONE")
    end
  end)
  ws:connect(url)
  sync = false
end
client("ws://nonexistent.invalid/")
client("ws://127.0.0.1:" .. refused_port .. "/")
client("ws://localhost:" .. refused_port .. "/")
