/* Fake ESP8266 NonOS SDK, heap: accounting over malloc/calloc/realloc/free
 * (link with -Wl,--wrap=malloc,--wrap=free,--wrap=realloc,--wrap=calloc;
 * mem.h's os_malloc & co. go to malloc), the device heap limit
 * (FAKE_SDK_HEAP_LIMIT) and system_get_free_heap_size.
 *
 * Two classes of allocations:
 *   device  every malloc/calloc/realloc/free call made from code linked
 *           statically into the program and reaching the wrapped symbols:
 *           the NodeMCU websocket module (websocket.c), the Rust library
 *           (its malloc/realloc/free), the espconn port and the fake SDK's
 *           own stand-ins for device memory (lwIP pbufs of received
 *           segments and of unsent data, espconn_buf, DNS table entries).
 *   Lua     the Lua interpreter's allocations, which reach the heap only
 *           through the lua_Alloc function given to lua_newstate: the
 *           runner passes fake_sdk_lua_alloc (nodemcu_main.c). A 64-bit
 *           host Lua state is several times larger than the device's, so
 *           it is kept out of the device figures.
 * Shared libraries (libc's stdio, OpenSSL) call the real allocator and are
 * in neither class. heap_live/heap_peak count both classes (as before);
 * FAKE_SDK_HEAP_LIMIT applies to the device class only: an allocation that
 * would take the device bytes over it fails (NULL), as os_malloc does on an
 * ESP8266 whose heap is used up. Sizes are malloc_usable_size (so a small
 * block costs its rounding, as on the device). Fake SDK bookkeeping that has
 * no counterpart on the device uses __real_malloc and is in neither class. */
#include "internal.h"

#include <malloc.h>
#include <string.h>

static long long heap_live;   /* both classes */
static long long heap_peak;
static long long dev_live;    /* device class */
static long long dev_peak;
static long long dev_limit = -1; /* -1: not loaded yet; 0: none */
static unsigned long dev_refused;
static size_t dev_refused_last;

