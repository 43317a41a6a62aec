/*
 * websocket.c - NodeMCU Lua module "websocket" on top of libwebsocket.
 *
 *   ws = websocket.createClient()
 *   ws:on("connection" | "receive" | "close" | "fragment" | "pong", function | nil)
 *   ws:config{ headers = {...}, connect_timeout = s, ping_interval = s,
 *              pong_timeout = s, close_timeout = s, max_message = bytes,
 *              protocols = {"a", "b"}, reconnect = {initial = s, max = s} | false }
 *   ws:connect(url)
 *   ws:send(msg[, opcode])
 *   ws:ping([payload])
 *   ws:close([code[, reason]])
 *   ws:protocol()  -> the server's chosen protocol, or nil
 *
 * Callbacks: connection(ws), receive(ws, msg, opcode),
 * close(ws, status[, code, reason[, http]]) (code/reason only when the server
 * sent a close frame; code 1005 for one without a code; for -17 code and
 * reason nil and http the HTTP status of the refusal), and, when set before
 * ws:connect, fragment(ws, chunk, opcode, fin): data messages then arrive
 * piece by piece (no reassembly, max_message does not apply) and "receive"
 * is not called for them; pong(ws, payload, rtt) for each pong, rtt the
 * milliseconds since our latest ping (ws:ping, ws:send(p, 9), keep-alive)
 * or nil.
 *
 * Reconnection (ws:config{reconnect = ...}, off by default): a connection
 * lost with a non-zero status is made again after a growing, jittered wait;
 * the close callback runs for each lost connection, ws:close() (also from
 * inside it) stops it with one more close callback (status 0), and
 * ws:connect(url) during the wait connects there at once instead.
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
/* Size over speed for this file where the build optimizes for speed (the
 * firmware builds modules with -O2; -Os builds are left alone): nothing
 * here is on a per-byte path, and per message it is one Lua call. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#pragma GCC optimize("Os")
#endif

#include <string.h>
#include <stdlib.h>
#include <stdint.h>
#include <stddef.h>

#include "module.h"
#include "lauxlib.h"
#include "lua.h"
#include "user_interface.h"

#include "websocket/websocketclient.h"

#define WS_CLIENT_MT "websocket.client"

/* Largest timeout accepted by ws:config, in seconds (keeps ms in 32 bits). */
#define WS_MAX_TIMEOUT_S 4000000
/* Longest close reason (a close frame's payload is at most 125 bytes). */
#define WS_MAX_CLOSE_REASON 123

/* Registry references, one array so that creation and collection are loops:
 * the five callbacks in ws:on's event order, then the client itself and the
 * server's protocol. All LUA_NOREF when unset. */
enum { R_CONNECTION, R_RECEIVE, R_CLOSE, R_FRAGMENT, R_PONG, R_SELF, R_PROTO, R_COUNT };

/* The settings of ws:config that go into ws_options at ws:connect (the
 * rest of ws_options is filled there: protocols, onClose, onFragment). */
typedef struct ws_client_cfg {
  uint32_t max_message;
  uint32_t connect_timeout_ms;
  uint32_t ping_interval_ms;
  uint32_t pong_timeout_ms;
  uint32_t close_timeout_ms;
  /* ws:config's reconnect (0: off), then the end of the head below */
  uint32_t reconnect_initial_ms;
  uint32_t reconnect_max_ms;
} ws_client_cfg;

/* The five numbers of ws_client_cfg are the head of ws_options (same
 * fields, same offsets): they are copied between them as one block. */
#define WS_CFG_HEAD offsetof(ws_client_cfg, reconnect_initial_ms)
#define WS_CFG_SAME(f) (offsetof(ws_client_cfg, f) == offsetof(ws_options, f))
typedef char ws_client_cfg_is_the_head_of_ws_options
    [(WS_CFG_SAME(max_message) && WS_CFG_SAME(connect_timeout_ms) &&
      WS_CFG_SAME(ping_interval_ms) && WS_CFG_SAME(pong_timeout_ms) &&
      WS_CFG_SAME(close_timeout_ms) && WS_CFG_HEAD == 20)
         ? 1
         : -1];

