-- wss:// through espconn_secure_connect (the fake SDK's TLS) against the
-- websockets echo server with a throw-away certificate; a TLS handshake
-- with a plain-TCP server fails with -128 (ESPCONN_HANDSHAKE - 100).
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(20)
local tls = os.getenv("WS_ECHO_TLS")
T.check(tls ~= nil, "WS_ECHO_TLS is set: " .. tostring(tls))
local big = string.rep("tls payload ", 9000) -- 108 000 bytes
local step = 0
T.run_cases({
  { name = "wss echo", url = tls .. "/", status = 0, connected = true,
    on_connect = function(w) w:send("over TLS") end,
    on_receive = function(w, msg, opcode)
      step = step + 1
      if step == 1 then
        T.eq(msg, "over TLS", "small echo over TLS")
        w:send(big, 2)
      else
        T.eq(msg, big, "108 000-byte echo over TLS")
        T.eq(opcode, 2, "binary opcode")
        w:close()
      end
    end },
  { name = "upper-case WSS, server close", url = "WSS" .. tls:sub(4) .. "/close/4000", status = -6, connected = true,
    on_connect = function(w) w:send("bye") end },
  { name = "TLS handshake with a plain server", url = "wss" .. T.echo:sub(3) .. "/", status = -128, connected = false },
}, function()
  T.eq(step, 2, "both echoes seen")
  T.pass()
end)