static void bump_peak(long long *peak, long long now) {
  long long p = __atomic_load_n(peak, __ATOMIC_RELAXED);
  while (now > p &&
         !__atomic_compare_exchange_n(peak, &p, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

static void heap_add(long long delta) {
  bump_peak(&heap_peak, __atomic_add_fetch(&heap_live, delta, __ATOMIC_RELAXED));
}

static long long limit_now(void) {
  long long l = __atomic_load_n(&dev_limit, __ATOMIC_RELAXED);
  if (l < 0) {
    fsdk_load_config();
    l = (long long)fsdk_cfg.heap_limit;
    long long unset = -1;
    /* a limit set through fake_sdk_heap_set_limit meanwhile wins */
    if (!__atomic_compare_exchange_n(&dev_limit, &unset, l, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
      l = unset;
  }
  return l;
}

/* Takes `delta` device bytes; 0 if that would pass the limit (nothing taken). */
static int dev_take(long long delta, size_t asked) {
  long long now = __atomic_add_fetch(&dev_live, delta, __ATOMIC_RELAXED);
  long long limit = limit_now();
  if (delta > 0 && limit > 0 && now > limit) {
    __atomic_sub_fetch(&dev_live, delta, __ATOMIC_RELAXED);
    __atomic_add_fetch(&dev_refused, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&dev_refused_last, asked, __ATOMIC_RELAXED);
    FSDK_TRACE("heap: %zu bytes refused (device heap %lld of %lld)\n", asked, now - delta, limit);
    return 0;
  }
  bump_peak(&dev_peak, now);
  heap_add(delta);
  return 1;
}

static void dev_give(long long bytes) {
  __atomic_sub_fetch(&dev_live, bytes, __ATOMIC_RELAXED);
  heap_add(-bytes);
}

void *fsdk_book_alloc(size_t n, const char *what) {
  void *p = __real_malloc(n);
  if (p == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, "out of memory %s", what);
    fsdk_die(msg);
  }
  return p;
}

/* A new block p of `asked` bytes onto the device heap, or given back (NULL)
 * where the device heap refuses it. */
static void *dev_take_block(void *p, size_t asked) {
  if (p != NULL && !dev_take((long long)malloc_usable_size(p), asked)) {
    __real_free(p);
    return NULL;
  }
  return p;
}

void *__wrap_malloc(size_t n) { return dev_take_block(__real_malloc(n), n); }

void *__wrap_calloc(size_t n, size_t m) { return dev_take_block(__real_calloc(n, m), n * m); }

void *__wrap_realloc(void *p, size_t n) {
  if (p == NULL)
    return __wrap_malloc(n);
  long long old = (long long)malloc_usable_size(p);
  if (n == 0) { /* glibc: realloc(p, 0) frees p */
    dev_give(old);
    return __real_realloc(p, 0);
  }
  if (limit_now() <= 0 || (long long)n <= old) {
    void *q = __real_realloc(p, n);
    if (q == NULL)
      return NULL;
    long long now = (long long)malloc_usable_size(q);
    if (now >= old) {
      /* grown (or kept) in place without a limit: cannot be refused */
      long long d = now - old;
      bump_peak(&dev_peak, __atomic_add_fetch(&dev_live, d, __ATOMIC_RELAXED));
      heap_add(d);
    } else {
      dev_give(old - now);
    }
    return q;
  }
  /* Growing under a limit: a new block, checked before p is given up, so that
   * a refusal leaves p intact as realloc must. Only the final difference
   * counts (as if the device heap grew the block where it is). */
  void *q = __real_malloc(n);
  if (q == NULL)
    return NULL;
  long long now = (long long)malloc_usable_size(q);
  if (!dev_take(now - old, n)) {
    __real_free(q);
    return NULL;
  }
  memcpy(q, p, (size_t)old);
  __real_free(p);
  return q;
}

void __wrap_free(void *p) {
  if (p == NULL)
    return;
  dev_give((long long)malloc_usable_size(p));
  __real_free(p);
}

/* The Lua class: a lua_Alloc for lua_newstate (Lua 5.1 and 5.3 share the
 * signature). Counted in heap_live/heap_peak only, never limited. */
void *fake_sdk_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  long long old = ptr != NULL ? (long long)malloc_usable_size(ptr) : 0;
  if (nsize == 0) {
    if (ptr != NULL) {
      heap_add(-old);
      __real_free(ptr);
    }
    return NULL;
  }
  void *q = __real_realloc(ptr, nsize);
  if (q != NULL)
    heap_add((long long)malloc_usable_size(q) - old);
  return q;
}

/* One of the counters above, read as a size (a transient negative as 0). */
static size_t count_of(long long *counter) {
  long long v = __atomic_load_n(counter, __ATOMIC_RELAXED);
  return v > 0 ? (size_t)v : 0;
}

size_t fake_sdk_heap_live(void) { return count_of(&heap_live); }

size_t fake_sdk_heap_peak(void) { return count_of(&heap_peak); }

void fake_sdk_heap_reset_peak(void) {
  __atomic_store_n(&heap_peak, __atomic_load_n(&heap_live, __ATOMIC_RELAXED),
                   __ATOMIC_RELAXED);
  __atomic_store_n(&dev_peak, __atomic_load_n(&dev_live, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

size_t fake_sdk_heap_device_live(void) { return count_of(&dev_live); }

size_t fake_sdk_heap_device_peak(void) { return count_of(&dev_peak); }

size_t fake_sdk_heap_limit(void) { return (size_t)limit_now(); }

size_t fake_sdk_heap_set_limit(size_t bytes) {
  long long before = limit_now();
  __atomic_store_n(&dev_limit, (long long)bytes, __ATOMIC_RELAXED);
  return (size_t)before;
}

unsigned long fake_sdk_heap_refused(size_t *last) {
  if (last != NULL)
    *last = __atomic_load_n(&dev_refused_last, __ATOMIC_RELAXED);
  return __atomic_load_n(&dev_refused, __ATOMIC_RELAXED);
}

size_t fake_sdk_heap_budget(void) {
  fsdk_load_config();
  return fsdk_cfg.heap_budget;
}

/* NODEMCU_HEAP minus everything live; under a limit, no more than the
 * device class has left. */
uint32 system_get_free_heap_size(void) {
  size_t budget = fake_sdk_heap_budget(), live = fake_sdk_heap_live();
  size_t free_bytes = live < budget ? budget - live : 0;
  size_t limit = fake_sdk_heap_limit(), dev = fake_sdk_heap_device_live();
  if (limit > 0) {
    size_t left = dev < limit ? limit - dev : 0;
    if (left < free_bytes)
      free_bytes = left;
  }
  return free_bytes > UINT32_MAX ? UINT32_MAX : (uint32)free_bytes;
}
