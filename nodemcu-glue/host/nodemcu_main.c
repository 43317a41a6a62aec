/* nodemcu-lua: runs unchanged NodeMCU Lua scripts on Linux.
 *
 * Stock Lua (5.1 or 5.3, chosen at build time) + the NodeMCU module shim
 * (module.h) + the fake ESP8266 SDK. Registers every NODEMCU_MODULE linked in
 * (websocket) plus minimal `tmr` and `node` modules, runs the script, then the
 * SDK event loop until the script calls os.exit() or nothing is left to wait
 * for (no open espconn, no armed timer, no pending DNS lookup). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "module.h"

#include "espconn.h"
#include "fake_sdk.h"
#include "os_type.h"
#include "osapi.h"
#include "user_interface.h"

#define ROTABLE_CACHE "fake_nodemcu.rotables"
#define TRACEBACK_KEY "fake_nodemcu.traceback"
#define TIMER_MT "tmr.timer"

static lua_State *gL;

lua_State *lua_getstate(void) { return gL; }

/* ------------------------------------------------------------------ */
/* module registry and rotables                                         */

#define MAX_MODULES 32
static struct {
  const char *name;
  const ROTable *map;
  lua_CFunction init;
} modules[MAX_MODULES];
static int n_modules;

void fake_nodemcu_register_module(const char *luaname, const ROTable *map,
                                  lua_CFunction init) {
  if (n_modules == MAX_MODULES) {
    fprintf(stderr, "nodemcu-lua: too many modules\n");
    abort();
  }
  modules[n_modules].name = luaname;
  modules[n_modules].map = map;
  modules[n_modules].init = init;
  n_modules++;
}

/* Pushes the Lua table made from rotable t (one table per rotable, cached, so
 * self references such as __index work). */
static void push_rotable(lua_State *L, const ROTable *t) {
  lua_getfield(L, LUA_REGISTRYINDEX, ROTABLE_CACHE);
  lua_pushlightuserdata(L, (void *)t);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1)) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushlightuserdata(L, (void *)t);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4); /* cache before filling: entries may refer back */
  lua_remove(L, -2);
  for (const ROTable_entry *e = t->entries; e->key != NULL; e++) {
    switch (e->type) {
    case FAKE_RO_FUNC:
      lua_pushcfunction(L, e->func);
      break;
    case FAKE_RO_NUM:
      if ((lua_Number)(lua_Integer)e->num == e->num)
        lua_pushinteger(L, (lua_Integer)e->num);
      else
        lua_pushnumber(L, e->num);
      break;
    case FAKE_RO_TAB:
      push_rotable(L, e->tab);
      break;
    case FAKE_RO_LUD:
      lua_pushlightuserdata(L, e->ptr);
      break;
    default:
      continue;
    }
    lua_setfield(L, -2, e->key);
  }
  if (t->meta != NULL) {
    push_rotable(L, t->meta);
    lua_setmetatable(L, -2);
  }
}

int luaL_rometatable(lua_State *L, const char *tname, const ROTable *p) {
  lua_getfield(L, LUA_REGISTRYINDEX, tname);
  if (!lua_isnil(L, -1))
    return 0;
  lua_pop(L, 1);
  push_rotable(L, p);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, tname);
  return 1;
}

/* ------------------------------------------------------------------ */
/* error reporting                                                      */

static int msg_handler(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING && lua_type(L, 1) != LUA_TNUMBER) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      lua_replace(L, 1);
    else {
      lua_settop(L, 1);
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
      lua_replace(L, 1);
    }
  }
  lua_settop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, TRACEBACK_KEY);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return 1;
  }
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 2);
  if (lua_pcall(L, 2, 1, 0) != 0)
    lua_settop(L, 1);
  return 1;
}

static int pcall_traceback(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msg_handler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

int luaL_pcallx(lua_State *L, int narg, int nres) {
  int status = pcall_traceback(L, narg, nres);
  if (status != 0) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stdout, "%s\n", msg ? msg : "(error without message)");
    fflush(stdout);
  }
  return status;
}

/* ------------------------------------------------------------------ */
/* tmr                                                                  */

