/* Instruction counts of the firmware's OLD C client per message, under
 * valgrind's callgrind, for the workloads of tools/callgrind/cg_bench.c (same
 * server bytes, tools/callgrind/workloads.h; same 1460-byte segments), so
 * that `make bench NODEMCU=<tree>` prints old and new side by side.
 *
 * The old client talks to espconn directly; here espconn is as trivial as
 * cg_bench's port: connect succeeds at once, every send is accepted
 * (recorded during the handshake, discarded afterwards), timers do nothing,
 * os_random is deterministic, a dotted-quad host resolves at once. The ROM's
 * SHA-1 is rom_sha1.c. Only run_workload() is measured
 * (--toggle-collect=run_workload): the client's receive callback per segment
 * (which re-arms its ping timer each time, two no-op calls), or ws_send.
 *
 * Every workload of cg_bench runs; the delivered messages are checked, so a
 * workload the old client gets wrong exits 1 (cg-compare.sh reports it) and
 * one it crashes on dies with its signal.
 *
 * usage: cg_old recv_16B_x100k | recv_16B_x100k_framed | recv_65531B | recv_64KiB |
 *        recv_64KiB_16frag | send_16B | send_1000B
 * prints messages=<n> bytes=<n>; exits 1 when the client delivered something
 * else than what was fed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/websocketclient.h"
#include "workloads.h"

#define SEGMENT 1460

static struct {
  int connected, failed, failure, closed;
  unsigned long long messages, bytes, bad;
  int capturing;
  char request[4096];
  size_t request_len;
  espconn_connect_callback on_connect, on_discon;
  espconn_recv_callback on_recv;
} st;

static uint64_t rng_state = 0x0123456789ABCDEFull;

/* ---------------- the trivial espconn / SDK ---------------- */
uint32 espconn_port(void) { return 50000; }
sint8 espconn_connect(struct espconn *c) { (void)c; return 0; }
sint8 espconn_secure_connect(struct espconn *c) { (void)c; return 0; }
sint8 espconn_send(struct espconn *c, uint8 *data, uint16 len) {
  (void)c;
  if (st.capturing && st.request_len + len < sizeof st.request) {
    memcpy(st.request + st.request_len, data, len);
    st.request_len += len;
  }
  return 0;
}
sint8 espconn_secure_send(struct espconn *c, uint8 *data, uint16 len) { return espconn_send(c, data, len); }
sint8 espconn_disconnect(struct espconn *c) { (void)c; st.closed = 1; return 0; }
sint8 espconn_secure_disconnect(struct espconn *c) { return espconn_disconnect(c); }
sint8 espconn_delete(struct espconn *c) { (void)c; return 0; }
sint8 espconn_regist_connectcb(struct espconn *c, espconn_connect_callback cb) { (void)c; st.on_connect = cb; return 0; }
sint8 espconn_regist_disconcb(struct espconn *c, espconn_connect_callback cb) { (void)c; st.on_discon = cb; return 0; }
sint8 espconn_regist_reconcb(struct espconn *c, espconn_reconnect_callback cb) { (void)c; (void)cb; return 0; }
sint8 espconn_regist_recvcb(struct espconn *c, espconn_recv_callback cb) { (void)c; st.on_recv = cb; return 0; }
sint8 espconn_regist_sentcb(struct espconn *c, espconn_sent_callback cb) { (void)c; (void)cb; return 0; }
err_t dns_gethostbyname(const char *host, ip_addr_t *addr, dns_found_callback cb, void *arg) {
  (void)cb;
  (void)arg;
  unsigned a, b, c, d;
  if (sscanf(host, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return ERR_ARG;
  addr->addr = a | b << 8 | c << 16 | d << 24;
  return ERR_OK;
}
void ets_timer_setfn(ETSTimer *t, ETSTimerFunc *fn, void *arg) { (void)t; (void)fn; (void)arg; }
void ets_timer_arm_new(ETSTimer *t, uint32_t time, bool rep, bool ms) { (void)t; (void)time; (void)rep; (void)ms; }
void ets_timer_disarm(ETSTimer *t) { (void)t; }
uint32_t os_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)rng_state;
}

/* ---------------- callbacks ---------------- */
static void on_connection(ws_info *ws) {
  (void)ws;
  st.connected = 1;
}
static void on_receive(ws_info *ws, int len, char *message, int op) {
  (void)ws;
  (void)message;
  st.messages++;
  st.bytes += (unsigned long long)len;
  if (op != 1 && op != 2) st.bad++;
}
static void on_failure(ws_info *ws, int status) {
  (void)ws;
  st.failed = 1;
  st.failure = status;
}

static size_t segment = SEGMENT;

static void feed(ws_info *ws, uint8_t *data, size_t len) {
  for (size_t off = 0; off < len && !st.closed; off += segment) {
    size_t n = len - off < segment ? len - off : segment;
    st.on_recv(ws->conn, (char *)data + off, (unsigned short)n);
  }
}

static int open_client(ws_info *ws) {
  memset(ws, 0, sizeof *ws);
  ws->onConnection = on_connection;
  ws->onReceive = on_receive;
  ws->onFailure = on_failure;
  st.capturing = 1;
  ws_connect(ws, "ws://127.0.0.1:8080/bench");
  if (st.failed || !st.on_connect) return -1;
  st.on_connect(ws->conn);
  st.capturing = 0;
  st.request[st.request_len] = '\0';
  const char *k = strstr(st.request, "Sec-WebSocket-Key: ");
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
  st.on_recv(ws->conn, resp, (unsigned short)n);
  if (!st.connected || ws->connectionState != 3) return -4;
  return 0;
}

__attribute__((noinline)) void run_workload(ws_info *ws, uint8_t *data, size_t len, int sends,
                                            const char *payload, unsigned short plen) {
  if (data) feed(ws, data, len);
  for (int i = 0; i < sends; i++) ws_send(ws, 2, payload, plen);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <workload>\n", argv[0]);
    return 2;
  }
  const char *w = argv[1];
  static ws_info ws;
  int rc = open_client(&ws);
  if (rc != 0) {
    fprintf(stderr, "cg_old: opening failed (%d, status %d)\n", rc, st.failure);
    return 1;
  }
  if (strncmp(w, "send_", 5) == 0) {
    int plen = atoi(w + 5);
    if (plen <= 0 || plen > 65535) return 2;
    char *payload = malloc((size_t)plen);
    if (!payload) return 1;
    for (int i = 0; i < plen; i++) payload[i] = (char)(i * 7 + 3);
    const int sends = 10000;
    run_workload(&ws, NULL, 0, sends, payload, (unsigned short)plen);
    free(payload);
    printf("messages=%d bytes=%llu\n", sends, (unsigned long long)sends * (unsigned)plen);
    return st.failed ? 1 : 0;
  }
  unsigned long long want_msgs = 0, want_bytes = 0;
  size_t len = 0;
  uint8_t *data = build(w, &len, &want_msgs, &want_bytes);
  segment = segment_of(w, SEGMENT);
  if (!data) {
    fprintf(stderr, "cg_old: unknown workload %s\n", w);
    return 2;
  }
  unsigned long long m0 = st.messages, b0 = st.bytes;
  run_workload(&ws, data, len, 0, NULL, 0);
  free(data);
  printf("messages=%llu bytes=%llu\n", st.messages - m0, st.bytes - b0);
  if (st.failed || st.bad || st.messages - m0 != want_msgs || st.bytes - b0 != want_bytes) {
    fprintf(stderr, "cg_old: expected %llu messages / %llu bytes (failure %d)\n", want_msgs,
            want_bytes, st.failure);
    return 1;
  }
  return 0;
}