typedef struct ws_client {
  ws_info ws;        /* ws.reservedData points back to this struct */
  ws_client_cfg *cfg; /* ws:config's numbers (malloc), NULL: the defaults */
  header_t *headers; /* one malloc block: array + strings, ends with {NULL, NULL} */
  /* R_SELF: set between connect and the close callback: then a connection
   * exists in the library (it also covers state 4 while a close is still in
   * progress, before the close callback); R_PROTO: the server's protocol
   * (string) from the connection on. */
  int ref[R_COUNT];
  char *protocols; /* "a, b" offered (malloc), "" none, NULL default (chat) */
} ws_client;

#define LIVE(c) ((c)->ref[R_SELF] != LUA_NOREF)

static ws_client *check_client(lua_State *L) {
  return (ws_client *)luaL_checkudata(L, 1, WS_CLIENT_MT);
}

static void unref(lua_State *L, int *ref) {
  if (*ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
  }
}

/* Pushes registry entry `ref`, or nil. */
static void push_ref(lua_State *L, int ref) {
  if (ref != LUA_NOREF && ref != LUA_REFNIL) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  } else {
    lua_pushnil(L);
  }
}

/* ---- library callbacks ---- */

/* The client behind `ws` when it has callback `which`: pushes the callback
 * and the client (self reference `self`), and returns the stack base the
 * call restores; -1 (nothing pushed) without a client or callback. */
static int push_callback(lua_State *L, ws_info *ws, int which, int self) {
  ws_client *c = (ws_client *)ws->reservedData;
  int base;
  if (c == NULL || c->ref[which] == LUA_NOREF) {
    return -1;
  }
  base = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref[which]);
  push_ref(L, self < 0 ? c->ref[R_SELF] : self);
  return base;
}

/* Call the function and arguments on top of the stack; errors are reported by
 * luaL_pcallx. The stack is restored to `base` afterwards either way. */
static void call_lua(lua_State *L, int base, int nargs) {
  (void)luaL_pcallx(L, nargs, 0);
  lua_settop(L, base);
}

/* Pushes `len` bytes at `p` as a string ("" for none). */
static void push_bytes(lua_State *L, const char *p, int len) {
  if (len < 0 || p == NULL) {
    p = "";
    len = 0;
  }
  lua_pushlstring(L, p, (size_t)len);
}