#define TMR_SINGLE 0
#define TMR_SEMI 1
#define TMR_AUTO 2

typedef struct {
  os_timer_t t;
  int cb_ref;
  int self_ref;
  uint32_t interval;
  int mode;
  int registered;
  int running;
} ltimer_t;

static ltimer_t *check_timer(lua_State *L) {
  return (ltimer_t *)luaL_checkudata(L, 1, TIMER_MT);
}

static void timer_anchor(lua_State *L, ltimer_t *tm, int idx) {
  if (tm->self_ref == LUA_NOREF) {
    lua_pushvalue(L, idx);
    tm->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
}

static void timer_unanchor(lua_State *L, ltimer_t *tm) {
  if (tm->self_ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, tm->self_ref);
    tm->self_ref = LUA_NOREF;
  }
}

static void timer_fire(void *arg) {
  ltimer_t *tm = arg;
  lua_State *L = gL;
  if (!tm->running || tm->self_ref == LUA_NOREF || tm->cb_ref == LUA_NOREF)
    return;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, tm->cb_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, tm->self_ref);
  if (tm->mode != TMR_AUTO) {
    tm->running = 0;
    timer_unanchor(L, tm);
  }
  if (tm->mode == TMR_SINGLE) {
    tm->registered = 0;
    luaL_unref(L, LUA_REGISTRYINDEX, tm->cb_ref);
    tm->cb_ref = LUA_NOREF;
  }
  luaL_pcallx(L, 1, 0);
  lua_settop(L, top);
}

static int tmr_create(lua_State *L) {
  ltimer_t *tm = (ltimer_t *)lua_newuserdata(L, sizeof(ltimer_t));
  memset(tm, 0, sizeof *tm);
  tm->cb_ref = LUA_NOREF;
  tm->self_ref = LUA_NOREF;
  os_timer_setfn(&tm->t, timer_fire, tm);
  luaL_getmetatable(L, TIMER_MT);
  lua_setmetatable(L, -2);
  return 1;
}

static uint32_t check_interval(lua_State *L, int idx) {
  lua_Number ms = luaL_checknumber(L, idx);
  luaL_argcheck(L, ms >= 1 && ms <= 6870947, idx, "invalid interval");
  return (uint32_t)ms;
}

static void timer_do_register(lua_State *L, ltimer_t *tm) {
  uint32_t interval = check_interval(L, 2);
  int mode = (int)luaL_checkinteger(L, 3);
  luaL_argcheck(L, mode == TMR_SINGLE || mode == TMR_SEMI || mode == TMR_AUTO, 3,
                "invalid mode");
  luaL_checktype(L, 4, LUA_TFUNCTION);
  if (tm->running) {
    os_timer_disarm(&tm->t);
    tm->running = 0;
    timer_unanchor(L, tm);
  }
  if (tm->cb_ref != LUA_NOREF)
    luaL_unref(L, LUA_REGISTRYINDEX, tm->cb_ref);
  lua_pushvalue(L, 4);
  tm->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  tm->interval = interval;
  tm->mode = mode;
  tm->registered = 1;
}

static int timer_do_start(lua_State *L, ltimer_t *tm, int restart) {
  if (!tm->registered)
    return 0;
  if (tm->running && !restart)
    return 0;
  os_timer_arm(&tm->t, tm->interval, tm->mode == TMR_AUTO);
  tm->running = 1;
  timer_anchor(L, tm, 1);
  return 1;
}

static int tmr_register(lua_State *L) {
  timer_do_register(L, check_timer(L));
  return 0;
}

static int tmr_alarm(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  timer_do_register(L, tm);
  lua_pushboolean(L, timer_do_start(L, tm, 0));
  return 1;
}

static int tmr_start(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  lua_pushboolean(L, timer_do_start(L, tm, lua_toboolean(L, 2)));
  return 1;
}

static int tmr_stop(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  int was = tm->running;
  if (was) {
    os_timer_disarm(&tm->t);
    tm->running = 0;
    timer_unanchor(L, tm);
  }
  lua_pushboolean(L, was);
  return 1;
}

