/* Fixture: shape of app/include/user_modules.h (abridged) */
#ifndef __USER_MODULES_H__
#define __USER_MODULES_H__

#define LUA_USE_MODULES_FILE
#define LUA_USE_MODULES_NET
#define LUA_USE_MODULES_TMR
//#define LUA_USE_MODULES_WEBSOCKET
#define LUA_USE_MODULES_WIFI

#endif /* __USER_MODULES_H__ */
