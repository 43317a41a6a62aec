/* Host stand-in for NodeMCU's app/platform/platform.h, as far as the
 * firmware's app/modules/websocket.c uses it: the NODE_DBG debug macro
 * (compiled out, as in a firmware built without DEVELOP_VERSION) and the
 * SDK's user_interface.h, which the real platform.h also includes. Nothing
 * else: whatever the module needs beyond this must come from the headers it
 * includes itself (module.h, lauxlib.h, lmem.h, websocket/websocketclient.h).
 */
#ifndef OLDMOD_PLATFORM_H
#define OLDMOD_PLATFORM_H
#include <stdint.h>
#include "user_interface.h"
#define NODE_DBG(...) do { } while (0)
#endif
