/* Instruction counts of libwebsocket (the release archive) per message, for
 * the same workloads as the criterion benches, under valgrind's callgrind.
 *
 * A fake port in C: resolution and TCP connect finish at once, every send is
 * accepted (recorded during the handshake, discarded afterwards) and
 * accounted as sent right after the engine call returns; timers do nothing;
 * random bytes are deterministic. The opening handshake is completed with a
 * correct Sec-WebSocket-Accept. The callbacks, the handshake answer and the
 * checks are harness.h's, shared with tools/oldclient/cg_old.c (the old
 * client measured the same way).
 *
 * Only run_workload() is measured (callgrind --toggle-collect=run_workload):
 * the server stream is prepared and cut into 1460-byte segments beforehand,
 * so the count is the engine (plus the trivial port and callbacks).
 *
 * usage: cg_bench recv_16B_x100k | recv_65531B | recv_64KiB | recv_64KiB_16frag | send_16B | send_1000B | idle
 * prints: messages=<n> bytes=<n> (receive workloads also allocs= and peak_above_idle=, which
 * count only when built with -DCOUNT_HEAP; idle prints idle_heap=); exits 1 when the engine delivered
 * something else than what was fed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocketclient.h"

#define SEGMENT 1460

/* ---------------- heap accounting (built with -DCOUNT_HEAP and
 * -Wl,--wrap=malloc,--wrap=realloc,--wrap=free: the archive's calls land here) */
/* volatile: the compiler assumes malloc/free leave globals alone */
static volatile size_t heap_live, heap_peak, heap_allocs;
#ifdef COUNT_HEAP
#define HDR 16 /* keeps malloc's alignment */
void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
static void heap_grow(size_t n) {
  heap_live += n;
  if (heap_live > heap_peak) heap_peak = heap_live;
}
void *__wrap_malloc(size_t n) {
  unsigned char *p = __real_malloc(n + HDR);
  if (!p) return NULL;
  memcpy(p, &n, sizeof n);
  heap_allocs++;
  heap_grow(n);
  return p + HDR;
}
void __wrap_free(void *q) {
  if (!q) return;
  unsigned char *p = (unsigned char *)q - HDR;
  size_t n;
  memcpy(&n, p, sizeof n);
  heap_live -= n;
  __real_free(p);
}
void *__wrap_realloc(void *q, size_t n) {
  if (!q) return __wrap_malloc(n);
  unsigned char *p = (unsigned char *)q - HDR;
  size_t old;
  memcpy(&old, p, sizeof old);
  p = __real_realloc(p, n + HDR);
  if (!p) return NULL;
  memcpy(p, &n, sizeof n);
  heap_allocs++;
  heap_live -= old;
  heap_grow(n);
  return p + HDR;
}
#endif

#include "workloads.h"
#include "harness.h"

/* ---------------- the fake port ---------------- */
static struct {
  unsigned sends_due;
  int closed;
} st;

int ws_port_resolve(ws_info *ws, const char *host) {
  (void)host;
  ws->port = &st;
  return WS_PORT_DONE;
}
int ws_port_connect(ws_info *ws, uint16_t port, int secure) {
  (void)ws;
  (void)port;
  (void)secure;
  return 0;
}
int ws_port_send(ws_info *ws, const uint8_t *data, uint16_t len) {
  (void)ws;
  cg_capture(data, len);
  st.sends_due++;
  return 0;
}
void ws_port_close(ws_info *ws) {
  (void)ws;
  st.closed = 1;
  st.sends_due = 0;
}
void ws_port_timer_arm(ws_info *ws, uint32_t ms) {
  (void)ws;
  (void)ms;
}
void ws_port_timer_disarm(ws_info *ws) { (void)ws; }
void ws_port_random(uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)cg_random();
}
void ws_port_sha1(const uint8_t *data, size_t len, uint8_t *digest) { sha1(data, len, digest); }

static void pump(ws_info *ws) {
  while (st.sends_due > 0 && !st.closed) {
    st.sends_due--;
    ws_event_sent(ws);
  }
}

static size_t segment = SEGMENT;

static void feed(ws_info *ws, uint8_t *data, size_t len) {
  for (size_t off = 0; off < len && !st.closed; off += segment) {
    size_t n = len - off < segment ? len - off : segment;
    ws_event_received(ws, data + off, n);
    pump(ws);
  }
}

/* TCP is up at once; the request goes out as the sends complete. */
static int tcp_connected(ws_info *ws) {
  ws_event_connected(ws);
  pump(ws);
  return 0;
}

/* Harnesses that read a cycle counter instead of running under callgrind
 * (tools/callgrind/lx106_bench.c) define these around the measured call. */
#ifndef CG_REGION_BEGIN
#define CG_REGION_BEGIN() ((void)0)
#endif
#ifndef CG_REGION_END
#define CG_REGION_END() ((void)0)
#endif

/* The measured region. */
__attribute__((noinline)) void run_workload(ws_info *ws, uint8_t *data, size_t len, int sends,
                                            const uint8_t *payload, size_t plen) {
  if (data) feed(ws, data, len);
  for (int i = 0; i < sends; i++) {
    if (ws_send_long(ws, 2, (const char *)payload, plen) != 0) cg.bad++;
    pump(ws);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <workload>\n", argv[0]);
    return 2;
  }
  static ws_info ws;
  size_t live0 = heap_live;
  int rc = cg_open(&ws, tcp_connected, feed);
  if (rc != 0) {
    fprintf(stderr, "cg_bench: opening failed (%d, status %d)\n", rc, cg.failure);
    return 1;
  }
  const char *w = argv[1];
  size_t idle = heap_live - live0;
  if (strcmp(w, "idle") == 0) {
    printf("idle_heap=%zu sizeof(ws_info)=%zu\n", idle, sizeof(ws_info));
    return 0;
  }
  unsigned long long want_msgs = 0, want_bytes = 0;
  if (strncmp(w, "send_", 5) == 0) {
    size_t plen;
    uint8_t *payload = cg_send_payload(w, 65536, &plen);
    if (!payload) return plen ? 1 : 2;
    const int sends = 10000;
    CG_REGION_BEGIN();
    run_workload(&ws, NULL, 0, sends, payload, plen);
    CG_REGION_END();
    free(payload);
    printf("messages=%d bytes=%llu\n", sends, (unsigned long long)sends * plen);
    if (cg.failed || cg.bad) {
      fprintf(stderr, "cg_bench: send failed (status %d, %llu errors)\n", cg.failure, cg.bad);
      return 1;
    }
    return 0;
  }
  size_t len = 0;
  uint8_t *data = cg_receive_data("cg_bench", w, &len, &segment, &want_msgs, &want_bytes);
  if (!data) return 2;
  unsigned long long m0 = cg.messages, b0 = cg.bytes;
  size_t allocs0 = heap_allocs, base = heap_live;
  heap_peak = base;
  CG_REGION_BEGIN();
  run_workload(&ws, data, len, 0, NULL, 0);
  CG_REGION_END();
  free(data);
  printf("messages=%llu bytes=%llu allocs=%zu peak_above_idle=%zu\n", cg.messages - m0,
         cg.bytes - b0, heap_allocs - allocs0, heap_peak - base);
  if (cg_check_received("cg_bench", m0, b0, want_msgs, want_bytes)) return 1;
  ws_close(&ws);
  pump(&ws);
  return 0;
}
