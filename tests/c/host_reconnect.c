/*
 * host_reconnect.c - automatic reconnection through the C API
 * (ws_options.reconnect_initial_ms / reconnect_max_ms) on the espconn port
 * and the fake SDK, against the real echo server:
 *
 *   host_reconnect ws://127.0.0.1:<echo>/ ws://127.0.0.1:<raw>/t/<id>
 *
 *   1. <echo>/close/4000 (the server echoes one message, then closes with
 *      4000): onClose with -6 and connectionState 5 after each of three
 *      connections, each of which opened and echoed; ws_close inside the
 *      third onClose ends it with a nested onClose (status 0, state 4).
 *   2. a local port where nothing listens: three refused attempts (-109,
 *      state 5), then ws_close from the event loop during the wait: one
 *      onClose with 0, state 4, no further attempt.
 *
 * The ws_info starts as NodeMCU's Lua binding leaves it (garbage but the
 * caller's fields, port included). After each part the heap is back where
 * it was (exact). Prints "PASS host_reconnect" or FAIL lines.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "websocket/websocketclient.h"
#include "lua_ws_info.h"
#include "fake_sdk.h"
#include "../../nodemcu-glue/host/tests/testkit.h"

static struct {
  int opened, echoed, ends, close_after;
  int status[8], state[8];
} S;

static void on_connection(ws_info *ws) {
  static const char msg[] = "hello";
  S.opened++;
  ws_send_long(ws, 1, msg, sizeof msg - 1);
}

static void on_receive(ws_info *ws, int len, char *message, int opcode) {
  (void)ws;
  (void)opcode;
  if (len == 5 && memcmp(message, "hello", 5) == 0) {
    S.echoed++;
  }
}

static void on_failure(ws_info *ws, int status) {
  (void)ws;
  CHECK(0, "onFailure(%d) although onClose is set", status);
}

static void on_close(ws_info *ws, int status, int code, const char *reason, int reason_len) {
  int i = S.ends++;
  (void)reason;
  (void)reason_len;
  if (i < 8) {
    S.status[i] = status;
    S.state[i] = ws->connectionState;
  }
  if (status != 0 && code >= 0) {
    CHECK(code == 4000, "close code %d", code);
  }
  if (S.close_after > 0 && S.ends == S.close_after) {
    ws_close(ws); /* nested onClose with status 0 */
  }
}

static int ended(void *arg) {
  return S.ends >= *(int *)arg;
}

static void setup(ws_info *ws, ws_options *o) {
  memset(&S, 0, sizeof S);
  lua_ws_info(ws, NULL, on_connection, on_receive, on_failure);
  ws_options_init(o);
  o->onClose = on_close;
  o->reconnect_initial_ms = 20;
  o->reconnect_max_ms = 80;
}

int main(int argc, char **argv) {
  ws_info ws;
  ws_options o;
  char url[300];
  size_t heap0 = fake_sdk_heap_live();
  int want, i, port = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    printf("usage: host_reconnect <echo base url>\n");
    return 2;
  }

  /* 1. The server closes each connection after one echo. */
  setup(&ws, &o);
  S.close_after = 3;
  snprintf(url, sizeof url, "%sclose/4000", argv[1]);
  ws_connect_with(&ws, url, &o);
  want = 4;
  CHECK(fake_sdk_run_until(ended, &want, 20000) == 0, "part 1 ended (%d onClose)", S.ends);
  CHECK(S.ends == 4, "four onClose calls, got %d", S.ends);
  CHECK(S.opened == 3 && S.echoed == 3, "three connections opened (%d) and echoed (%d)", S.opened,
        S.echoed);
  for (i = 0; i < 3; i++) {
    CHECK(S.status[i] == -6 && S.state[i] == 5, "end %d: status %d state %d (want -6, 5)", i,
          S.status[i], S.state[i]);
  }
  CHECK(S.status[3] == 0 && S.state[3] == 4, "ws_close: status %d state %d (want 0, 4)",
        S.status[3], S.state[3]);
  fake_sdk_run_until(NULL, NULL, 300); /* no further attempt; the port frees its state */
  CHECK(S.opened == 3 && S.ends == 4, "nothing after ws_close (%d opened, %d ends)", S.opened,
        S.ends);
  CHECK(ws.connectionState == 4, "state %d", ws.connectionState);
  CHECK(fake_sdk_heap_live() == heap0, "heap after part 1: %zu, before %zu", fake_sdk_heap_live(),
        heap0);

  /* 2. Nothing listens: refused attempts until ws_close during a wait. */
  int fd = loopback_socket(0, &port); /* bound, not listening: refused */
  CHECK(fd >= 0, "a local port");
  setup(&ws, &o);
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  ws_connect_with(&ws, url, &o);
  want = 3;
  CHECK(fake_sdk_run_until(ended, &want, 20000) == 0, "part 2: three attempts (%d)", S.ends);
  CHECK(ws.connectionState == 5, "waiting, state %d", ws.connectionState);
  ws_close(&ws);
  CHECK(S.ends == 4, "ws_close during the wait: one onClose (%d)", S.ends);
  for (i = 0; i < 3; i++) {
    CHECK(S.status[i] == -109 && S.state[i] == 5, "attempt %d: status %d state %d (want -109, 5)",
          i, S.status[i], S.state[i]);
  }
  CHECK(S.status[3] == 0 && S.state[3] == 4, "ws_close: status %d state %d", S.status[3],
        S.state[3]);
  fake_sdk_run_until(NULL, NULL, 300);
  CHECK(S.ends == 4 && S.opened == 0, "nothing after ws_close (%d ends)", S.ends);
  CHECK(fake_sdk_heap_live() == heap0, "heap after part 2: %zu, before %zu", fake_sdk_heap_live(),
        heap0);
  close(fd);

  printf("%d checks passed, %d failed\n", passed, failed);
  if (failed == 0) {
    printf("PASS host_reconnect\n");
  }
  return failed == 0 ? 0 : 1;
}
