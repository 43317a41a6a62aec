-- The websocket module documentation's connect() example; only the URL
-- differs (first script argument, else the documentation's own URL).
ws = websocket.createClient()
ws:connect((arg and arg[1]) or 'ws://echo.websocket.org')
