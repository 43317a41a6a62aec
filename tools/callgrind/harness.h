/* The harness that tools/callgrind/cg_bench.c (libwebsocket) and
 * tools/oldclient/cg_old.c (the firmware's old C client) share, so that both
 * are measured the same way: the callbacks that count what was delivered,
 * the capture of the opening request, the server's 101 answer to it (a
 * correct Sec-WebSocket-Accept, SHA-1 and base64 of workloads.h), the
 * deterministic random numbers, the payload of the send workloads and the
 * check of a receive workload's result.
 *
 * Include it after the client's header (either websocketclient.h: ws_info,
 * ws_connect and the callback signatures are the same in both) and after
 * workloads.h. What differs is each file's own: how bytes reach the client
 * (ws_event_received vs the espconn receive callback), how sends complete,
 * and what "connected" means to the transport. */
#ifndef CG_HARNESS_H
#define CG_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the client delivered through its callbacks, and the request it sent. */
static struct {
  int connected, failed, failure, capturing;
  unsigned long long messages, bytes, bad;
  char request[4096];
  size_t request_len;
} cg;

/* Records what the client sends while the handshake runs. */
static void cg_capture(const void *data, size_t len) {
  if (cg.capturing && cg.request_len + len < sizeof cg.request) {
    memcpy(cg.request + cg.request_len, data, len);
    cg.request_len += len;
  }
}

/* xorshift64: the same "random" bytes on every run. */
static uint64_t cg_rng_state = 0x0123456789ABCDEFull;
static inline uint64_t cg_random(void) {
  cg_rng_state ^= cg_rng_state << 13;
  cg_rng_state ^= cg_rng_state >> 7;
  cg_rng_state ^= cg_rng_state << 17;
  return cg_rng_state;
}

static void on_connection(ws_info *ws) {
  (void)ws;
  cg.connected = 1;
}
static void on_receive(ws_info *ws, int len, char *message, int op) {
  (void)ws;
  (void)message;
  cg.messages++;
  cg.bytes += (unsigned long long)len;
  if (op != 1 && op != 2) cg.bad++;
}
static void on_failure(ws_info *ws, int status) {
  (void)ws;
  cg.failed = 1;
  cg.failure = status;
  cg.connected = 0;
}

/* Opens the client on ws: ws_connect, then connected(ws) completes the
 * transport (the handshake request is captured meanwhile), then the server's
 * 101 answer is given to feed(). 0 when the client is open (state 3),
 * otherwise negative. */
static int cg_open(ws_info *ws, int (*connected)(ws_info *),
                   void (*feed)(ws_info *, uint8_t *, size_t)) {
  memset(ws, 0, sizeof *ws);
  ws->onConnection = on_connection;
  ws->onReceive = on_receive;
  ws->onFailure = on_failure;
  cg.capturing = 1;
  ws_connect(ws, "ws://127.0.0.1:8080/bench");
  if (cg.failed || connected(ws) != 0) return -1;
  cg.capturing = 0;
  cg.request[cg.request_len] = '\0';
  const char *k = strstr(cg.request, "Sec-WebSocket-Key: ");
  if (!k) return -2;
  k += strlen("Sec-WebSocket-Key: ");
  const char *end = strstr(k, "\r\n");
  if (!end || end - k > 64) return -3;
  char keyguid[128];
  size_t kl = (size_t)(end - k);
  memcpy(keyguid, k, kl);
  memcpy(keyguid + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
  uint8_t digest[20];
  sha1((const uint8_t *)keyguid, kl + 36, digest);
  char accept[32];
  base64(digest, 20, accept);
  char resp[512];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                   "Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
                   accept);
  feed(ws, (uint8_t *)resp, (size_t)n);
  if (!cg.connected || ws->connectionState != 3) return -4;
  return 0;
}

/* The payload of workload "send_<n>": n bytes (1..max) of a fixed pattern,
 * malloc'ed; NULL with *n = 0 for a bad size, NULL with *n > 0 without
 * memory. */
static uint8_t *cg_send_payload(const char *w, size_t max, size_t *n) {
  long v = atol(w + 5);
  *n = v > 0 && (size_t)v <= max ? (size_t)v : 0;
  if (*n == 0) return NULL;
  uint8_t *p = malloc(*n);
  for (size_t i = 0; p && i < *n; i++) p[i] = (uint8_t)(i * 7 + 3);
  return p;
}

/* The server bytes of receive workload w (workloads.h) and the segment size
 * it is cut into; NULL, with a line on stderr, for an unknown name. */
static uint8_t *cg_receive_data(const char *prog, const char *w, size_t *len, size_t *segment,
                                unsigned long long *want_msgs, unsigned long long *want_bytes) {
  uint8_t *data = build(w, len, want_msgs, want_bytes);
  *segment = segment_of(w, *segment);
  if (!data) fprintf(stderr, "%s: unknown workload %s\n", prog, w);
  return data;
}

/* After a receive workload: 0 when exactly the messages and bytes that were
 * fed arrived (counted from m0/b0) and nothing failed, else 1 with a line on
 * stderr. */
static int cg_check_received(const char *prog, unsigned long long m0, unsigned long long b0,
                             unsigned long long want_msgs, unsigned long long want_bytes) {
  if (cg.failed || cg.bad || cg.messages - m0 != want_msgs || cg.bytes - b0 != want_bytes) {
    fprintf(stderr, "%s: expected %llu messages / %llu bytes (failure %d)\n", prog, want_msgs,
            want_bytes, cg.failure);
    return 1;
  }
  return 0;
}

#endif
