/* module.h for the flash measurement of a NodeMCU Lua module (tools/size/
 * feature.sh): compiles the old and the new websocket module for thumbv7em
 * and the LX106 against stock Lua 5.1 headers, with read-only tables laid out
 * the way NodeMCU's Lua 5.1 lays them out in flash: each entry is a key
 * pointer and a TValue-sized value (8-byte value + type tag), each table a
 * small header pointing at its entries; NODEMCU_MODULE puts two entries (the
 * library's init function and its ROTable) into linker sections, which the
 * measurement keeps as roots (--undefined=lua_lib_<CFG> / lua_rotable_<CFG>).
 * The Lua C API and NodeMCU's additions are only declared: they belong to
 * the firmware's Lua core, not to the module. */
#ifndef SIZE_CROSS_MODULE_H
#define SIZE_CROSS_MODULE_H

#include "lua.h"
#include "lauxlib.h"

typedef struct cross_rotable ROTable;
typedef struct {
  const char *key;
  union {
    lua_CFunction f;
    const void *p;
    lua_Number n;
  } value;
  int tt;
} ROTable_entry;
struct cross_rotable {
  const void *next; /* GC header of NodeMCU's ROTable */
  unsigned char tt, marked, flags, lsizenode;
  const ROTable *metatable;
  const ROTable_entry *entry;
};

#define CROSS_RO_NIL 0
#define CROSS_RO_LUD 2
#define CROSS_RO_NUM 3
#define CROSS_RO_TAB 5
#define CROSS_RO_FUNC 6

#define LROT_TABLE(rt) extern const ROTable rt##_ROTable
#define LROT_TABLEREF(rt) (&rt##_ROTable)
#define LROT_ENTRYREF(rt) (rt##_entries)
#define LROT_BEGIN(rt, mt, f)                                                  \
  LROT_TABLE(rt);                                                              \
  static const ROTable_entry rt##_entries[] = {
#define LROT_ENTRIES_IN_SECTION(rt, s) static const ROTable_entry rt##_entries[] = {
#define LROT_FUNCENTRY(n, fn) {#n, {.f = (fn)}, CROSS_RO_FUNC},
#define LROT_NUMENTRY(n, x) {#n, {.n = (lua_Number)(x)}, CROSS_RO_NUM},
#define LROT_INTENTRY(n, x) LROT_NUMENTRY(n, x)
#define LROT_FLOATENTRY(n, x) LROT_NUMENTRY(n, x)
#define LROT_LUDENTRY(n, x) {#n, {.p = (const void *)(x)}, CROSS_RO_LUD},
#define LROT_TABENTRY(n, t) {#n, {.p = LROT_TABLEREF(t)}, CROSS_RO_TAB},
#define LROT_END(rt, mt, f)                                                    \
  {0, {0}, CROSS_RO_NIL}                                                       \
  }                                                                            \
  ;                                                                            \
  const ROTable rt##_ROTable = {0, 5, 0, (unsigned char)~(f),                  \
                                (unsigned char)(sizeof(rt##_entries) / sizeof(ROTable_entry) - 1), \
                                (const ROTable *)(mt), rt##_entries};
#define LROT_BREAK(rt) };

#define LROT_MASK_EQ 0x01
#define LROT_MASK_GC 0x02
#define LROT_MASK_INDEX 0x04
#define LROT_MASK_LEN 0x08
#define LROT_MASK_MODE 0x10
#define LROT_MASK_NEWINDEX 0x20
#define LROT_MASK_GC_INDEX (LROT_MASK_GC | LROT_MASK_INDEX)

#define NODEMCU_MODULE(cfgname, luaname, map, initfunc)                        \
  __attribute__((used, section(".lua_libs"))) const ROTable_entry lua_lib_##cfgname = \
      {luaname, {.f = (initfunc)}, CROSS_RO_FUNC};                             \
  __attribute__((used, section(".lua_rotable"))) const ROTable_entry lua_rotable_##cfgname = \
      {luaname, {.p = LROT_TABLEREF(map)}, CROSS_RO_TAB}

lua_State *lua_getstate(void);
int luaL_pcallx(lua_State *L, int narg, int nres);
int luaL_rometatable(lua_State *L, const char *tname, const ROTable *p);

#endif
