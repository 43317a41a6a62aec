/* Host stand-in for lwIP's basic integer types (fake SDK). */
#ifndef FAKE_SDK_LWIP_ARCH_H
#define FAKE_SDK_LWIP_ARCH_H
#include <stdint.h>
typedef uint8_t u8_t;
typedef int8_t s8_t;
typedef uint16_t u16_t;
typedef int16_t s16_t;
typedef uint32_t u32_t;
typedef int32_t s32_t;
#endif
