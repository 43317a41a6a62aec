/* Minimal firmware image for the footprint measurement: it calls every
 * entry point of include/websocketclient.h (the original API and what the
 * NodeMCU glue uses) and, as any port must, the event entry points, so that --gc-sections keeps exactly what a device
 * image keeps. The port functions and malloc/realloc/free are stubs; the
 * heap lives at a linker-defined address so it adds nothing to .bss. */
#include <stddef.h>
#include <stdint.h>

#include "websocketclient.h"

/* ---- allocator stubs: bump allocation with a size header ---- */
extern unsigned char __heap_start[];
static size_t heap_top;

void *malloc(size_t n) {
  size_t at = (heap_top + 7u) & ~(size_t)7u;
  heap_top = at + 8u + n;
  size_t *p = (size_t *)(void *)(__heap_start + at);
  p[0] = n;
  return __heap_start + at + 8u;
}

void free(void *p) { (void)p; }

void *realloc(void *p, size_t n) {
  unsigned char *q = malloc(n);
  if (p) {
    size_t old = ((size_t *)p)[-2];
    const unsigned char *s = p;
    for (size_t i = 0; i < old && i < n; i++) q[i] = s[i];
  }
  return q;
}

#ifdef PLATFORM_MEM
/* The device's C library / ROM provides these; defining them here (tiny byte
 * loops) keeps the archive's weak compiler_builtins versions out of the image,
 * so the variant measures the library's own code. */
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}
void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if (dp < sp) {
    while (n--) *dp++ = *sp++;
  } else {
    while (n--) dp[n] = sp[n];
  }
  return d;
}
void *memset(void *d, int c, size_t n) {
  unsigned char *dp = d;
  while (n--) *dp++ = (unsigned char)c;
  return d;
}
int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}
#ifdef __ARM_EABI__
/* The ARM run-time ABI names the Rust code calls (newlib provides them). */
void __aeabi_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy4(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memcpy8(void *d, const void *s, size_t n) { memcpy(d, s, n); }
void __aeabi_memmove(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove4(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memmove8(void *d, const void *s, size_t n) { memmove(d, s, n); }
void __aeabi_memset(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset4(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memset8(void *d, size_t n, int c) { memset(d, c, n); }
void __aeabi_memclr(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr4(void *d, size_t n) { memset(d, 0, n); }
void __aeabi_memclr8(void *d, size_t n) { memset(d, 0, n); }
#endif
#endif

/* ---- port stubs ---- */
static volatile int port_result;
int ws_port_resolve(ws_info *ws, const char *host) {
  (void)ws;
  (void)host;
  return port_result;
}
int ws_port_connect(ws_info *ws, uint16_t port, int secure) {
  (void)ws;
  (void)port;
  (void)secure;
  return port_result;
}
int ws_port_send(ws_info *ws, const uint8_t *data, uint16_t len) {
  (void)ws;
  (void)data;
  (void)len;
  return port_result;
}
void ws_port_close(ws_info *ws) { (void)ws; }
void ws_port_timer_arm(ws_info *ws, uint32_t ms) {
  (void)ws;
  (void)ms;
}
void ws_port_timer_disarm(ws_info *ws) { (void)ws; }
void ws_port_random(uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)port_result;
}
void ws_port_sha1(const uint8_t *data, size_t len, uint8_t *digest) {
  for (size_t i = 0; i < 20; i++) digest[i] = (uint8_t)(port_result + (i < len ? data[i] : 0));
}

/* ---- callbacks ---- */
static volatile int sink;
void on_connection(ws_info *ws) {
  (void)ws;
  sink = 1;
}
void on_receive(ws_info *ws, int len, char *message, int op) {
  (void)ws;
  sink = len + op + message[0];
}
void on_failure(ws_info *ws, int status) {
  (void)ws;
  sink = status;
}

uint8_t *volatile rx;
volatile size_t rx_len;

#ifdef BASELINE
/* Stubs only (kept by the linker's --undefined roots): what the image adds
 * around the library. */
void _start(void) {
  for (;;) {
  }
}
#else
void _start(void) {
  ws_info ws;
  ws.extraHeaders = 0;
  ws.reservedData = 0;
  ws.onConnection = on_connection;
  ws.onReceive = on_receive;
  ws.onFailure = on_failure;
  ws.connectionState = 0;
  /* Every entry point of the header: the original API (ws_connect, ws_send,
   * ws_close: what the firmware's unchanged Lua module calls) and everything
   * nodemcu-glue/websocket.c calls (ws_options_init, ws_connect_with,
   * ws_send_long, ws_close_with, ws_protocol, ws_release). */
  struct ws_options opts;
  ws_options_init(&opts);
  if (port_result)
    ws_connect_with(&ws, "ws://example.com/", &opts);
  else
    ws_connect(&ws, "ws://example.com/");
  /* what the port's event loop does */
  ws_event_resolved(&ws, 1);
  ws_event_connected(&ws);
  ws_event_received(&ws, rx, rx_len);
  ws_event_sent(&ws);
  ws_event_timer(&ws);
  sink = ws_protocol(&ws) != 0;
  ws_send(&ws, 1, "hello", 5);
  sink = ws_send_long(&ws, 2, "hello", 5);
  if (port_result)
    ws_close_with(&ws, 1000, "bye", 3);
  else
    ws_close(&ws);
  ws_event_disconnected(&ws, 0);
  ws_release(&ws);
  for (;;) {
  }
}
#endif
