-- Lengths and sizes chosen to make the client allocate a lot: frame headers
-- announcing 2^63, 2^63-1, 2^64-1 and 2^32+1 payload bytes (16 bytes
-- follow), and a handshake response with 1 MiB of header lines. Each must
-- end with its status without any large allocation (peak heap bounded by
-- fault_lib's F.HEAP = 32 KiB), then the client connects again.
-- Already covered elsewhere (protocol.lua, status_server.lua): a message
-- just over max_message (2000 with max_message 1000; 1 MiB + 1 with the
-- default), whose payload is really sent, and a ~9 KiB header block (-27).
local F = dofile((os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua")):gsub("testlib%.lua$", "fault_lib.lua"))
local T = F.T
T.deadline(30)
F.run({
  -- The top bit of a 64-bit length must be 0 (RFC 6455 5.2); the client
  -- treats it as a length over any limit: -26 (close 1009).
  { id = "len_2p63", name = "frame length 2^63", url = T.raw("biglen-9223372036854775808"),
    status = -26, connected = true, peer = "biglen" },
  { id = "len_2p64m1", name = "frame length 2^64-1", url = T.raw("biglen-18446744073709551615"),
    status = -26, connected = true, peer = "biglen" },
  { id = "len_2p63m1", name = "frame length 2^63-1", url = T.raw("biglen-9223372036854775807"),
    status = -26, connected = true, peer = "biglen" },
  { id = "len_2p32p1", name = "frame length 2^32+1, default max_message", url = T.raw("biglen-4294967297"),
    status = -26, connected = true, peer = "biglen" },
  { id = "len_2p32p1_maxcfg", name = "frame length 2^32+1, largest max_message", url = T.raw("biglen-4294967297"),
    config = { max_message = 4294967295 }, status = -26, connected = true, peer = "biglen" },
  { id = "len_maxmsg_p1", name = "frame length max_message+1 (1 MiB + 1)", url = T.raw("biglen-1048577"),
    status = -26, connected = true, peer = "biglen" },
  { id = "headers_1mib", name = "1 MiB of response headers", url = T.raw("megaheaders"),
    status = -27, connected = false },
}, function()
  F.summary()
  T.pass()
end)
