/* Host stand-in for the ESP8266 NonOS SDK's ets_sys.h (with NodeMCU's
 * sdk-overrides wrapper): the timer type and the basic C headers. */
#ifndef FAKE_SDK_ETS_SYS_H
#define FAKE_SDK_ETS_SYS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
