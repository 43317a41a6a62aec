/* Host stand-in for NodeMCU's app/include/pm/swtimer.h: timer-suspension
 * registration. With TIMER_SUSPEND_ENABLE (user_config.h in the firmware;
 * the host build defines it) SWTIMER_REG_CB(fn, policy) registers the
 * os_timer callback fn once per call site, so that a light sleep
 * (node.sleep / wifi.suspend) suspends the timers running fn and resumes
 * them by `policy` afterwards; without it the macro is empty. The fake SDK
 * records registrations (fake_sdk_swtimer_policy) and can suspend and resume
 * timers the same way (fake_sdk_timers_suspend / _resume, fake_sdk.h). */
#ifndef FAKE_SDK_PM_SWTIMER_H
#define FAKE_SDK_PM_SWTIMER_H

#include <stdint.h>
#include <stdbool.h>

void swtmr_cb_register(void *timer_cb_ptr, uint8 suspend_policy);

#define SWTIMER_RESUME 0    /* resume with the time that was left */
#define SWTIMER_RESTART 1   /* resume with a full period (repeating timers) */
#define SWTIMER_IMMEDIATE 2 /* fire right after the resume */
#define SWTIMER_DROP 3      /* disarm for good */

#if defined(TIMER_SUSPEND_ENABLE)
/* Like the firmware's macro: cb_ptr must be a plain function name (it names
 * the per-call-site flag), and the expansion ends with its own ';'. */
#define SWTIMER_REG_CB(cb_ptr, suspend_policy)                                 \
  do {                                                                         \
    static bool cb_ptr##_registered_flag;                                      \
    if (!cb_ptr##_registered_flag) {                                           \
      cb_ptr##_registered_flag = true;                                         \
      swtmr_cb_register((void *)cb_ptr, suspend_policy);                       \
    }                                                                          \
  } while (0);
#else
#define SWTIMER_REG_CB(...)
#endif

#endif
