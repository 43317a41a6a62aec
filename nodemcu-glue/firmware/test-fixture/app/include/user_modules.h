/* Fixture: the shape of app/include/user_modules.h in NodeMCU's release
 * branch (abridged, written for the libwebsocket tests): one switch per
 * module, the optional ones commented out, all inside a guard that the
 * cross compiler build defines away. */
#ifndef __USER_MODULES_H__
#define __USER_MODULES_H__

#ifndef LUA_CROSS_COMPILER

//#define LUA_USE_MODULES_COAP
#define LUA_USE_MODULES_FILE
//#define LUA_USE_MODULES_HTTP
#define LUA_USE_MODULES_MQTT
#define LUA_USE_MODULES_NET
#define LUA_USE_MODULES_TMR
//#define LUA_USE_MODULES_WEBSOCKET
#define LUA_USE_MODULES_WIFI

#endif  /* LUA_CROSS_COMPILER */
#endif  /* __USER_MODULES_H__ */
