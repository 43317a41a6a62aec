/*
 * websocket.c - NodeMCU Lua module "websocket" on top of libwebsocket.
 *
 *   ws = websocket.createClient()
 *   ws:on("connection" | "receive" | "close", function | nil)
 *   ws:config{ headers = {...}, connect_timeout = s, ping_interval = s,
 *              pong_timeout = s, close_timeout = s, max_message = bytes }
 *   ws:connect(url)
 *   ws:send(msg[, opcode])
 *   ws:close()
 *
 * Builds in a NodeMCU tree with either Lua flavour (5.1 or 5.3) and, unchanged,
 * on the host against nodemcu-glue/host/.
 *
 * Lifetime: the userdata holds the ws_info. From ws:connect until the close
 * callback has returned, a registry reference keeps the userdata alive, so the
 * library never calls back into a collected client. A client collected while
 * a connection is still live (only possible when the Lua state itself is shut
 * down) is torn down with ws_release, which makes no callback.
 */
#include <string.h>
#include <stdlib.h>
#include <stdint.h>

#include "module.h"
#include "lauxlib.h"
#include "lua.h"

#include "websocket/websocketclient.h"

#define WS_CLIENT_MT "websocket.client"

/* Largest timeout accepted by ws:config, in seconds (keeps ms in 32 bits). */
#define WS_MAX_TIMEOUT_S 4000000

typedef struct ws_client {
  ws_info ws;        /* ws.reservedData points back to this struct */
  ws_options opts;   /* passed to ws_connect_with */
  header_t *headers; /* one malloc block: array + strings, ends with {NULL, NULL} */
  int self_ref;      /* LUA_NOREF unless between connect and close callback */
  int cb_connection;
  int cb_receive;
  int cb_close;
  int live; /* a connection exists in the library (connect .. close callback) */
} ws_client;

static ws_client *check_client(lua_State *L) {
  return (ws_client *)luaL_checkudata(L, 1, WS_CLIENT_MT);
}

/* Call the function and arguments on top of the stack; errors are reported by
 * luaL_pcallx. The stack is restored to `base` afterwards either way. */
static void call_lua(lua_State *L, int base, int nargs) {
  (void)luaL_pcallx(L, nargs, 0);
  lua_settop(L, base);
}

static void push_self(lua_State *L, ws_client *c, int ref) {
  (void)c;
  if (ref != LUA_NOREF && ref != LUA_REFNIL) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  } else {
    lua_pushnil(L);
  }
}

/* ---- library callbacks ---- */

static void on_connection(ws_info *ws) {
  ws_client *c = (ws_client *)ws->reservedData;
  lua_State *L = lua_getstate();
  int base;
  if (c == NULL || c->cb_connection == LUA_NOREF) {
    return;
  }
  base = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->cb_connection);
  push_self(L, c, c->self_ref);
  call_lua(L, base, 1);
}

static void on_receive(ws_info *ws, int len, char *message, int opcode) {
  ws_client *c = (ws_client *)ws->reservedData;
  lua_State *L = lua_getstate();
  int base;
  if (c == NULL || c->cb_receive == LUA_NOREF) {
    return;
  }
  if (len < 0 || (message == NULL && len > 0)) {
    len = 0;
  }
  base = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->cb_receive);
  push_self(L, c, c->self_ref);
  lua_pushlstring(L, message != NULL ? message : "", (size_t)len);
  lua_pushinteger(L, opcode);
  call_lua(L, base, 3);
}

static void on_close(ws_info *ws, int status) {
  ws_client *c = (ws_client *)ws->reservedData;
  lua_State *L = lua_getstate();
  int ref;
  if (c == NULL) {
    return;
  }
  /* The connection is over; the callback may connect again, which takes a
   * new self reference. The old one is dropped after the callback. */
  ref = c->self_ref;
  c->self_ref = LUA_NOREF;
  c->live = 0;
  if (c->cb_close != LUA_NOREF) {
    int base = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->cb_close);
    push_self(L, c, ref);
    lua_pushinteger(L, status);
    call_lua(L, base, 2);
  }
  if (ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
  }
}

/* ---- module functions ---- */

static int ws_create_client(lua_State *L) {
  ws_client *c = (ws_client *)lua_newuserdata(L, sizeof(ws_client));
  memset(c, 0, sizeof(*c));
  c->ws.connectionState = 0;
  c->ws.extraHeaders = NULL;
  c->ws.reservedData = c;
  c->ws.onConnection = on_connection;
  c->ws.onReceive = on_receive;
  c->ws.onFailure = on_close;
  ws_options_init(&c->opts);
  c->headers = NULL;
  c->self_ref = LUA_NOREF;
  c->cb_connection = LUA_NOREF;
  c->cb_receive = LUA_NOREF;
  c->cb_close = LUA_NOREF;
  c->live = 0;
  luaL_getmetatable(L, WS_CLIENT_MT);
  lua_setmetatable(L, -2);
  return 1;
}