static int tmr_unregister(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  os_timer_disarm(&tm->t);
  tm->running = 0;
  timer_unanchor(L, tm);
  if (tm->cb_ref != LUA_NOREF)
    luaL_unref(L, LUA_REGISTRYINDEX, tm->cb_ref);
  tm->cb_ref = LUA_NOREF;
  tm->registered = 0;
  return 0;
}

static int tmr_interval(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  tm->interval = check_interval(L, 2);
  if (tm->running)
    os_timer_arm(&tm->t, tm->interval, tm->mode == TMR_AUTO);
  return 0;
}

static int tmr_state(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  if (!tm->registered)
    return 0;
  lua_pushboolean(L, tm->running);
  lua_pushinteger(L, tm->mode);
  return 2;
}

static int tmr_gc(lua_State *L) {
  ltimer_t *tm = check_timer(L);
  os_timer_disarm(&tm->t);
  tm->running = 0;
  if (tm->cb_ref != LUA_NOREF)
    luaL_unref(L, LUA_REGISTRYINDEX, tm->cb_ref);
  tm->cb_ref = LUA_NOREF;
  return 0;
}

static int tmr_now(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)system_get_time());
  return 1;
}

static int tmr_time(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)(fake_sdk_now_ms() / 1000u));
  return 1;
}

static int tmr_delay(lua_State *L) {
  lua_Number us = luaL_checknumber(L, 1);
  if (us > 0)
    os_delay_us((uint32_t)us);
  return 0;
}

static int tmr_wdclr(lua_State *L) {
  (void)L;
  return 0;
}

static void set_funcs(lua_State *L, const luaL_Reg *r) {
  for (; r->name != NULL; r++) {
    lua_pushcfunction(L, r->func);
    lua_setfield(L, -2, r->name);
  }
}

static void open_tmr(lua_State *L) {
  static const luaL_Reg methods[] = {{"alarm", tmr_alarm},
                                     {"register", tmr_register},
                                     {"start", tmr_start},
                                     {"stop", tmr_stop},
                                     {"unregister", tmr_unregister},
                                     {"interval", tmr_interval},
                                     {"state", tmr_state},
                                     {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"create", tmr_create}, {"now", tmr_now},
                                   {"time", tmr_time},     {"delay", tmr_delay},
                                   {"wdclr", tmr_wdclr},   {NULL, NULL}};
  luaL_newmetatable(L, TIMER_MT);
  lua_newtable(L);
  set_funcs(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, tmr_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);
  set_funcs(L, funcs);
  lua_pushinteger(L, TMR_SINGLE);
  lua_setfield(L, -2, "ALARM_SINGLE");
  lua_pushinteger(L, TMR_SEMI);
  lua_setfield(L, -2, "ALARM_SEMI");
  lua_pushinteger(L, TMR_AUTO);
  lua_setfield(L, -2, "ALARM_AUTO");
  lua_setglobal(L, "tmr");
}

/* ------------------------------------------------------------------ */
/* node                                                                 */

static int node_heap(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)system_get_free_heap_size());
  return 1;
}

/* host only */
static int node_heap_peak(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)fake_sdk_heap_peak());
  return 1;
}

/* host only */
static int node_heap_reset_peak(lua_State *L) {
  fake_sdk_heap_reset_peak();
  lua_pushinteger(L, (lua_Integer)fake_sdk_heap_live());
  return 1;
}

/* host only */
static int node_heap_live(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)fake_sdk_heap_live());
  return 1;
}

/* host only: live, peak, refused, last_refused = node.heap_device()
 * The device class of fake/heap.c: what the module, the library, the port and
 * espconn have allocated (not the Lua interpreter); the peak since the last
 * node.heap_reset_peak(); how many allocations the limit refused, and the
 * size asked for by the latest refused one. */
static int node_heap_device(lua_State *L) {
  size_t last = 0;
  unsigned long refused = fake_sdk_heap_refused(&last);
  lua_pushinteger(L, (lua_Integer)fake_sdk_heap_device_live());
  lua_pushinteger(L, (lua_Integer)fake_sdk_heap_device_peak());
  lua_pushinteger(L, (lua_Integer)refused);
  lua_pushinteger(L, (lua_Integer)last);
  return 4;
}

