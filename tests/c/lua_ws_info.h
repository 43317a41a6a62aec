/* tests/c/lua_ws_info.h — a ws_info set up the way NodeMCU's Lua binding
 * leaves it before ws_connect: not zeroed (every byte 0xA5), only the
 * fields the caller owns written. The C tests (test_core, host_echo,
 * host_oom) start from this so that the library must not read anything
 * else before it sets it. Include after the API header (websocketclient.h;
 * the tests reach it by different include paths). */
#ifndef TESTS_C_LUA_WS_INFO_H
#define TESTS_C_LUA_WS_INFO_H

#include <string.h>

static inline void lua_ws_info(ws_info *ws, void *reserved, ws_onConnectionCallback on_connection,
                               ws_onReceiveCallback on_receive,
                               ws_onFailureCallback on_failure) {
  memset(ws, 0xA5, sizeof *ws);
  ws->connectionState = 0;
  ws->extraHeaders = NULL;
  ws->reservedData = reserved;
  ws->onConnection = on_connection;
  ws->onReceive = on_receive;
  ws->onFailure = on_failure;
}

#endif