static int ws_client_on(lua_State *L) {
  static const char *const events[] = {"connection", "receive", "close", NULL};
  ws_client *c = check_client(L);
  int which = luaL_checkoption(L, 2, NULL, events);
  int *slot;
  int t = lua_type(L, 3);

  if (t != LUA_TNIL && t != LUA_TNONE && !lua_isfunction(L, 3)) {
    return luaL_argerror(L, 3, "function or nil expected");
  }
  slot = which == 0 ? &c->cb_connection : which == 1 ? &c->cb_receive : &c->cb_close;
  if (*slot != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, *slot);
    *slot = LUA_NOREF;
  }
  if (t != LUA_TNIL && t != LUA_TNONE) {
    lua_pushvalue(L, 3);
    *slot = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return 0;
}

static int ws_client_connect(lua_State *L) {
  ws_client *c = check_client(L);
  const char *url = luaL_checkstring(L, 2);

  /* `live` also covers state 4 while a close is still in progress: the old
   * connection's close callback has not run yet. */
  if ((c->ws.connectionState != 0 && c->ws.connectionState != 4) || c->live) {
    return luaL_error(L, "Websocket already connecting or connected.");
  }
  if (c->self_ref == LUA_NOREF) {
    lua_pushvalue(L, 1);
    c->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  c->live = 1;
  c->ws.reservedData = c;
  c->ws.extraHeaders = c->headers; /* read only during this call */
  /* May call on_close at once (bad URL); the userdata stays on our stack. */
  ws_connect_with(&c->ws, url, &c->opts);
  return 0;
}

static int ws_client_send(lua_State *L) {
  ws_client *c = check_client(L);
  size_t len = 0;
  const char *msg;
  lua_Integer opcode;
  int rc;

  if (c->ws.connectionState != 3) {
    return luaL_error(L, "Websocket isn't connected.");
  }
  msg = luaL_checklstring(L, 2, &len);
  opcode = luaL_optinteger(L, 3, 1);
  if (opcode != 1 && opcode != 2 && opcode != 9 && opcode != 10) {
    return luaL_argerror(L, 3, "opcode must be 1, 2, 9 or 10");
  }
  if ((opcode == 9 || opcode == 10) && len > 125) {
    return luaL_argerror(L, 2, "control frame payload over 125 bytes");
  }
  rc = ws_send_long(&c->ws, (int)opcode, msg, len);
  if (rc == WS_ERR_NOT_CONNECTED) {
    return luaL_error(L, "Websocket isn't connected.");
  }
  if (rc == WS_ERR_BAD_OPCODE) {
    return luaL_argerror(L, 3, "opcode rejected");
  }
  /* WS_ERR_NO_MEMORY_SEND: the connection fails with -16 through "close". */
  return 0;
}

static int ws_client_close(lua_State *L) {
  ws_client *c = check_client(L);
  ws_close(&c->ws);
  return 0;
}

/* seconds (possibly fractional) -> milliseconds, range-checked */
static uint32_t seconds_to_ms(lua_State *L, int idx, const char *key, int allow_zero) {
  lua_Number s;
  if (lua_type(L, idx) != LUA_TNUMBER) {
    luaL_error(L, "config: %s must be a number of seconds", key);
    return 0;
  }
  s = lua_tonumber(L, idx);
  if (!(s >= 0) || s > WS_MAX_TIMEOUT_S || (!allow_zero && s <= 0)) {
    luaL_error(L, "config: %s out of range", key);
    return 0;
  }
  return (uint32_t)(s * 1000 + 0.5);
}

static int header_text_ok(const char *s, size_t n, int is_name) {
  size_t i;
  if (is_name && n == 0) {
    return 0;
  }
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\r' || ch == '\n' || ch == '\0') {
      return 0;
    }
    if (is_name && (ch == ':' || ch <= ' ' || ch >= 127)) {
      return 0;
    }
  }
  return 1;
}

/* Validate the headers table at `idx`; returns the bytes one block needs. */
static size_t headers_measure(lua_State *L, int idx, size_t *count) {
  size_t bytes = 0, n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    size_t kl, vl;
    const char *k, *v;
    if (lua_type(L, -2) != LUA_TSTRING ||
        (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)) {
      luaL_error(L, "config: headers must map names to strings");
      return 0;
    }
    k = lua_tolstring(L, -2, &kl);
    lua_pushvalue(L, -1); /* convert a copy: never touch the lua_next key/value */
    v = lua_tolstring(L, -1, &vl);
    if (!header_text_ok(k, kl, 1) || !header_text_ok(v, vl, 0)) {
      luaL_error(L, "config: invalid header '%s'", k);
      return 0;
    }
    lua_pop(L, 2);
    bytes += kl + 1 + vl + 1;
    n++;
  }
  *count = n;
  return bytes + (n + 1) * sizeof(header_t);
}

