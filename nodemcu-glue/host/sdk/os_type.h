/* Host stand-in for the ESP8266 NonOS SDK's os_type.h (fake SDK, Linux). */
#ifndef FAKE_SDK_OS_TYPE_H
#define FAKE_SDK_OS_TYPE_H

#include "ets_sys.h"

#define os_timer_func_t ETSTimerFunc
#define os_timer_t ETSTimer

typedef uint8_t os_signal_t;
typedef uint8_t os_param_t;

#endif
