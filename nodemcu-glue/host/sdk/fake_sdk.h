/* Host-only API of the fake ESP8266 SDK: the event loop and heap accounting.
 * Not part of the real SDK; for the host runner and C test programs.
 *
 * Environment:
 *   FAKE_SDK_SEGMENT=n        largest chunk per recv callback (default 1460)
 *   FAKE_SDK_SEND_LIMIT=n     lwIP's send buffer (TCP_SND_BUF, default 2920):
 *                             espconn_send copies at most what fits and reads
 *                             the rest from the caller's buffer later
 *   FAKE_SDK_MAX_TCP=n        active TCP connections before espconn_connect
 *                             answers ESPCONN_ISCONN (default 5, the SDK's)
 *   FAKE_SDK_FAULTS=plan      make chosen espconn calls fail (fake/fault.c):
 *                             e.g. "send_mem@3,connect_isconn@1"
 *   FAKE_SDK_DNS_HOSTS_ONLY=1 resolve names only from /etc/hosts (no network)
 *   FAKE_SDK_TRACE=1          trace espconn/timer activity on stderr
 *   FAKE_SDK_CA_FILE=path     initial content of the CA "flash sector" (PEM),
 *                             like a firmware built with a CA certificate
 *   NODEMCU_HEAP=n            heap budget for system_get_free_heap_size()
 *   FAKE_SDK_HEAP_LIMIT=n     device heap limit: malloc/calloc/realloc from
 *                             the module, the library, the port and espconn
 *                             fail (NULL) beyond n live bytes (0 = no limit);
 *                             the Lua interpreter's allocations (through
 *                             fake_sdk_lua_alloc) are not limited
 */
#ifndef FAKE_SDK_H
#define FAKE_SDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Run one loop iteration: wait at most timeout_ms (-1 = as long as needed)
 * for sockets/timers/DNS, then dispatch what is due. Returns 1 if something
 * is still pending afterwards (open espconn, armed timer, pending DNS or
 * queued callback), else 0. */
int fake_sdk_step(int timeout_ms);

/* Run the loop until nothing is pending or fake_sdk_stop() was called. */
void fake_sdk_run(void);

/* Run the loop until done(arg) returns nonzero (checked after every
 * iteration), nothing is pending, or timeout_ms elapsed (0 = no limit).
 * Returns 0 when done, 1 when idle without done, -1 on timeout. */
int fake_sdk_run_until(int (*done)(void *arg), void *arg, uint32_t timeout_ms);

/* Makes fake_sdk_run / fake_sdk_run_until return after the current dispatch. */
void fake_sdk_stop(void);

/* Nonzero while an espconn is open, a timer is armed, a DNS lookup or a
 * callback is pending. */
int fake_sdk_pending(void);

/* Sets the largest chunk per recv callback (FAKE_SDK_SEGMENT) from now on;
 * 1..65535, anything else changes nothing. Returns the previous value. */
size_t fake_sdk_set_segment(size_t bytes);

/* Milliseconds of a monotonic clock since the first call into the SDK. */
uint64_t fake_sdk_now_ms(void);

/* Heap accounting over malloc/calloc/realloc/free (link with
 * -Wl,--wrap=malloc,--wrap=free,--wrap=realloc,--wrap=calloc). */
size_t fake_sdk_heap_live(void);   /* bytes now allocated */
size_t fake_sdk_heap_peak(void);   /* highest live value since the last reset */
void fake_sdk_heap_reset_peak(void); /* peak := live */
size_t fake_sdk_heap_budget(void); /* NODEMCU_HEAP or the default */

/* The device class (fake/heap.c): every wrapped malloc/calloc/realloc of the
 * program (module, library, port, the fake SDK's pbufs and espconn_buf), not
 * the Lua interpreter. The limit applies to it: beyond `limit` live bytes an
 * allocation fails (NULL), as on an ESP8266 whose heap is used up;
 * system_get_free_heap_size() then answers at most limit - live.
 * fake_sdk_heap_reset_peak resets both peaks. */
size_t fake_sdk_heap_device_live(void);
size_t fake_sdk_heap_device_peak(void);
size_t fake_sdk_heap_limit(void);            /* 0: none */
size_t fake_sdk_heap_set_limit(size_t bytes); /* 0: none; returns the old one */
/* Allocations refused by the limit so far; *last (if not NULL): the size
 * asked for by the latest of them. */
unsigned long fake_sdk_heap_refused(size_t *last);
/* lua_Alloc for lua_newstate: the Lua class, counted in heap_live/heap_peak,
 * never limited (a 64-bit host Lua state is far bigger than the device's). */
void *fake_sdk_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* Certificate checking for espconn_secure_connect (espconn.h).
 *
 * On the device, espconn_secure_ca_enable(ESPCONN_CLIENT, sector) makes every
 * later client handshake read the trusted CA certificate(s) from that flash
 * sector and fail unless the server's chain verifies against them. The host
 * stand-in for writing that sector is fake_sdk_set_ca_pem: PEM text, one or
 * more certificates (copied; NULL/0 empties it). Returns 0, -1 if out of
 * memory. The content is read at the start of each handshake, so it may be
 * changed between connections. fake_sdk_get_ca_pem gives the current content
 * (NULL when empty). */
int fake_sdk_set_ca_pem(const char *pem, size_t len);
const char *fake_sdk_get_ca_pem(size_t *len);
/* Nonzero while espconn_secure_ca_enable is on for the client level. */
int fake_sdk_ca_enabled(void);

/* NodeMCU's patched SDK can instead ask the tls module for the certificates
 * (tls.cert.verify(function)): when a source is set, each client handshake
 * start calls fn(arg, 1, ...), fn(arg, 2, ...) ... from the loop; fn returns
 * 1 with *pem and *len set (valid until the next call), 0 for "no more", -1 to
 * fail the handshake. Checking is then on whatever espconn_secure_ca_enable
 * says, against the certificates the source gave (none: every handshake
 * fails). fn may end the connection (the handshake is then dropped quietly).
 * NULL removes the source. */
typedef int (*fake_sdk_ca_source)(void *arg, int index, const char **pem, size_t *len);
void fake_sdk_set_ca_source(fake_sdk_ca_source fn, void *arg);

/* Fault injection (fake/fault.c lists the names and what each models):
 * adds a plan like FAKE_SDK_FAULTS ("NAME@N" = the N-th call, "NAME@N+" =
 * the N-th and later). Returns 0, -1 if it does not parse (nothing added).
 * fake_sdk_fault_reset drops every plan (also the environment's) and
 * restarts the call counts. */
int fake_sdk_fault(const char *plan);
void fake_sdk_fault_reset(void);

/* Timer suspension (pm/swtimer.h). fake_sdk_swtimer_policy: the policy
 * registered for an os_timer callback with SWTIMER_REG_CB, -1 if none;
 * fake_sdk_swtimer_count: callbacks registered. fake_sdk_timers_suspend
 * takes every armed timer whose callback is registered off the timer list
 * (as node.sleep / wifi.suspend do) and returns how many;
 * fake_sdk_timers_resume re-arms them by their policy (RESUME: the time
 * left; RESTART: a full period; IMMEDIATE: now; DROP: not at all). As on the
 * device, os_timer_disarm does not reach a suspended timer. */
int fake_sdk_swtimer_policy(void (*fn)(void *));
size_t fake_sdk_swtimer_count(void);
size_t fake_sdk_timers_suspend(void);
size_t fake_sdk_timers_resume(void);

#ifdef __cplusplus
}
#endif
#endif