static void on_connection(ws_info *ws) {
  ws_client *c = (ws_client *)ws->reservedData;
  lua_State *L = lua_getstate();
  const char *proto;
  int base;
  if (c == NULL) {
    return;
  }
  /* Kept for ws:protocol() until the next connect (the library's copy goes
   * with the connection). */
  proto = ws_protocol(ws);
  if (proto != NULL && c->ref[R_PROTO] == LUA_NOREF) {
    lua_pushstring(L, proto);
    c->ref[R_PROTO] = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  base = push_callback(L, ws, R_CONNECTION, -1);
  if (base >= 0) {
    call_lua(L, base, 1);
  }
}

static void on_receive(ws_info *ws, int len, char *message, int opcode) {
  lua_State *L = lua_getstate();
  int base = push_callback(L, ws, R_RECEIVE, -1);
  if (base >= 0) {
    push_bytes(L, message, len);
    lua_pushinteger(L, opcode);
    call_lua(L, base, 3);
  }
}

static void on_fragment(ws_info *ws, const char *chunk, int len, int opcode, int fin) {
  lua_State *L = lua_getstate();
  /* A handler removed after connect: pieces are dropped. */
  int base = push_callback(L, ws, R_FRAGMENT, -1);
  if (base >= 0) {
    push_bytes(L, chunk, len);
    lua_pushinteger(L, opcode);
    lua_pushboolean(L, fin);
    call_lua(L, base, 4);
  }
}

static void on_pong(ws_info *ws, const char *payload, int len, int rtt_us) {
  lua_State *L = lua_getstate();
  int base = push_callback(L, ws, R_PONG, -1);
  if (base >= 0) {
    push_bytes(L, payload, len);
    if (rtt_us >= 0) {
      lua_pushnumber(L, (lua_Number)rtt_us / 1000);
    } else {
      lua_pushnil(L);
    }
    call_lua(L, base, 3);
  }
}

/* The clock of the round-trip times: the SDK's microseconds. */
static uint32_t clock_us(void) {
  return system_get_time();
}

static void on_close(ws_info *ws, int status, int code, const char *reason, int reason_len) {
  ws_client *c = (ws_client *)ws->reservedData;
  lua_State *L = lua_getstate();
  int ref, base, pending;
  int http = ws_http_status(ws); /* only valid during this call */
  if (c == NULL) {
    return;
  }
  /* The connection is over; the callback may connect again, which takes a
   * new self reference. The old one is dropped after the callback, unless
   * a reconnection is pending (state 5): the library still holds the
   * client then, and the reference stays until the reconnection ends (in
   * a later close callback, maybe one nested in this call by ws:close). */
  pending = ws->connectionState == WS_STATE_RECONNECT_WAIT;
  ref = c->ref[R_SELF];
  if (!pending) {
    c->ref[R_SELF] = LUA_NOREF;
  }
  base = push_callback(L, ws, R_CLOSE, ref);
  if (base >= 0) {
    lua_pushinteger(L, status);
    if (code >= 0) { /* the server sent a close frame */
      lua_pushinteger(L, code);
      push_bytes(L, reason, reason_len);
      call_lua(L, base, 4);
    } else if (http > 0) { /* -17: the server's HTTP status, 5th argument */
      lua_pushnil(L);
      lua_pushnil(L);
      lua_pushinteger(L, http);
      call_lua(L, base, 5);
    } else {
      call_lua(L, base, 2);
    }
  }
  if (!pending) {
    unref(L, &ref);
  }
}

/* Only used if a connection is ever started without our options. */
static void on_failure(ws_info *ws, int status) {
  on_close(ws, status, -1, NULL, 0);
}

/* ---- module functions ---- */

static int ws_create_client(lua_State *L) {
  ws_client *c = (ws_client *)lua_newuserdata(L, sizeof(ws_client));
  int i;
  /* State 0, no headers or protocols, and no block for the numbers: an idle
   * client with the defaults holds none (cfg NULL). */
  memset(c, 0, sizeof(*c));
  c->ws.reservedData = c;
  c->ws.onConnection = on_connection;
  c->ws.onReceive = on_receive;
  c->ws.onFailure = on_failure;
  for (i = 0; i < R_COUNT; i++) {
    c->ref[i] = LUA_NOREF;
  }
  luaL_getmetatable(L, WS_CLIENT_MT);
  lua_setmetatable(L, -2);
  return 1;
}

static int ws_client_on(lua_State *L) {
  static const char *const events[] = {"connection", "receive", "close", "fragment", "pong", NULL};
  ws_client *c = check_client(L);
  int which = luaL_checkoption(L, 2, NULL, events);
  int set = !lua_isnoneornil(L, 3);

  if (set && !lua_isfunction(L, 3)) {
    return luaL_argerror(L, 3, "function or nil expected");
  }
  unref(L, &c->ref[which]);
  if (set) {
    lua_pushvalue(L, 3);
    c->ref[which] = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return 0;
}

static int ws_client_connect(lua_State *L) {
  ws_client *c = check_client(L);
  const char *url = luaL_checkstring(L, 2);
  ws_options o;
  /* A reconnection waiting: this connection replaces it (the library drops
   * the wait) and keeps its self reference. */
  int waiting = c->ws.connectionState == WS_STATE_RECONNECT_WAIT && LIVE(c);

  /* LIVE also covers state 4 while a close is still in progress: the old
   * connection's close callback has not run yet. */
  if (!waiting && ((c->ws.connectionState != 0 && c->ws.connectionState != 4) || LIVE(c))) {
    return luaL_error(L, "Websocket already connecting or connected.");
  }
  if (!waiting) {
    lua_pushvalue(L, 1);
    c->ref[R_SELF] = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  c->ws.reservedData = c;
  c->ws.extraHeaders = c->headers; /* read only during this call */
  unref(L, &c->ref[R_PROTO]);
  ws_options_init(&o);
  if (c->cfg != NULL) {
    memcpy(&o, c->cfg, WS_CFG_HEAD);
    o.reconnect_initial_ms = c->cfg->reconnect_initial_ms;
    o.reconnect_max_ms = c->cfg->reconnect_max_ms;
  }
  o.onClose = on_close;
  /* Pong events, like streaming, are chosen per connection: only a client
   * with a pong handler at connect() pays for the library's pong state. */
  if (c->ref[R_PONG] != LUA_NOREF) {
    o.onPong = on_pong;
    o.clock_us = clock_us;
  }
  o.protocols = c->protocols; /* read only during this call */
  /* Streaming is chosen per connection: a fragment handler set now. */
  o.onFragment = c->ref[R_FRAGMENT] != LUA_NOREF ? on_fragment : NULL;
  /* May call on_close at once (bad URL); the userdata stays on our stack. */
  ws_connect_with(&c->ws, url, &o);
  return 0;
}

static int not_connected(lua_State *L) {
  return luaL_error(L, "Websocket isn't connected.");
}

static int ws_client_send(lua_State *L) {
  ws_client *c = check_client(L);
  size_t len = 0;
  const char *msg;
  lua_Integer opcode;
  int rc;

  if (c->ws.connectionState != 3) {
    return not_connected(L);
  }
  msg = luaL_checklstring(L, 2, &len);
  opcode = luaL_optinteger(L, 3, 1);
  if (opcode != 1 && opcode != 2 && opcode != 9 && opcode != 10) {
    return luaL_argerror(L, 3, "opcode must be 1, 2, 9 or 10");
  }
  if (opcode > 2 && len > 125) {
    return luaL_argerror(L, 2, "control frame payload over 125 bytes");
  }
  rc = ws_send_long(&c->ws, (int)opcode, msg, len);
  if (rc == WS_ERR_NOT_CONNECTED) {
    return not_connected(L);
  }
  if (rc == WS_ERR_BAD_OPCODE) {
    return luaL_argerror(L, 3, "opcode rejected");
  }
  /* WS_ERR_NO_MEMORY_SEND: the connection fails with -16 through "close". */
  return 0;
}

/* ws:ping([payload]) */
static int ws_client_ping(lua_State *L) {
  ws_client *c = check_client(L);
  size_t len = 0;
  const char *p = luaL_optlstring(L, 2, "", &len);
  if (len > 125) {
    return luaL_argerror(L, 2, "ping payload over 125 bytes");
  }
  if (c->ws.connectionState != 3 || ws_ping(&c->ws, p, len) == WS_ERR_NOT_CONNECTED) {
    return luaL_error(L, "Websocket isn't connected.");
  }
  return 0;
}

/* ws:close([code[, reason]]) */
static int ws_client_close(lua_State *L) {
  ws_client *c = check_client(L);
  lua_Integer code;
  const char *reason;
  size_t len = 0;
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3)) {
    ws_close(&c->ws);
    return 0;
  }
  code = luaL_optinteger(L, 2, 1000);
  if (!((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
        (code >= 3000 && code <= 4999))) {
    return luaL_argerror(L, 2, "close code must be 1000-1003, 1007-1014 or 3000-4999");
  }
  reason = luaL_optlstring(L, 3, "", &len);
  if (len > WS_MAX_CLOSE_REASON) {
    return luaL_argerror(L, 3, "close reason longer than 123 bytes");
  }
  ws_close_with(&c->ws, (int)code, reason, len);
  return 0;
}

/* ws:protocol() -> the protocol the server chose, or nil */
static int ws_client_protocol(lua_State *L) {
  push_ref(L, check_client(L)->ref[R_PROTO]);
  return 1;
}

/* The options of ws:config: the tables, then the number options in the
 * order of their fields (OPT_MAX_MESSAGE onwards). */
static const char *const options[] = {"headers",       "protocols",       "reconnect",
                                      "max_message",   "connect_timeout", "ping_interval",
                                      "pong_timeout",  "close_timeout",   NULL};
enum {
  OPT_HEADERS,
  OPT_PROTOCOLS,
  OPT_RECONNECT,
  OPT_MAX_MESSAGE,
  OPT_CONNECT,
  OPT_PING,
  OPT_PONG,
  OPT_CLOSE
};
static const uint8_t option_field[] = {
    offsetof(ws_client_cfg, max_message),      offsetof(ws_client_cfg, connect_timeout_ms),
    offsetof(ws_client_cfg, ping_interval_ms), offsetof(ws_client_cfg, pong_timeout_ms),
    offsetof(ws_client_cfg, close_timeout_ms)};

/* A number option at the top of the stack: max_message in bytes (1 ..
 * 2^32 - 1), the timeouts in seconds, possibly fractional (0 .. 4e6, 0 only
 * for ping_interval and pong_timeout), stored in ms. */
static void number_option(lua_State *L, ws_client_cfg *o, int which, const char *key) {
  int bytes = which == OPT_MAX_MESSAGE;
  lua_Number s;
  if (lua_type(L, -1) != LUA_TNUMBER) {
    luaL_error(L, "config: %s must be a number of %s", key, bytes ? "bytes" : "seconds");
    return;
  }
  s = lua_tonumber(L, -1);
  if (!(s >= bytes) || s > (bytes ? 4294967295.0 : WS_MAX_TIMEOUT_S) ||
      ((which == OPT_CONNECT || which == OPT_CLOSE) && s <= 0)) {
    luaL_error(L, "config: %s out of range", key);
    return;
  }
  *(uint32_t *)((char *)o + option_field[which - OPT_MAX_MESSAGE]) =
      bytes ? (uint32_t)s : (uint32_t)(s * 1000 + 0.5);
}

/* Field `key` (seconds, > 0 and <= WS_MAX_TIMEOUT_S) of the reconnect table
 * at the top of the stack, in ms; `dflt` when absent (0: required). */
static uint32_t reconnect_seconds(lua_State *L, const char *key, uint32_t dflt) {
  lua_Number s;
  uint32_t ms = dflt;
  lua_getfield(L, -1, key);
  s = lua_tonumber(L, -1);
  if (lua_isnil(L, -1) && dflt > 0) {
    /* absent: the default */
  } else if (lua_type(L, -1) != LUA_TNUMBER || !(s > 0) || s > WS_MAX_TIMEOUT_S) {
    luaL_error(L, "config: reconnect.%s must be a number of seconds > 0", key);
    return 0;
  } else {
    ms = (uint32_t)(s * 1000 + 0.5);
    ms += ms == 0; /* a fraction of a millisecond: 1 ms */
  }
  lua_pop(L, 1);
  return ms;
}

/* reconnect = {initial = s[, max = s]} (max defaults to 60 s) or false. */
static void reconnect_option(lua_State *L, ws_client_cfg *o) {
  if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    o->reconnect_initial_ms = 0;
    return;
  }
  if (lua_type(L, -1) != LUA_TTABLE) {
    luaL_error(L, "config: reconnect must be a table {initial = s, max = s} or false");
    return;
  }
  o->reconnect_initial_ms = reconnect_seconds(L, "initial", 0);
  o->reconnect_max_ms = reconnect_seconds(L, "max", WS_DEFAULT_RECONNECT_MAX_MS);
}

/* Whether `n` bytes at `s` are a header name (is_name: not empty, visible
 * ASCII but ':') or value (no CR, LF or NUL). */
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

/* The headers table at `idx`, in one pass per call: with h == NULL validates
 * it (errors raised) and returns the bytes one block needs (*count: the
 * number of headers); else fills the block h sized so, which cannot fail. */
static size_t headers_walk(lua_State *L, int idx, header_t *h, size_t *count) {
  size_t bytes = 0, n = 0;
  char *p = h != NULL ? (char *)(h + *count + 1) : NULL;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    size_t kl, vl;
    const char *k, *v;
    if (h == NULL && (lua_type(L, -2) != LUA_TSTRING ||
                      (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))) {
      luaL_error(L, "config: headers must map names to strings");
      return 0;
    }
    k = lua_tolstring(L, -2, &kl);
    lua_pushvalue(L, -1); /* convert a copy: never touch the lua_next key/value */
    v = lua_tolstring(L, -1, &vl);
    if (h == NULL) {
      if (!header_text_ok(k, kl, 1) || !header_text_ok(v, vl, 0)) {
        luaL_error(L, "config: invalid header '%s'", k);
        return 0;
      }
    } else {
      if (n >= *count) {
        lua_settop(L, idx); /* drop the pending lua_next key */
        break;
      }
      h[n].key = p;
      memcpy(p, k, kl + 1);
      p += kl + 1;
      h[n].value = p;
      memcpy(p, v, vl + 1);
      p += vl + 1;
    }
    lua_pop(L, 2);
    bytes += kl + 1 + vl + 1;
    n++;
  }
  if (h != NULL) {
    h[n].key = NULL;
    h[n].value = NULL;
  }
  *count = n;
  return bytes + (n + 1) * sizeof(header_t);
}

