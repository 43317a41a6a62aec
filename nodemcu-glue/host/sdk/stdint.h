/* Host stand-in for NodeMCU's sdk-overrides/include/stdint.h: the C
 * <stdint.h> plus the SDK's own integer names, which the firmware gets from
 * here (c_types.h is forbidden there, see c_types.h). Found first because
 * nodemcu-glue/host/sdk is on the include path, as sdk-overrides/include is
 * in the firmware's. */
#ifndef FAKE_SDK_STDINT_H
#define FAKE_SDK_STDINT_H

#include_next <stdint.h>

typedef signed char sint8_t;
typedef signed short sint16_t;
typedef signed int sint32_t;
typedef signed long long sint64_t;
/* u_int64_t: glibc's <sys/types.h> has its own (unsigned long) on the host. */
typedef float real32_t;
typedef double real64_t;

typedef unsigned char uint8;
typedef unsigned char u8;
typedef signed char sint8;
typedef signed char int8;
typedef signed char s8;
typedef unsigned short uint16;
typedef unsigned short u16;
typedef signed short sint16;
typedef signed short s16;
typedef unsigned int uint32;
typedef unsigned int u_int;
typedef unsigned int u32;
typedef signed int sint32;
typedef signed int s32;
typedef int int32;
typedef signed long long sint64;
typedef unsigned long long uint64;
typedef unsigned long long u64;
typedef float real32;
typedef double real64;

#define __le16 u16

#ifndef __packed
#define __packed __attribute__((packed))
#endif

#define LOCAL static

typedef enum { OK = 0, FAIL, PENDING, BUSY, CANCEL } STATUS;

#define BIT(nr) (1UL << (nr))

/* Section placement has no meaning on the host (the firmware puts code into
 * .irom0.text and constants into .irom.text). */
#define DMEM_ATTR
#define SHMEM_ATTR
#define ICACHE_FLASH_ATTR
#define ICACHE_RODATA_ATTR
#define ICACHE_RAM_ATTR
#define IRAM_ATTR
#define STORE_ATTR __attribute__((aligned(4)))

#endif
