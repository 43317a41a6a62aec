/* Host stand-in for the ESP8266 NonOS SDK's c_types.h (fake SDK, Linux). */
#ifndef FAKE_SDK_C_TYPES_H
#define FAKE_SDK_C_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

typedef uint8_t uint8;
typedef uint8_t u8;
typedef int8_t sint8;
typedef int8_t int8;
typedef int8_t s8;
typedef uint16_t uint16;
typedef uint16_t u16;
typedef int16_t sint16;
typedef int16_t s16;
typedef uint32_t uint32;
typedef uint32_t u_int;
typedef uint32_t u32;
typedef int32_t sint32;
typedef int32_t s32;
typedef int32_t int32;
typedef int64_t sint64;
typedef uint64_t uint64;
typedef uint64_t u64;
typedef float real32;
typedef double real64;

#define __le16 u16

#ifndef BOOL
#define BOOL bool
#endif
#ifndef TRUE
#define TRUE true
#endif
#ifndef FALSE
#define FALSE false
#endif

#define LOCAL static

/* Section placement attributes have no meaning on the host. */
#define ICACHE_FLASH_ATTR
#define ICACHE_RODATA_ATTR
#define ICACHE_RAM_ATTR
#define IRAM_ATTR
#define STORE_ATTR
#define STORE_TYPEDEF_ATTR

#ifndef __packed
#define __packed __attribute__((packed))
#endif

#endif