/* The protocols list at `idx`: with out == NULL validates it (errors raised)
 * and returns the bytes "a, b" needs (NUL included); else writes it to out,
 * a block sized so. */
static size_t protocols_walk(lua_State *L, int idx, char *out) {
  size_t bytes = 1;
  int i;
  if (out != NULL) {
    *out = '\0';
  }
  for (i = 1;; i++) {
    size_t n, j;
    const char *p;
    lua_rawgeti(L, idx, i);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (lua_type(L, -1) != LUA_TSTRING) {
      luaL_error(L, "config: protocols must be a list of strings");
      return 0;
    }
    p = lua_tolstring(L, -1, &n);
    /* An RFC 7230 token (what a protocol name must be). */
    for (j = 0; j < n; j++) {
      unsigned char ch = (unsigned char)p[j];
      if (ch <= ' ' || ch >= 127 || strchr("\"(),/:;<=>?@[\\]{}", ch) != NULL) {
        break;
      }
    }
    if (n == 0 || j < n) {
      luaL_error(L, "config: invalid protocol name '%s'", p);
      return 0;
    }
    if (out != NULL) {
      if (i > 1) {
        memcpy(out, ", ", 2);
        out += 2;
      }
      memcpy(out, p, n + 1);
      out += n;
    }
    bytes += n + (i > 1 ? 2 : 0);
    lua_pop(L, 1);
  }
  return bytes;
}

