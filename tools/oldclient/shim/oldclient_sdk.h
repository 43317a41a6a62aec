/* Forced include (-include) for compiling the firmware's OLD websocket client
 * and OLD Lua module unchanged against the host's fake SDK headers
 * (nodemcu-glue/host/sdk), for the host, 32-bit host and cross builds of
 * tools/oldclient and tools/size. Only what the firmware's own include path
 * provides and the fake SDK does not:
 *  - NODE_DBG: the firmware's debug print, compiled out (a firmware built
 *    without DEVELOP_VERSION);
 *  - strcasecmp/strncasecmp (<strings.h>), which the firmware's libc headers
 *    declare through <string.h>, and va_arg (<stdarg.h>), which its stdio.h
 *    brings along (glibc's does not).
 * The ROM's SHA-1, which the old client calls, is the fake SDK's: its
 * osapi.h includes rom.h as the firmware's does, fake/rom.c implements it. */
#ifndef OLDCLIENT_SDK_H
#define OLDCLIENT_SDK_H
#include <stdint.h>
#include <stdarg.h>
#include <strings.h>
#ifndef NODE_DBG
#define NODE_DBG(...) do { } while (0)
#endif
#endif
