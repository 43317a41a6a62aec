/*
 * host_wss_burst.c - the C API over wss:// through the espconn port on the
 * fake SDK: 1000 messages sent with ws_send from inside onConnection (in one
 * go), all echoed in order by the TLS echo server, then ws_close -> status 0.
 * NodeMCU's TLS send takes one write at a time (ESPCONN_INPROGRESS until the
 * sent callback); the port keeps one chunk in flight and the library queues
 * the rest. Also checks that all heap comes back.
 *
 *   host_wss_burst [ignored]   (the TLS echo server is $WS_ECHO_TLS)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/websocketclient.h"
#include "fake_sdk.h"

#define N 1000

static int received, finished, status = 1;
static size_t bytes;

static void fail(const char *what, int a, int b) {
  printf("FAIL host_wss_burst: %s (%d, %d)\n", what, a, b);
  fflush(stdout);
  exit(1);
}

/* Message i (1-based): a numbered prefix and i % 300 filler bytes. */
static int message(int i, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "c tls burst %04d ", i);
  int k;
  for (k = 0; k < i % 300 && (size_t)(n + k) < cap; k++) {
    buf[n + k] = (char)('a' + i % 26);
  }
  return n + k;
}

static void on_connection(ws_info *ws) {
  char buf[400];
  int i;
  for (i = 1; i <= N; i++) {
    int len = message(i, buf, sizeof buf);
    ws_send(ws, (i % 2) + 1, buf, (unsigned short)len);
  }
  printf("queued %d messages\n", N);
}

static void on_receive(ws_info *ws, int len, char *msg, int opcode) {
  char want[400];
  int wlen;
  received++;
  wlen = message(received, want, sizeof want);
  if (len != wlen || memcmp(msg, want, (size_t)len) != 0) {
    fail("message out of order or changed", received, len);
  }
  if (opcode != (received % 2) + 1) {
    fail("opcode", received, opcode);
  }
  bytes += (size_t)len;
  if (received == N) {
    ws_close(ws);
  }
}

static void on_failure(ws_info *ws, int st) {
  (void)ws;
  status = st;
  finished = 1;
}

static int is_finished(void *arg) {
  (void)arg;
  return finished;
}

int main(int argc, char **argv) {
  const char *tls = getenv("WS_ECHO_TLS");
  char url[256];
  ws_info *ws;
  size_t heap0;
  int rc;
  (void)argc;
  (void)argv;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (tls == NULL) {
    fail("WS_ECHO_TLS not set", 0, 0);
  }
  snprintf(url, sizeof url, "%s/", tls);
  heap0 = fake_sdk_heap_live();
  ws = malloc(sizeof *ws);
  if (ws == NULL) {
    return 2;
  }
  memset(ws, 0, sizeof *ws);
  ws->onConnection = on_connection;
  ws->onReceive = on_receive;
  ws->onFailure = on_failure;
  ws_connect(ws, url);
  rc = fake_sdk_run_until(is_finished, NULL, 30000);
  if (rc != 0) {
    fail("no final callback", rc, received);
  }
  if (status != 0 || received != N) {
    fail("status / messages", status, received);
  }
  fake_sdk_run_until(NULL, NULL, 5000); /* let the port free its state */
  free(ws);
  if (fake_sdk_heap_live() != heap0) {
    fail("heap not returned", (int)fake_sdk_heap_live(), (int)heap0);
  }
  printf("%d messages, %zu bytes echoed over TLS in order, status 0\n", received, bytes);
  printf("PASS host_wss_burst\n");
  return 0;
}
