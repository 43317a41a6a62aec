-- HTTP Basic authentication from the URL: user:password@ sends
-- "Authorization: Basic <base64 of user:password>" with the handshake.
--   build/nodemcu-lua examples/v2_auth.lua ws://user:secret@127.0.0.1:PORT/auth/user/secret
-- (the test echo server's /auth/<user>/<password> accepts only those.)
-- Characters such as @ : / or a space in the user name or password are
-- written percent-encoded (%40 %3A %2F %20). A refusal ends with status -17
-- and the server's HTTP status (401) as the fifth argument.
local url = (arg and arg[1]) or "ws://user:secret@127.0.0.1:8080/auth/user/secret"

local ws = websocket.createClient()

ws:on("connection", function(client)
  print("connected: authenticated")
  client:close()
end)

ws:on("close", function(_, status, code, reason, http)
  if http then
    print("closed:    status " .. status .. ", refused with HTTP " .. http)
  else
    print("closed:    status " .. status)
  end
  ws = nil
end)

-- Print the URL without its password.
print("connecting to " .. url:gsub("//([^:/@]*):[^@/]*@", "//%1:***@"))
ws:connect(url)
