-- Status codes -1..-5 (URL and DNS errors; run with FAKE_SDK_DNS_HOSTS_ONLY=1)
-- and the accepted URL forms (scheme case, localhost, query string).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(15)
local port = T.echo:match(":(%d+)$")
local function close_at_once(w) w:close() end
T.run_cases({
  { name = "http scheme", url = "http://127.0.0.1:" .. port .. "/", status = -1, connected = false },
  { name = "no scheme", url = "127.0.0.1:" .. port .. "/", status = -1, connected = false },
  { name = "ftp scheme", url = "ftp://127.0.0.1/", status = -1, connected = false },
  { name = "256-char host", url = "ws://" .. string.rep("a", 256) .. "/", status = -2, connected = false },
  { name = "port 0", url = "ws://127.0.0.1:0/", status = -3, connected = false },
  { name = "port 65536", url = "ws://127.0.0.1:65536/", status = -3, connected = false },
  { name = "port 99999", url = "ws://127.0.0.1:99999/", status = -3, connected = false },
  { name = "empty host", url = "ws:///path", status = -4, connected = false },
  { name = "empty host with port", url = "ws://:" .. port .. "/", status = -4, connected = false },
  { name = "unknown host", url = "ws://no-such-host.invalid/", status = -5, connected = false },
  { name = "255-char host is not too long", url = "ws://" .. string.rep("b", 247) .. ".invalid/", status = -5, connected = false },
  { name = "upper-case scheme", url = "WS://127.0.0.1:" .. port .. "/", status = 0, connected = true, on_connect = close_at_once },
  { name = "localhost via hosts", url = "ws://localhost:" .. port .. "/path?q=1&r=2", status = 0, connected = true, on_connect = close_at_once },
  { name = "close while resolving", url = "ws://localhost:" .. port .. "/", status = 0, connected = false,
    after_connect = close_at_once },
}, function() T.pass() end)
