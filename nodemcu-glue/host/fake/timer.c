/* Fake ESP8266 NonOS SDK, timers: os_timer_* (ets_timer_*, osapi.h) and
 * NodeMCU's timer-suspension registry (swtmr_cb_register, pm/swtimer.h).
 *
 * Armed timers are tracked in a list of our own keyed by the timer's address
 * (a never-armed os_timer_t may hold garbage, so its fields are not trusted
 * for bookkeeping); the fields are still filled in as the SDK does. */
#include "internal.h"

#include "pm/swtimer.h"

typedef struct armed {
  ETSTimer *t;
  uint64_t expire_ms;
  uint32_t period_ms; /* 0 = one-shot */
  uint64_t seq;
  struct armed *next;
} armed_t;

static armed_t *timers; /* sorted by expire_ms, then arming order */
static uint64_t timer_seq;

static armed_t *timer_unlink(ETSTimer *t) {
  for (armed_t **pp = &timers; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->t == t) {
      armed_t *a = *pp;
      *pp = a->next;
      return a;
    }
  }
  return NULL;
}

static void timer_insert(armed_t *a) {
  armed_t **pp = &timers;
  while (*pp != NULL && (*pp)->expire_ms <= a->expire_ms)
    pp = &(*pp)->next;
  a->next = *pp;
  *pp = a;
}

void ets_timer_setfn(ETSTimer *t, ETSTimerFunc *fn, void *arg) {
  if (t == NULL)
    fsdk_die("os_timer_setfn(NULL)");
  t->timer_func = fn;
  t->timer_arg = arg;
}

static void timer_arm_ms(ETSTimer *t, uint64_t ms, uint32_t period_ms) {
  armed_t *a = timer_unlink(t); /* re-arming replaces */
  if (a == NULL) {
    a = fsdk_book_alloc(sizeof *a, "arming a timer");
  }
  a->t = t;
  a->expire_ms = fake_sdk_now_ms() + ms;
  a->period_ms = period_ms;
  a->seq = ++timer_seq;
  t->timer_expire = (uint32_t)a->expire_ms;
  t->timer_period = period_ms;
  timer_insert(a);
}

void ets_timer_arm_new(ETSTimer *t, uint32_t time, bool repeat, bool ms_flag) {
  if (t == NULL)
    fsdk_die("os_timer_arm(NULL)");
  if (t->timer_func == NULL)
    fsdk_die("os_timer_arm on a timer without os_timer_setfn");
  uint32_t ms = ms_flag ? time : (time + 999u) / 1000u;
  timer_arm_ms(t, ms, repeat ? (ms ? ms : 1) : 0);
}

void ets_timer_disarm(ETSTimer *t) {
  armed_t *a = timer_unlink(t);
  if (a != NULL)
    __real_free(a);
}

int fsdk_timers_armed(void) { return timers != NULL; }

int fsdk_timer_next(uint64_t *expire_ms) {
  if (timers == NULL)
    return 0;
  *expire_ms = timers->expire_ms;
  return 1;
}

void fsdk_run_timers(void) {
  uint64_t now = fake_sdk_now_ms();
  uint64_t phase = timer_seq; /* timers armed during this phase wait a turn */
  while (timers != NULL && timers->expire_ms <= now && timers->seq <= phase) {
    armed_t *a = timers;
    timers = a->next;
    ETSTimer *t = a->t;
    if (a->period_ms != 0) {
      a->expire_ms += a->period_ms;
      if (a->expire_ms <= now)
        a->expire_ms = now + a->period_ms;
      a->seq = ++timer_seq;
      timer_insert(a);
    } else {
      __real_free(a);
    }
    FSDK_TRACE("timer %p fires\n", (void *)t);
    t->timer_func(t->timer_arg);
  }
}

/* ------------------------------------------------------------------ */
/* timer suspension (NodeMCU app/pm/swtimer.c)                          */

typedef struct swreg {
  struct swreg *next;
  void *fn;
  uint8 policy;
} swreg_t;

static swreg_t *registry;
static size_t registry_len;

/* Suspended timers. As in NodeMCU, a suspended timer has left the SDK's
 * timer list, so os_timer_disarm does not reach it: it comes back on resume
 * unless its policy is DROP (a port must not free a suspended timer). */
typedef struct susp {
  struct susp *next;
  ETSTimer *t;
  uint64_t left_ms;
  uint32_t period_ms;
} susp_t;

static susp_t *suspended, **suspended_tail = &suspended;

void swtmr_cb_register(void *timer_cb_ptr, uint8 suspend_policy) {
  if (timer_cb_ptr == NULL)
    fsdk_die("swtmr_cb_register(NULL)");
  if (suspend_policy > SWTIMER_DROP)
    fsdk_die("swtmr_cb_register: unknown suspend policy");
  for (swreg_t *r = registry; r != NULL; r = r->next) {
    if (r->fn == timer_cb_ptr) {
      r->policy = suspend_policy; /* NodeMCU keeps one entry per callback */
      return;
    }
  }
  swreg_t *r = fsdk_book_alloc(sizeof *r, "in swtmr_cb_register");
  r->fn = timer_cb_ptr;
  r->policy = suspend_policy;
  r->next = registry;
  registry = r;
  registry_len++;
  FSDK_TRACE("swtimer: callback %p registered, policy %u\n", timer_cb_ptr, suspend_policy);
}

static int policy_of(void *fn) {
  for (swreg_t *r = registry; r != NULL; r = r->next)
    if (r->fn == fn)
      return r->policy;
  return -1;
}

int fake_sdk_swtimer_policy(void (*fn)(void *)) { return policy_of((void *)fn); }

size_t fake_sdk_swtimer_count(void) { return registry_len; }

size_t fake_sdk_timers_suspend(void) {
  size_t n = 0;
  uint64_t now = fake_sdk_now_ms();
  for (armed_t **pp = &timers; *pp != NULL;) {
    armed_t *a = *pp;
    int policy = policy_of((void *)a->t->timer_func);
    if (policy < 0) {
      pp = &a->next; /* not registered: keeps running */
      continue;
    }
    *pp = a->next;
    n++;
    if (policy != SWTIMER_DROP) {
      susp_t *s = fsdk_book_alloc(sizeof *s, "suspending a timer");
      s->t = a->t;
      s->period_ms = a->period_ms;
      s->left_ms = a->expire_ms > now ? a->expire_ms - now : 0;
      if (policy == SWTIMER_IMMEDIATE)
        s->left_ms = 0;
      else if (policy == SWTIMER_RESTART && a->period_ms != 0)
        s->left_ms = a->period_ms; /* a one-shot timer keeps RESUME, as in NodeMCU */
      s->next = NULL;
      *suspended_tail = s;
      suspended_tail = &s->next;
    }
    FSDK_TRACE("swtimer: timer %p suspended (policy %d)\n", (void *)a->t, policy);
    __real_free(a);
  }
  return n;
}

size_t fake_sdk_timers_resume(void) {
  size_t n = 0;
  while (suspended != NULL) {
    susp_t *s = suspended;
    suspended = s->next;
    /* NodeMCU re-links the os_timer_t itself: reading it here makes a
     * suspended timer in freed memory visible (ASan). */
    if (s->t->timer_func == NULL)
      fsdk_die("resuming a suspended timer whose os_timer_t was cleared");
    timer_arm_ms(s->t, s->left_ms, s->period_ms);
    FSDK_TRACE("swtimer: timer %p resumed, %llu ms left\n", (void *)s->t,
               (unsigned long long)s->left_ms);
    __real_free(s);
    n++;
  }
  suspended_tail = &suspended;
  return n;
}