/* Fill a block sized by headers_measure; cannot fail. */
static void headers_fill(lua_State *L, int idx, header_t *h, size_t count) {
  char *p = (char *)(h + count + 1);
  size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0 && i < count) {
    size_t kl, vl;
    const char *k = lua_tolstring(L, -2, &kl);
    const char *v;
    lua_pushvalue(L, -1);
    v = lua_tolstring(L, -1, &vl);
    memcpy(p, k, kl);
    p[kl] = '\0';
    h[i].key = p;
    p += kl + 1;
    memcpy(p, v, vl);
    p[vl] = '\0';
    h[i].value = p;
    p += vl + 1;
    i++;
    lua_pop(L, 2);
  }
  if (i >= count) {
    lua_settop(L, idx); /* drop a pending lua_next key, if any */
  }
  h[i].key = NULL;
  h[i].value = NULL;
}

static int ws_client_config(lua_State *L) {
  ws_client *c = check_client(L);
  ws_options o = c->opts;
  int headers_idx = 0;
  size_t hcount = 0, hbytes = 0;

  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  /* Pass 1: validate everything before changing anything. */
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    const char *key;
    if (lua_type(L, -2) != LUA_TSTRING) {
      return luaL_error(L, "config: unknown option (non-string key)");
    }
    key = lua_tostring(L, -2);
    if (strcmp(key, "headers") == 0) {
      if (lua_type(L, -1) != LUA_TTABLE) {
        return luaL_error(L, "config: headers must be a table");
      }
      hbytes = headers_measure(L, lua_gettop(L), &hcount);
      headers_idx = 1;
    } else if (strcmp(key, "connect_timeout") == 0) {
      o.connect_timeout_ms = seconds_to_ms(L, -1, key, 0);
    } else if (strcmp(key, "ping_interval") == 0) {
      o.ping_interval_ms = seconds_to_ms(L, -1, key, 1);
    } else if (strcmp(key, "pong_timeout") == 0) {
      o.pong_timeout_ms = seconds_to_ms(L, -1, key, 1);
    } else if (strcmp(key, "close_timeout") == 0) {
      o.close_timeout_ms = seconds_to_ms(L, -1, key, 0);
    } else if (strcmp(key, "max_message") == 0) {
      lua_Number n;
      if (lua_type(L, -1) != LUA_TNUMBER) {
        return luaL_error(L, "config: max_message must be a number of bytes");
      }
      n = lua_tonumber(L, -1);
      if (!(n >= 1) || n > 4294967295.0) {
        return luaL_error(L, "config: max_message out of range");
      }
      o.max_message = (uint32_t)n;
    } else {
      return luaL_error(L, "config: unknown option '%s'", key);
    }
    lua_pop(L, 1);
  }
  /* Pass 2: commit. */
  if (headers_idx) {
    header_t *h = NULL;
    lua_getfield(L, 2, "headers");
    if (hcount > 0) {
      h = (header_t *)malloc(hbytes);
      if (h == NULL) {
        return luaL_error(L, "config: out of memory");
      }
      headers_fill(L, lua_gettop(L), h, hcount);
    }
    free(c->headers);
    c->headers = h;
    /* The library reads extraHeaders only inside ws_connect_with. */
    c->ws.extraHeaders = NULL;
  }
  c->opts = o;
  return 0;
}

static int ws_client_gc(lua_State *L) {
  ws_client *c = (ws_client *)luaL_checkudata(L, 1, WS_CLIENT_MT);
  if (c->live) {
    c->live = 0;
    ws_release(&c->ws); /* no callback; nothing touches c->ws afterwards */
  }
  if (c->cb_connection != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, c->cb_connection);
  }
  if (c->cb_receive != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, c->cb_receive);
  }
  if (c->cb_close != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, c->cb_close);
  }
  if (c->self_ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, c->self_ref);
  }
  c->cb_connection = c->cb_receive = c->cb_close = c->self_ref = LUA_NOREF;
  c->ws.extraHeaders = NULL;
  free(c->headers);
  c->headers = NULL;
  return 0;
}

/* ---- registration ---- */

LROT_BEGIN(websocket_client, NULL, LROT_MASK_GC_INDEX)
  LROT_FUNCENTRY(__gc, ws_client_gc)
  LROT_TABENTRY(__index, websocket_client)
  LROT_FUNCENTRY(on, ws_client_on)
  LROT_FUNCENTRY(config, ws_client_config)
  LROT_FUNCENTRY(connect, ws_client_connect)
  LROT_FUNCENTRY(send, ws_client_send)
  LROT_FUNCENTRY(close, ws_client_close)
LROT_END(websocket_client, NULL, LROT_MASK_GC_INDEX)

LROT_BEGIN(websocket, NULL, 0)
  LROT_FUNCENTRY(createClient, ws_create_client)
LROT_END(websocket, NULL, 0)

int luaopen_websocket(lua_State *L) {
  luaL_rometatable(L, WS_CLIENT_MT, LROT_TABLEREF(websocket_client));
  return 0;
}

NODEMCU_MODULE(WEBSOCKET, "websocket", websocket, luaopen_websocket);
