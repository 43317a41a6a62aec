/* Forced include (-include) for compiling the firmware's original
 * app/modules/websocket.c on a 64-bit host, unchanged.
 *
 * The module reads the message length with
 *     int msgLength; luaL_checklstring(L, 2, &msgLength);
 * On the ESP8266 size_t and int are both 32 bits, so this writes the length
 * into the int. On a 64-bit host luaL_checklstring would store 8 bytes
 * through an int pointer (a stack overwrite). This header reproduces the
 * device's behaviour: when the third argument is an int pointer, the length
 * is read into a size_t and stored as an int; every other call goes to
 * luaL_checklstring itself. Lengths above INT_MAX cannot occur on the device
 * (its address space is 32 bits); here they raise a Lua error rather than
 * wrap. Nothing else is changed.
 */
#ifndef OLDMOD_HOST_H
#define OLDMOD_HOST_H
#include <limits.h>
#include <stddef.h>
#include "lua.h"
#include "lauxlib.h"

static inline const char *oldmod_checklstring_int(lua_State *L, int arg, int *len) {
  size_t n;
  const char *s = luaL_checklstring(L, arg, &n);
  if (n > (size_t)INT_MAX) {
    luaL_argerror(L, arg, "string longer than a 32-bit device can hold");
  }
  *len = (int)n;
  return s;
}

#define luaL_checklstring(L, arg, len)                                         \
  _Generic((len), int *: oldmod_checklstring_int, default: luaL_checklstring)( \
      (L), (arg), (len))
#endif