/* host only: node.heap_limit([bytes]) -> the limit before the call (0 = none).
 * With an argument, sets the device heap limit (FAKE_SDK_HEAP_LIMIT; 0 = none). */
static int node_heap_limit(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_pushinteger(L, (lua_Integer)fake_sdk_heap_limit());
    return 1;
  }
  lua_Number n = luaL_checknumber(L, 1);
  luaL_argcheck(L, n >= 0 && n <= 1099511627776.0, 1, "limit out of range");
  lua_pushinteger(L, (lua_Integer)fake_sdk_heap_set_limit((size_t)n));
  return 1;
}

static int node_uptime(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)(fake_sdk_now_ms() * 1000u));
  return 1;
}

static int node_restart(lua_State *L) {
  (void)L;
  system_restart();
  return 0;
}

static void open_node(lua_State *L) {
  static const luaL_Reg funcs[] = {{"heap", node_heap},
                                   {"heap_peak", node_heap_peak},
                                   {"heap_reset_peak", node_heap_reset_peak},
                                   {"heap_live", node_heap_live},
                                   {"heap_device", node_heap_device},
                                   {"heap_limit", node_heap_limit},
                                   {"uptime", node_uptime},
                                   {"restart", node_restart},
                                   {NULL, NULL}};
  lua_newtable(L);
  set_funcs(L, funcs);
  lua_setglobal(L, "node");
}

/* ------------------------------------------------------------------ */
/* tls (subset): tls.cert.verify as in NodeMCU's tls module, over the fake
 * SDK's espconn_secure_ca_enable/_disable, fake_sdk_set_ca_pem (the host
 * stand-in for writing the CA flash sector) and fake_sdk_set_ca_source (the
 * function form). */

#define TLS_LAST_PEM "fake_nodemcu.tls_last_pem"
#define TLS_CA_SECTOR 1u /* any sector number: the fake SDK only records it */
#define TLS_SECTOR_SIZE 4096u
#define TLS_SECTOR_HEADER 34u /* name (32) + length (2) ahead of the DER data */

static int tls_verify_ref = LUA_NOREF; /* tls.cert.verify(function) */

/* Asked by the fake SDK at each TLS handshake start: fn(index) gives the
 * index-th CA certificate (PEM), nil or false when there are no more. */
static int tls_ca_source(void *arg, int index, const char **pem, size_t *len) {
  (void)arg;
  lua_State *L = gL;
  if (L == NULL || tls_verify_ref == LUA_NOREF)
    return -1;
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, tls_verify_ref);
  lua_pushinteger(L, index);
  if (luaL_pcallx(L, 1, 1) != 0) {
    lua_settop(L, top);
    return -1;
  }
  int r;
  if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1))) {
    r = 0;
  } else if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    lua_pushvalue(L, -1); /* keep the string alive until the next call */
    lua_setfield(L, LUA_REGISTRYINDEX, TLS_LAST_PEM);
    *pem = lua_tolstring(L, -1, len);
    r = 1;
  } else {
    r = -1;
  }
  lua_settop(L, top);
  return r;
}

/* Checks the first PEM block of s the way NodeMCU does before writing it to
 * flash: a CERTIFICATE block with valid base64 that fits the sector. Returns
 * an error message, or NULL with the block's extent in *start and *n. */
