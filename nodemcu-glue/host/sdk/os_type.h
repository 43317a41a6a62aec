/* Host stand-in for the ESP8266 NonOS SDK's os_type.h (fake SDK, Linux). */
#ifndef FAKE_SDK_OS_TYPE_H
#define FAKE_SDK_OS_TYPE_H

#include "c_types.h"

typedef void ETSTimerFunc(void *timer_arg);

/* Same field names as the SDK's ETSTimer. The fake SDK does not trust these
 * fields for bookkeeping (a never-armed timer may hold garbage): armed timers
 * are tracked in a list of its own, keyed by the timer's address. */
typedef struct _ETSTIMER_ {
  struct _ETSTIMER_ *timer_next;
  uint32_t timer_expire;
  uint32_t timer_period;
  ETSTimerFunc *timer_func;
  void *timer_arg;
} ETSTimer;

#define os_timer_func_t ETSTimerFunc
#define os_timer_t ETSTimer

typedef uint8_t os_signal_t;
typedef uint8_t os_param_t;

#endif
