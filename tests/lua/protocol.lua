-- Protocol violations by the server: each gets its status code, and the
-- client sends the RFC 6455 close code first (checked by the raw peer).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(25)
T.run_cases({
  { name = "masked server frame", url = T.raw("masked"), status = -20, connected = true, peer = "masked" },
  { name = "RSV1 set", url = T.raw("rsv"), status = -21, connected = true, peer = "rsv" },
  { name = "reserved opcode 3", url = T.raw("opcode3"), status = -22, connected = true, peer = "opcode3" },
  { name = "126-byte ping", url = T.raw("bigping"), status = -23, connected = true, peer = "bigping" },
  { name = "close code 999", url = T.raw("badclosecode"), status = -24, connected = true, peer = "badclosecode" },
  { name = "1-byte close payload", url = T.raw("close1byte"), status = -24, connected = true, peer = "close1byte" },
  { name = "invalid UTF-8 text", url = T.raw("badutf8"), status = -25, connected = true, peer = "badutf8" },
  { name = "message over max_message", url = T.raw("toobig-2000"), config = { max_message = 1000 },
    status = -26, connected = true, peer = "toobig" },
  { name = "continuation without a message", url = T.raw("contnostart"), status = -15, connected = true, peer = "contnostart" },
  { name = "message over the default 1 MiB limit", url = T.raw("toobig-1048577"),
    status = -26, connected = true, peer = "toobig" },
}, function() T.pass() end)