static const char *tls_pem_block(const char *s, size_t len, const char **start, size_t *n) {
  static const char begin[] = "-----BEGIN ", end[] = "-----END ", type[] = "CERTIFICATE";
  const char *lim = s + len, *p = NULL;
  for (const char *q = s; q + sizeof begin - 1 <= lim; q++)
    if (memcmp(q, begin, sizeof begin - 1) == 0) {
      p = q;
      break;
    }
  if (p == NULL)
    return "No PEM header";
  *start = p;
  p += sizeof begin - 1;
  if ((size_t)(lim - p) < sizeof type - 1 || memcmp(p, type, sizeof type - 1) != 0)
    return "Wrong PEM type";
  while (p < lim && *p != '\n')
    p++;
  if (p == lim)
    return "Incorrect PEM format";
  size_t chars = 0, pads = 0;
  for (; p < lim && *p != '-'; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v')
      continue;
    if (c == '=') {
      pads++;
      continue;
    }
    if (pads > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '+' || c == '/'))
      return "Invalid character in PEM";
    chars++;
  }
  size_t rest = chars % 4;
  int padded_ok = rest == 0 ? pads == 0 : (rest >= 2 && pads == 4 - rest);
  size_t der = chars / 4 * 3 + (rest ? rest - 1 : 0);
  if (!padded_ok || der == 0 || der > TLS_SECTOR_SIZE - TLS_SECTOR_HEADER ||
      (size_t)(lim - p) < sizeof end - 1 + sizeof type - 1 ||
      memcmp(p, end, sizeof end - 1) != 0 ||
      memcmp(p + sizeof end - 1, type, sizeof type - 1) != 0)
    return "Invalid PEM format data";
  p += sizeof end - 1 + sizeof type - 1;
  for (int dashes = 0; dashes < 5 && p < lim && *p == '-'; dashes++)
    p++;
  *n = (size_t)(p - *start);
  return NULL;
}

/* Lua: tls.cert.verify(function) -- certificates asked for at each handshake
 *      tls.cert.verify(pemdata)  -- store the CA in "flash" and enable
 *      tls.cert.verify(true|false) -- enable (with the stored CA) / disable
 *      tls.cert.verify(nil)      -- disable, drop the function */
static int tls_cert_verify(lua_State *L) {
  if (tls_verify_ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, tls_verify_ref);
    tls_verify_ref = LUA_NOREF;
    fake_sdk_set_ca_source(NULL, NULL);
  }
  if (lua_type(L, 1) == LUA_TFUNCTION) {
    lua_pushvalue(L, 1);
    tls_verify_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    fake_sdk_set_ca_source(tls_ca_source, NULL);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TNIL)
    printf("Warning: tls.cert.verify(boolean|PEM) is NodeMCU's deprecated interface; "
           "a function is the current one\n");
  int enable;
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len, n = 0;
    const char *s = lua_tolstring(L, 1, &len), *start = NULL;
    const char *err = tls_pem_block(s, len, &start, &n);
    if (err != NULL)
      return luaL_error(L, "%s", err);
    lua_pushlstring(L, start, n);
    lua_pushliteral(L, "\n");
    lua_concat(L, 2);
    const char *block = lua_tolstring(L, -1, &n);
    if (fake_sdk_set_ca_pem(block, n) != 0)
      return luaL_error(L, "Failed to write sector");
    lua_pop(L, 1);
    enable = 1;
  } else {
    enable = lua_toboolean(L, 1);
  }
  int rc;
  if (enable) {
    if (fake_sdk_get_ca_pem(NULL) == NULL)
      return luaL_error(L, "no certificates found");
    rc = espconn_secure_ca_enable(ESPCONN_CLIENT, TLS_CA_SECTOR);
  } else {
    rc = espconn_secure_ca_disable(ESPCONN_CLIENT);
  }
  lua_pushboolean(L, rc);
  return 1;
}

static void open_tls(lua_State *L) {
  static const luaL_Reg cert[] = {{"verify", tls_cert_verify}, {NULL, NULL}};
  lua_newtable(L);
  lua_newtable(L);
  set_funcs(L, cert);
  lua_setfield(L, -2, "cert");
  lua_setglobal(L, "tls");
}

/* ------------------------------------------------------------------ */

