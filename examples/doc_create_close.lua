-- The websocket module documentation's createClient() and close() examples,
-- unchanged.
local ws = websocket.createClient()
-- ...
ws:close()
ws = nil

ws = websocket.createClient()
ws:close()
ws:close() -- nothing will happen
ws = nil -- fully dispose the client as lua will now gc it
