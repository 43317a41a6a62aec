/* Forced include (-include) for compiling the firmware's OLD websocket client
 * and OLD Lua module unchanged against the host's fake SDK headers
 * (nodemcu-glue/host/sdk), for the host, 32-bit host and cross builds of
 * tools/oldclient and tools/size. Only what the firmware's own include path
 * provides and the fake SDK does not:
 *  - NODE_DBG: the firmware's debug print, compiled out (a firmware built
 *    without DEVELOP_VERSION);
 *  - the ESP8266 ROM's SHA-1 (the firmware declares it in app/include/rom.h,
 *    which its osapi.h override includes); the context layout is the ROM's
 *    (NetBSD sha1.h): the client keeps a SHA1_CTX on its stack. On the
 *    device the code is in ROM (no flash); tools/oldclient/rom_sha1.c
 *    implements it for host programs.
 *  - strcasecmp/strncasecmp (<strings.h>), which the firmware's libc headers
 *    declare through <string.h>, and va_arg (<stdarg.h>), which its stdio.h
 *    brings along (glibc's does not). */
#ifndef OLDCLIENT_SDK_H
#define OLDCLIENT_SDK_H
#include <stdint.h>
#include <stdarg.h>
#include <strings.h>
#ifndef NODE_DBG
#define NODE_DBG(...) do { } while (0)
#endif
typedef struct {
  uint32_t state[5];
  uint32_t count[2];
  uint8_t buffer[64];
} SHA1_CTX;
void SHA1Init(SHA1_CTX *ctx);
void SHA1Update(SHA1_CTX *ctx, const uint8_t *data, unsigned int len);
void SHA1Final(uint8_t digest[20], SHA1_CTX *ctx);
#endif