static void open_modules(lua_State *L) {
  for (int i = 0; i < n_modules; i++) {
    push_rotable(L, modules[i].map);
    lua_setglobal(L, modules[i].name);
    if (modules[i].init != NULL) {
      lua_pushcfunction(L, modules[i].init);
      lua_pushstring(L, modules[i].name);
      if (luaL_pcallx(L, 1, 0) != 0) {
        fprintf(stderr, "nodemcu-lua: init of module %s failed\n", modules[i].name);
        exit(1);
      }
    }
  }
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: nodemcu-lua [--lua51|--lua53] script.lua [args...]\n"
          "  this binary: %s (NodeMCU host runtime on the fake ESP8266 SDK)\n"
          "  modules: websocket (if linked), tmr, node (+ host-only\n"
          "  node.heap_peak(), node.heap_reset_peak(), node.heap_live(),\n"
          "  node.heap_device(), node.heap_limit([bytes])),\n"
          "  tls (tls.cert.verify only)\n"
          "  env: NODEMCU_HEAP (heap budget, default 41943040),\n"
          "       FAKE_SDK_HEAP_LIMIT (device heap limit, not counting Lua; 0 = none),\n"
          "       FAKE_SDK_HEAP_REPORT=1 (device heap figures on stderr at exit), FAKE_SDK_SEGMENT,\n"
          "       FAKE_SDK_SEND_LIMIT, FAKE_SDK_DNS_HOSTS_ONLY=1, FAKE_SDK_TRACE=1,\n"
          "       FAKE_SDK_CA_FILE (CA certificate \"in flash\" at boot)\n",
          LUA_RELEASE);
}

static int panic(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "nodemcu-lua: PANIC: unprotected error in call to Lua API (%s)\n",
          msg ? msg : "?");
  return 0; /* Lua aborts */
}

/* FAKE_SDK_HEAP_REPORT=1: one line on stderr at exit (also after os.exit). */
static void heap_report(void) {
  size_t last = 0;
  unsigned long refused = fake_sdk_heap_refused(&last);
  fprintf(stderr,
          "nodemcu-lua: device heap: peak %zu, live %zu at exit, limit %zu, %lu allocation(s) "
          "refused (last %zu bytes)\n",
          fake_sdk_heap_device_peak(), fake_sdk_heap_device_live(), fake_sdk_heap_limit(), refused,
          last);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int first = 1;
  while (first < argc && strncmp(argv[first], "--", 2) == 0) {
    if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[first], "--lua51") == 0 || strcmp(argv[first], "--lua53") == 0) {
      first++; /* the launcher picks the binary; accepted here for convenience */
      continue;
    }
    if (strcmp(argv[first], "--") == 0) {
      first++;
      break;
    }
    fprintf(stderr, "nodemcu-lua: unknown option %s\n", argv[first]);
    usage(stderr);
    return 2;
  }
  if (first >= argc) {
    usage(stderr);
    return 2;
  }
  const char *script = argv[first];

  {
    const char *rep = getenv("FAKE_SDK_HEAP_REPORT");
    if (rep != NULL && strcmp(rep, "1") == 0)
      atexit(heap_report);
  }
  /* Lua's own memory goes through fake_sdk_lua_alloc: counted in
   * node.heap_live(), outside the device class and its limit. */
  lua_State *L = lua_newstate(fake_sdk_lua_alloc, NULL);
  if (L == NULL) {
    fprintf(stderr, "nodemcu-lua: cannot create the Lua state\n");
    return 1;
  }
  lua_atpanic(L, panic);
  gL = L;
  luaL_openlibs(L);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, ROTABLE_CACHE);
  lua_getglobal(L, "debug");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "traceback");
    lua_setfield(L, LUA_REGISTRYINDEX, TRACEBACK_KEY);
  }
  lua_pop(L, 1);
  open_tmr(L);
  open_node(L);
  open_tls(L);
  open_modules(L);

  lua_newtable(L); /* arg */
  for (int i = first; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - first);
  }
  lua_setglobal(L, "arg");

  int status = luaL_loadfile(L, script);
  if (status == 0) {
    for (int i = first + 1; i < argc; i++)
      lua_pushstring(L, argv[i]);
    status = pcall_traceback(L, argc - first - 1, 0);
  }
  if (status != 0) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "nodemcu-lua: %s\n", msg ? msg : "(error without message)");
    lua_close(L);
    return 1;
  }
  lua_settop(L, 0);
  fake_sdk_run();
  fake_sdk_set_ca_source(NULL, NULL);
  lua_close(L);
  gL = NULL;
  return 0;
}
