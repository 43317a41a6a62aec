/* Instruction counts of the firmware's OLD C client per message, under
 * valgrind's callgrind, for the workloads of tools/callgrind/cg_bench.c (same
 * server bytes, tools/callgrind/workloads.h; same 1460-byte segments), so
 * that `make bench NODEMCU=<tree>` prints old and new side by side.
 *
 * The old client talks to espconn directly; here espconn is as trivial as
 * cg_bench's port: connect succeeds at once, every send is accepted
 * (recorded during the handshake, discarded afterwards), timers do nothing,
 * os_random is deterministic, a dotted-quad host resolves at once. The ROM's
 * SHA-1 is the fake SDK's (nodemcu-glue/host/fake/rom.c). The callbacks,
 * the handshake answer and the checks are tools/callgrind/harness.h's, the
 * same as cg_bench's. Only run_workload() is measured
 * (--toggle-collect=run_workload): the client's receive callback per
 * segment (which re-arms its ping timer each time, two no-op calls), or
 * ws_send.
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

#include "harness.h"

#define SEGMENT 1460

static struct {
  int closed;
  espconn_connect_callback on_connect, on_discon;
  espconn_recv_callback on_recv;
} st;

/* ---------------- the trivial espconn / SDK ---------------- */
uint32 espconn_port(void) { return 50000; }
sint8 espconn_connect(struct espconn *c) { (void)c; return 0; }
sint8 espconn_secure_connect(struct espconn *c) { (void)c; return 0; }
sint8 espconn_send(struct espconn *c, uint8 *data, uint16 len) {
  (void)c;
  cg_capture(data, len);
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
uint32_t os_random(void) { return (uint32_t)cg_random(); }

static size_t segment = SEGMENT;

static void feed(ws_info *ws, uint8_t *data, size_t len) {
  for (size_t off = 0; off < len && !st.closed; off += segment) {
    size_t n = len - off < segment ? len - off : segment;
    st.on_recv(ws->conn, (char *)data + off, (unsigned short)n);
  }
}

/* espconn's connect callback: the client sends its request from it. */
static int tcp_connected(ws_info *ws) {
  if (!st.on_connect) return -1;
  st.on_connect(ws->conn);
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
  int rc = cg_open(&ws, tcp_connected, feed);
  if (rc != 0) {
    fprintf(stderr, "cg_old: opening failed (%d, status %d)\n", rc, cg.failure);
    return 1;
  }
  if (strncmp(w, "send_", 5) == 0) {
    size_t plen;
    uint8_t *payload = cg_send_payload(w, 65535, &plen);
    if (!payload) return plen ? 1 : 2;
    const int sends = 10000;
    run_workload(&ws, NULL, 0, sends, (const char *)payload, (unsigned short)plen);
    free(payload);
    printf("messages=%d bytes=%llu\n", sends, (unsigned long long)sends * plen);
    return cg.failed ? 1 : 0;
  }
  unsigned long long want_msgs = 0, want_bytes = 0;
  size_t len = 0;
  uint8_t *data = cg_receive_data("cg_old", w, &len, &segment, &want_msgs, &want_bytes);
  if (!data) return 2;
  unsigned long long m0 = cg.messages, b0 = cg.bytes;
  run_workload(&ws, data, len, 0, NULL, 0);
  free(data);
  printf("messages=%llu bytes=%llu\n", cg.messages - m0, cg.bytes - b0);
  return cg_check_received("cg_old", m0, b0, want_msgs, want_bytes);
}
