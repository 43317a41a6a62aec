-- Runner tls module without a network: tls.cert.verify forms, errors, and the
-- CA "flash sector" preloaded from FAKE_SDK_CA_FILE (arg 1: "preloaded" or
-- "empty").
local mode = ...
local function check(cond, msg)
  print((cond and "PASS " or "FAIL ") .. msg)
end
check(type(tls) == "table" and type(tls.cert) == "table", "tls.cert exists")
local ok, err = pcall(tls.cert.verify, true)
if mode == "preloaded" then
  check(ok and err == true, "verify(true) with FAKE_SDK_CA_FILE: " .. tostring(err))
else
  check(not ok and tostring(err):find("no certificates found", 1, true), "verify(true) without a CA: " .. tostring(err))
end
check(tls.cert.verify(false) == true, "verify(false)")
check(tls.cert.verify(nil) == true, "verify(nil)")
check(tls.cert.verify(function() end) == true, "verify(function)")
ok, err = pcall(tls.cert.verify, "-----BEGIN CERTIFICATE-----")
check(not ok and tostring(err):find("Incorrect PEM format", 1, true), "BEGIN line without end: " .. tostring(err))
ok, err = pcall(tls.cert.verify, "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n")
check(ok and err == true, "well-formed PEM block is stored and enabled: " .. tostring(err))
check(tls.cert.verify(true) == true, "verify(true) after storing")
print("DONE")
