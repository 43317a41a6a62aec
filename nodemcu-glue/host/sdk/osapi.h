/* Host stand-in for the ESP8266 NonOS SDK's osapi.h (fake SDK, Linux). */
#ifndef FAKE_SDK_OSAPI_H
#define FAKE_SDK_OSAPI_H

#include <string.h>
#include <stdio.h>
#include "os_type.h"
/* As the firmware's osapi.h override: the ROM's routines (SHA-1). */
#include "rom.h"

void ets_timer_setfn(ETSTimer *ptimer, ETSTimerFunc *pfunction, void *parg);
void ets_timer_arm_new(ETSTimer *ptimer, uint32_t time, bool repeat_flag, bool ms_flag);
void ets_timer_disarm(ETSTimer *ptimer);
void ets_delay_us(uint32_t us);

#define os_timer_setfn(t, fn, arg) ets_timer_setfn((t), (fn), (arg))
#define os_timer_arm(t, ms, rep) ets_timer_arm_new((t), (ms), (rep), 1)
#define os_timer_arm_us(t, us, rep) ets_timer_arm_new((t), (us), (rep), 0)
#define os_timer_disarm(t) ets_timer_disarm(t)
#define os_delay_us(us) ets_delay_us(us)

#define os_bzero(s, n) memset((s), 0, (n))
#define os_memcmp memcmp
#define os_memcpy memcpy
#define os_memmove memmove
#define os_memset memset
#define os_strcat strcat
#define os_strchr strchr
#define os_strcmp strcmp
#define os_strcpy strcpy
#define os_strlen strlen
#define os_strncmp strncmp
#define os_strncpy strncpy
#define os_strstr strstr
#define os_sprintf sprintf
#define os_snprintf snprintf
#define os_printf printf
#define os_printf_plus printf

uint32_t os_random(void);
int os_get_random(unsigned char *buf, size_t len);

#endif
