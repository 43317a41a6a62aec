-- Soak: 1000 cycles of connect / exchange one message / close on one client
-- against the echo server. After each close (and the port's deferred
-- teardown) garbage is collected twice and node.heap_live() sampled; the
-- test fails if the live heap after cycle 1000 exceeds that after cycle 10.
-- Every sample is taken at the same place (a timer callback, same Lua
-- objects alive), and everything the test itself keeps (the sample array)
-- is allocated before the first sample, so the comparison is exact: no
-- tolerance. Also fails if any cycle's peak exceeds SOAK_PEAK_MAX.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
local CYCLES = tonumber(os.getenv("WS_SOAK_CYCLES")) or 1000
local PEAK_MAX = tonumber(os.getenv("WS_SOAK_PEAK_MAX")) or 32768
T.deadline(tonumber(os.getenv("WS_SOAK_DEADLINE")) or 100)
T.check(CYCLES >= 10, "at least 10 cycles")

local samples, peaks = {}, {}
for k = 1, CYCLES do samples[k], peaks[k] = 0, 0 end
local cycle, base, t0 = 0, 0, tmr.now()
local ws = websocket.createClient()
local msg

local function gc()
  collectgarbage()
  collectgarbage()
end

local function start()
  cycle = cycle + 1
  msg = string.format("soak cycle %06d", cycle) -- same length every cycle (msg stays alive)
  gc()
  base = node.heap_reset_peak()
  ws:connect(T.echo .. "/soak")
end

local function sample()
  gc()
  samples[cycle] = node.heap_live()
  if cycle < CYCLES then return start() end
  local s10, s100, s1000 = samples[10], samples[math.min(100, CYCLES)], samples[CYCLES]
  local secs = (tmr.now() - t0) / 1e6
  local maxpeak = 0
  for k = 1, CYCLES do
    if peaks[k] > maxpeak then maxpeak = peaks[k] end
  end
  T.log(string.format("%d cycles in %.1f s; live heap after cycle 1: %d, 10: %d, 100: %d, %d: %d; largest peak %d",
    CYCLES, secs, samples[1], s10, s100, CYCLES, s1000, maxpeak))
  print("HEAP soak_live_after_10 " .. s10)
  print("HEAP soak_live_after_100 " .. s100)
  print("HEAP soak_live_after_" .. CYCLES .. " " .. s1000)
  print("HEAP soak_cycle_peak_max " .. maxpeak)
  for k = 11, CYCLES do
    if samples[k] > s10 then
      T.log(string.format("first cycle above cycle 10: %d (%+d bytes)", k, samples[k] - s10))
      break
    end
  end
  T.check(s1000 <= s10, string.format("live heap after cycle %d (%d) <= after cycle 10 (%d), difference %+d",
    CYCLES, s1000, s10, s1000 - s10))
  T.check(maxpeak <= PEAK_MAX, "largest per-cycle peak " .. maxpeak .. " <= " .. PEAK_MAX)
  T.pass(string.format("%d cycles in %.1f s", CYCLES, secs))
end

ws:on("connection", function(w) w:send(msg) end)
ws:on("receive", function(w, m)
  if m ~= msg then T.fail(string.format("cycle %d: echo %s, want %s", cycle, T.show(m), T.show(msg))) end
  w:close()
end)
ws:on("close", function(_, status)
  peaks[cycle] = node.heap_peak() - base
  if status ~= 0 then T.fail(string.format("cycle %d: close status %d, want 0", cycle, status)) end
  -- The next turn of the loop: the port's deferred disconnect has run.
  T.later(1, sample)
end)
T.later(1, start)
