/* Stand-in for NodeMCU's app/platform/platform.h as far as the old Lua
 * module uses it (NODE_DBG, from oldclient_sdk.h, and the SDK's
 * user_interface.h, which the real one includes). */
#ifndef OLDCLIENT_PLATFORM_H
#define OLDCLIENT_PLATFORM_H
#include "user_interface.h"
#endif
