-- wss:// with server certificate checking, as NodeMCU offers it through
-- tls.cert.verify (the runner's tls module over the fake SDK's
-- espconn_secure_ca_enable/_disable and its CA "flash sector").
-- The server's certificate (self-signed, made by the driver) comes from
--   WS_TLS_CERT (a path), or NODEMCU_LUA_DIR/WS_TLS_CERT_IN_BUILD
-- (NODEMCU_LUA_DIR is set by the build/nodemcu-lua launcher: the build dir).
-- A second, unrelated CA is generated here with the openssl command.
local T = dofile(os.getenv("WS_TESTLIB") or ((arg[0]:gsub("[^/]+$", "")) .. "testlib.lua"))
T.deadline(40)
local wss = os.getenv("WS_ECHO_TLS")
T.check(wss ~= nil, "WS_ECHO_TLS is set: " .. tostring(wss))
T.check(type(tls) == "table" and type(tls.cert) == "table" and type(tls.cert.verify) == "function",
  "tls.cert.verify exists")

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local cert_path = os.getenv("WS_TLS_CERT")
if not cert_path and os.getenv("NODEMCU_LUA_DIR") and os.getenv("WS_TLS_CERT_IN_BUILD") then
  cert_path = os.getenv("NODEMCU_LUA_DIR") .. "/" .. os.getenv("WS_TLS_CERT_IN_BUILD")
end
local server_pem = cert_path and readfile(cert_path)
T.check(server_pem and server_pem:find("-----BEGIN CERTIFICATE-----", 1, true),
  "server certificate read from " .. tostring(cert_path))

-- A fresh self-signed CA with the same subject (CN=127.0.0.1) as the server's
-- certificate: only the signature tells them apart.
local tmp_key, tmp_crt = os.tmpname(), os.tmpname()
local cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
  .. " -subj /CN=127.0.0.1 -keyout " .. tmp_key .. " -out " .. tmp_crt .. " >/dev/null 2>&1"
local ok = os.execute(cmd)
T.check(ok == true or ok == 0, "openssl made a second CA")
local other_pem = readfile(tmp_crt)
os.remove(tmp_key)
os.remove(tmp_crt)
T.check(other_pem and other_pem:find("-----BEGIN CERTIFICATE-----", 1, true) and other_pem ~= server_pem,
  "second CA differs from the server certificate")

-- Lua errors of tls.cert.verify (nothing stored yet, bad PEM data).
local function verify_error(arg, want, msg)
  local okc, err = pcall(tls.cert.verify, arg)
  T.check(not okc and tostring(err):find(want, 1, true), msg .. " -> " .. tostring(err))
end
verify_error(true, "no certificates found", "enable with an empty CA sector")
verify_error("hello", "No PEM header", "string without PEM")
verify_error("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "Wrong PEM type", "key instead of certificate")
verify_error("-----BEGIN CERTIFICATE-----\nAA!A\n-----END CERTIFICATE-----\n", "Invalid character in PEM", "bad base64")
verify_error("-----BEGIN CERTIFICATE-----\nAAAA\n", "Invalid PEM format data", "no END line")
verify_error("-----BEGIN CERTIFICATE-----\n" .. string.rep("QUFB", 1400) .. "\n-----END CERTIFICATE-----\n",
  "Invalid PEM format data", "certificate larger than the flash sector")

local n_echo = 0
local function echo_case(name, url)
  return { name = name, url = url or (wss .. "/"), status = 0, connected = true,
    on_connect = function(w) w:send(name) end,
    on_receive = function(w, msg)
      T.eq(msg, name, name .. ": echo")
      n_echo = n_echo + 1
      w:close()
    end }
end
local function reject_case(name)
  return { name = name, url = wss .. "/", status = -128, connected = false }
end
local function set(arg, msg)
  return function()
    T.eq(tls.cert.verify(arg), true, msg)
  end
end

local calls = {}
local steps = {
  { case = echo_case("never enabled: not checked") },
  { setup = set(server_pem, "verify(server certificate)"), case = echo_case("CA = server certificate") },
  { case = echo_case("ws:// while checking is on", T.echo .. "/") },
  { setup = set(other_pem, "verify(other CA)"), case = reject_case("CA = unrelated certificate") },
  { setup = set(false, "verify(false)"), case = echo_case("checking off again") },
  { setup = set(true, "verify(true)"), case = reject_case("on again with the stored (unrelated) CA") },
  { setup = set(server_pem .. other_pem, "verify(server .. other): only the first block is stored"),
    case = echo_case("first PEM block stored") },
  { setup = set(false, "verify(false) before the function form"), case = echo_case("off") },
  -- the function form: asked for certificate 1, 2, ... at each handshake
  { setup = set(function(i)
      calls[#calls + 1] = i
      if i == 1 then return other_pem elseif i == 2 then return server_pem end
    end, "verify(function: other, server)"), case = echo_case("function: server certificate second") },
  { setup = function()
      T.eq(table.concat(calls, ","), "1,2,3", "the function was asked for 1, 2, 3")
      set(function(i) if i == 1 then return other_pem end end, "verify(function: other)")()
    end, case = reject_case("function: unrelated CA only") },
  { setup = set(function() return nil end, "verify(function: nothing)"), case = reject_case("function: no certificate") },
  { setup = set(function() error("no CA today") end, "verify(function: error)"), case = reject_case("function raises") },
  { setup = set(function() return "not a certificate" end, "verify(function: junk)"), case = reject_case("function: junk") },
  { setup = function()
      T.eq(tls.cert.verify(nil), true, "verify(nil): drops the function and disables")
    end, case = echo_case("verify(nil): off") },
}

local function step(i)
  local s = steps[i]
  if not s then
    T.eq(n_echo, 8, "all echo cases echoed")
    return T.pass()
  end
  if s.setup then s.setup() end
  T.run_cases({ s.case }, function() step(i + 1) end)
end
step(1)
