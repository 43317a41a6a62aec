/* Host stand-in for the ESP8266 NonOS SDK's mem.h (fake SDK, Linux).
 * Everything goes to malloc/free, which the host link wraps for heap
 * accounting (-Wl,--wrap=malloc,...). */
#ifndef FAKE_SDK_MEM_H
#define FAKE_SDK_MEM_H

#include <stdlib.h>
#include <stdint.h>
#include <stdbool.h>

#define os_malloc(s) malloc(s)
#define os_zalloc(s) calloc(1, (s))
#define os_calloc(n, s) calloc((n), (s))
#define os_realloc(p, s) realloc((p), (s))
#define os_free(p) free(p)

#endif
