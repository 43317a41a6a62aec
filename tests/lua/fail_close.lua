-- After failing the connection (here -26: a message over max_message) the
-- client sends its close code (1009) and then reads and discards until the
-- server closes TCP, so that a server still writing reads the code instead
-- of a reset. Checked by the servers of two WebSocket libraries
-- (tests/peers/fail_server.py: websockets and aiohttp), each of which
-- reports the close code it received: 1009 every time, WS_FAILCLOSE_RUNS
-- times against each (the issue saw 1006 in 6 of 10 runs against aiohttp).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(100)

local runs = tonumber(os.getenv("WS_FAILCLOSE_RUNS") or "10")
local size = 2 * 1024 * 1024
local tid = assert(os.getenv("WS_TID"), "WS_TID not set")
local servers = {
  { impl = "websockets", base = assert(os.getenv("WS_FAIL_WEBSOCKETS"), "WS_FAIL_WEBSOCKETS not set") },
  { impl = "aiohttp", base = assert(os.getenv("WS_FAIL_AIOHTTP"), "WS_FAIL_AIOHTTP not set") },
}

local cases = {}
for _, s in ipairs(servers) do
  for r = 1, runs do
    cases[#cases + 1] = {
      name = s.impl .. " run " .. r .. ": 2 MiB over a 64 KiB limit",
      url = s.base .. "/t/" .. tid .. "/big/" .. size,
      config = { max_message = 65536, close_timeout = 10 },
      status = -26, connected = true, peer = "failclose-" .. s.impl,
    }
  end
end

T.run_cases(cases, function() T.pass(#cases .. " failed connections, the servers' verdicts follow") end)
