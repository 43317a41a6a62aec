/* Fake ESP8266 NonOS SDK, heap: accounting over malloc/calloc/realloc/free
 * (link with -Wl,--wrap=malloc,--wrap=free,--wrap=realloc,--wrap=calloc;
 * mem.h's os_malloc & co. go to malloc) and system_get_free_heap_size. */
#include "internal.h"

#include <malloc.h>

static long long heap_live;
static long long heap_peak;

static void heap_add(long long delta) {
  long long now = __atomic_add_fetch(&heap_live, delta, __ATOMIC_RELAXED);
  long long peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
  while (now > peak &&
         !__atomic_compare_exchange_n(&heap_peak, &peak, now, 1, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
  }
}

void *__wrap_malloc(size_t n) {
  void *p = __real_malloc(n);
  if (p != NULL)
    heap_add((long long)malloc_usable_size(p));
  return p;
}

void *__wrap_calloc(size_t n, size_t m) {
  void *p = __real_calloc(n, m);
  if (p != NULL)
    heap_add((long long)malloc_usable_size(p));
  return p;
}

void *__wrap_realloc(void *p, size_t n) {
  long long old = p != NULL ? (long long)malloc_usable_size(p) : 0;
  void *q = __real_realloc(p, n);
  if (q != NULL)
    heap_add((long long)malloc_usable_size(q) - old);
  else if (n == 0 && p != NULL)
    heap_add(-old); /* glibc: realloc(p, 0) frees p */
  return q;
}

void __wrap_free(void *p) {
  if (p == NULL)
    return;
  heap_add(-(long long)malloc_usable_size(p));
  __real_free(p);
}

size_t fake_sdk_heap_live(void) {
  long long v = __atomic_load_n(&heap_live, __ATOMIC_RELAXED);
  return v > 0 ? (size_t)v : 0;
}

size_t fake_sdk_heap_peak(void) {
  long long v = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
  return v > 0 ? (size_t)v : 0;
}

void fake_sdk_heap_reset_peak(void) {
  __atomic_store_n(&heap_peak, __atomic_load_n(&heap_live, __ATOMIC_RELAXED),
                   __ATOMIC_RELAXED);
}

size_t fake_sdk_heap_budget(void) {
  fsdk_load_config();
  return fsdk_cfg.heap_budget;
}

uint32 system_get_free_heap_size(void) {
  size_t budget = fake_sdk_heap_budget(), live = fake_sdk_heap_live();
  size_t free_bytes = live < budget ? budget - live : 0;
  return free_bytes > UINT32_MAX ? UINT32_MAX : (uint32)free_bytes;
}
