/* Host stand-in for NodeMCU's module.h + read-only-table macros (LROT_*),
 * for compiling NodeMCU C modules unchanged against stock Lua 5.1 or 5.3.
 *
 * On the device a ROTable lives in flash; here it is a static C array that
 * the runner turns into an ordinary Lua table when the module is registered
 * (or when luaL_rometatable is called). NODEMCU_MODULE registers the module
 * with the runner through a constructor function. */
#ifndef FAKE_NODEMCU_MODULE_H
#define FAKE_NODEMCU_MODULE_H

#include "lua.h"
#include "lauxlib.h"

#define FAKE_RO_NIL 0
#define FAKE_RO_FUNC 1
#define FAKE_RO_NUM 2
#define FAKE_RO_TAB 3
#define FAKE_RO_LUD 4

struct fake_rotable;

typedef struct fake_rotable_entry {
  const char *key;
  int type;
  lua_CFunction func;
  lua_Number num;
  const struct fake_rotable *tab;
  void *ptr;
} ROTable_entry;

typedef struct fake_rotable {
  const char *name;
  const ROTable_entry *entries;
  const struct fake_rotable *meta;
} ROTable;

#define LROT_TABLE(rt) extern const ROTable rt##_ROTable
#define LROT_TABLEREF(rt) (&rt##_ROTable)
#define LROT_ENTRYREF(rt) (rt##_entries)
#define LROT_BEGIN(rt, mt, f)                                                  \
  LROT_TABLE(rt);                                                              \
  static const ROTable_entry rt##_entries[] = {
#define LROT_ENTRIES_IN_SECTION(rt, s) static const ROTable_entry rt##_entries[] = {
#define LROT_FUNCENTRY(n, f) {#n, FAKE_RO_FUNC, (f), 0, NULL, NULL},
#define LROT_NUMENTRY(n, x) {#n, FAKE_RO_NUM, NULL, (lua_Number)(x), NULL, NULL},
#define LROT_INTENTRY(n, x) LROT_NUMENTRY(n, x)
#define LROT_FLOATENTRY(n, x) LROT_NUMENTRY(n, x)
#define LROT_LUDENTRY(n, x) {#n, FAKE_RO_LUD, NULL, 0, NULL, (void *)(x)},
#define LROT_TABENTRY(n, t) {#n, FAKE_RO_TAB, NULL, 0, LROT_TABLEREF(t), NULL},
#define LROT_END(rt, mt, f)                                                    \
  {NULL, FAKE_RO_NIL, NULL, 0, NULL, NULL}                                     \
  }                                                                            \
  ;                                                                            \
  const ROTable rt##_ROTable = {#rt, rt##_entries, (const ROTable *)(mt)};
#define LROT_BREAK(rt)                                                         \
  }                                                                            \
  ;

/* Fast-index flags of NodeMCU's rotables: meaningless on the host. */
#define LROT_MASK_EQ 0x01
#define LROT_MASK_GC 0x02
#define LROT_MASK_INDEX 0x04
#define LROT_MASK_LEN 0x08
#define LROT_MASK_MODE 0x10
#define LROT_MASK_NEWINDEX 0x20
#define LROT_MASK_GC_INDEX (LROT_MASK_GC | LROT_MASK_INDEX)

/* Runner registry of NodeMCU modules. */
void fake_nodemcu_register_module(const char *luaname, const ROTable *map,
                                  lua_CFunction init);

#define MODULE_EXPAND_(x) x
#define MODULE_PASTE_(x, y) x##y
#define MODULE_EXPAND_PASTE_(x, y) MODULE_PASTE_(x, y)

#define NODEMCU_MODULE(cfgname, luaname, map, initfunc)                        \
  __attribute__((constructor)) static void MODULE_PASTE_(fake_register_,      \
                                                         cfgname)(void) {      \
    fake_nodemcu_register_module(luaname, LROT_TABLEREF(map), (initfunc));     \
  }                                                                            \
  extern int MODULE_PASTE_(fake_module_selected_, cfgname)

/* NodeMCU's additions to the Lua C API. */
lua_State *lua_getstate(void); /* the one global state */
/* lua_pcall with a traceback message handler; on error prints the message and
 * the traceback to stdout, leaves the error message on the stack like
 * lua_pcall, and returns the status. */
int luaL_pcallx(lua_State *L, int narg, int nres);
/* Like luaL_newmetatable, but the metatable is built from the ROTable.
 * Returns 1 if it was created, 0 if tname already existed; in both cases the
 * metatable is left on the stack. */
int luaL_rometatable(lua_State *L, const char *tname, const ROTable *p);

#endif
