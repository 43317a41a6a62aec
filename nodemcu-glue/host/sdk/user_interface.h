/* Host stand-in for the ESP8266 NonOS SDK's user_interface.h (fake SDK). */
#ifndef FAKE_SDK_USER_INTERFACE_H
#define FAKE_SDK_USER_INTERFACE_H

#include "os_type.h"
#include "osapi.h"
#include "lwip/ip_addr.h"

uint32 system_get_time(void);          /* microseconds since start, wraps */
uint32 system_get_free_heap_size(void); /* budget (NODEMCU_HEAP) minus live bytes */
void system_restart(void);
void system_soft_wdt_feed(void);

#endif