static int out_of_memory(lua_State *L) {
  return luaL_error(L, "config: out of memory");
}

static int ws_client_config(lua_State *L) {
  ws_client *c = check_client(L);
  ws_client_cfg o, *fresh = NULL;
  int headers_set = 0, protocols_set = 0, numbers_set = 0;
  size_t hcount = 0, hbytes = 0, pbytes = 0;

  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  if (c->cfg != NULL) {
    o = *c->cfg;
  } else {
    ws_options d;
    ws_options_init(&d);
    memcpy(&o, &d, WS_CFG_HEAD);
    o.reconnect_initial_ms = d.reconnect_initial_ms;
    o.reconnect_max_ms = d.reconnect_max_ms;
  }
  /* Pass 1: validate everything before changing anything. */
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    const char *key;
    int which;
    if (lua_type(L, -2) != LUA_TSTRING) {
      return luaL_error(L, "config: unknown option (non-string key)");
    }
    key = lua_tostring(L, -2);
    for (which = 0; options[which] != NULL && strcmp(key, options[which]) != 0; which++) {
    }
    if (which <= OPT_PROTOCOLS) {
      if (lua_type(L, -1) != LUA_TTABLE) {
        return luaL_error(L, which == OPT_HEADERS ? "config: headers must be a table"
                                                  : "config: protocols must be a list of strings");
      }
      if (which == OPT_HEADERS) {
        hbytes = headers_walk(L, lua_gettop(L), NULL, &hcount);
        headers_set = 1;
      } else {
        pbytes = protocols_walk(L, lua_gettop(L), NULL);
        protocols_set = 1;
      }
    } else if (which == OPT_RECONNECT) {
      reconnect_option(L, &o);
      numbers_set = 1;
    } else if (options[which] != NULL) {
      number_option(L, &o, which, key);
      numbers_set = 1;
    } else {
      return luaL_error(L, "config: unknown option '%s'", key);
    }
    lua_pop(L, 1);
  }
  /* Pass 2: commit. The numbers' block first (a later failed allocation
   * frees it again: nothing changed). */
  if (numbers_set && c->cfg == NULL) {
    fresh = (ws_client_cfg *)malloc(sizeof(*fresh));
    if (fresh == NULL) {
      return out_of_memory(L);
    }
  }
  if (protocols_set) {
    char *p = (char *)malloc(pbytes);
    if (p == NULL) {
      free(fresh);
      return out_of_memory(L);
    }
    lua_getfield(L, 2, "protocols");
    protocols_walk(L, lua_gettop(L), p);
    lua_pop(L, 1);
    free(c->protocols);
    c->protocols = p; /* offered by ws:connect */
  }
  if (headers_set) {
    header_t *h = NULL;
    lua_getfield(L, 2, "headers");
    if (hcount > 0) {
      h = (header_t *)malloc(hbytes);
      if (h == NULL) {
        free(fresh);
        return out_of_memory(L);
      }
      headers_walk(L, lua_gettop(L), h, &hcount);
    }
    free(c->headers);
    c->headers = h;
    /* The library reads extraHeaders only inside ws_connect_with. */
    c->ws.extraHeaders = NULL;
  }
  if (fresh != NULL) {
    c->cfg = fresh;
  }
  if (c->cfg != NULL) {
    *c->cfg = o;
  }
  return 0;
}

static int ws_client_gc(lua_State *L) {
  ws_client *c = check_client(L);
  int i;
  if (LIVE(c)) {
    ws_release(&c->ws); /* no callback; nothing touches c->ws afterwards */
  }
  for (i = 0; i < R_COUNT; i++) {
    unref(L, &c->ref[i]);
  }
  c->ws.extraHeaders = NULL;
  free(c->cfg);
  c->cfg = NULL;
  free(c->headers);
  c->headers = NULL;
  free(c->protocols);
  c->protocols = NULL;
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
  LROT_FUNCENTRY(ping, ws_client_ping)
  LROT_FUNCENTRY(close, ws_client_close)
  LROT_FUNCENTRY(protocol, ws_client_protocol)
LROT_END(websocket_client, NULL, LROT_MASK_GC_INDEX)

LROT_BEGIN(websocket, NULL, 0)
  LROT_FUNCENTRY(createClient, ws_create_client)
LROT_END(websocket, NULL, 0)

int luaopen_websocket(lua_State *L) {
  luaL_rometatable(L, WS_CLIENT_MT, LROT_TABLEREF(websocket_client));
  return 0;
}

NODEMCU_MODULE(WEBSOCKET, "websocket", websocket, luaopen_websocket);
