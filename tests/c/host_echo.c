/*
 * host_echo.c - the C API (ws_info, callbacks, ws_connect, ws_send,
 * ws_send_long, ws_close) through the espconn port on the fake SDK, against
 * the real echo server and the raw test peer.
 *
 *   host_echo ws://127.0.0.1:<echo>/ ws://127.0.0.1:<raw>/t/<id>
 *
 * Steps (each next connection is started from the previous onFailure, i.e.
 * the same ws_info is reused from inside its own failure callback):
 *   1 echo: text, binary with every byte value, 60 000 bytes with ws_send,
 *     100 000 bytes with ws_send_long; then user close -> status 0
 *   2 echo /close/4000: server close after the first echo -> status -6
 *   3 raw fragping: fragments joined, pongs checked by the peer -> user close 0
 *   4 bad scheme -> -1 reported from inside ws_connect
 *   5 echo: ws_close right after the connection event, twice -> 0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/websocketclient.h"
#include "lua_ws_info.h"
#include "fake_sdk.h"

#define BIG 100000

static const char *echo_url;
static const char *raw_url;
static char url_buf[512];

typedef struct {
  int step;
  int sent;     /* messages sent in this step */
  int received; /* messages received in this step */
  int connected;
  int finished;
  char *big;
} state_t;

static void fail(const char *what, int a, int b) {
  printf("FAIL host_echo: %s (%d, %d)\n", what, a, b);
  fflush(stdout);
  exit(1);
}

static const char *join(const char *base, const char *path) {
  snprintf(url_buf, sizeof url_buf, "%s%s", base, path);
  return url_buf;
}

static void on_connection(ws_info *ws);
static void on_receive(ws_info *ws, int len, char *message, int opcode);
static void on_failure(ws_info *ws, int status);

static void start(ws_info *ws, const char *url) {
  state_t *st = (state_t *)ws->reservedData;
  st->sent = st->received = st->connected = 0;
  printf("step %d: connect %s\n", st->step, url);
  ws_connect(ws, url);
}

/* The message expected for reply number `n` of step 1. */
static void expected(state_t *st, int n, const char **data, int *len, int *opcode) {
  static char all[256];
  int i;
  for (i = 0; i < 256; i++) {
    all[i] = (char)i;
  }
  switch (n) {
  case 0: *data = "hello from C"; *len = 12; *opcode = 1; break;
  case 1: *data = all; *len = 256; *opcode = 2; break;
  case 2: *data = st->big; *len = 60000; *opcode = 1; break;
  default: *data = st->big; *len = BIG; *opcode = 2; break;
  }
}

static void send_step1(ws_info *ws, state_t *st) {
  const char *data;
  int len, opcode;
  expected(st, st->sent, &data, &len, &opcode);
  if (len <= 65535) {
    ws_send(ws, opcode, data, (unsigned short)len);
  } else {
    int rc = ws_send_long(ws, opcode, data, (size_t)len);
    if (rc != 0) {
      fail("ws_send_long", rc, 0);
    }
  }
  printf("step 1: sent %d bytes, opcode %d\n", len, opcode);
  st->sent++;
}

static void on_connection(ws_info *ws) {
  state_t *st = (state_t *)ws->reservedData;
  st->connected = 1;
  printf("step %d: connected (state %d)\n", st->step, ws->connectionState);
  if (ws->connectionState != 3) {
    fail("connectionState in onConnection", ws->connectionState, 3);
  }
  switch (st->step) {
  case 1: send_step1(ws, st); break;
  case 2: ws_send(ws, 1, "x", 1); break;
  case 5:
    ws_close(ws);
    ws_close(ws);
    break;
  default: break;
  }
}

static void on_receive(ws_info *ws, int len, char *message, int opcode) {
  state_t *st = (state_t *)ws->reservedData;
  printf("step %d: received %d bytes, opcode %d\n", st->step, len, opcode);
  if (message[len] != '\0') {
    fail("message not NUL-terminated", len, 0);
  }
  if (st->step == 1) {
    const char *data;
    int want, wop;
    expected(st, st->received, &data, &want, &wop);
    if (len != want || opcode != wop || memcmp(message, data, (size_t)len) != 0) {
      fail("step 1 echo differs (len, reply#)", len, st->received);
    }
    st->received++;
    if (st->received < 4) {
      send_step1(ws, st);
    } else {
      ws_close(ws);
    }
  } else if (st->step == 2) {
    if (len != 1 || message[0] != 'x' || opcode != 1) {
      fail("step 2 echo", len, opcode);
    }
    st->received++;
  } else if (st->step == 3) {
    const char *want = st->received == 0 ? "frag1-frag2-end" : "pong-ok";
    if ((size_t)len != strlen(want) || strcmp(message, want) != 0 || opcode != 1) {
      printf("  got '%s'\n", message);
      fail("step 3 message", len, st->received);
    }
    if (++st->received == 2) {
      ws_close(ws);
    }
  } else {
    fail("unexpected message in step", st->step, len);
  }
}

static void on_failure(ws_info *ws, int status) {
  state_t *st = (state_t *)ws->reservedData;
  static const int want[] = {0, 0, -6, 0, -1, 0};
  printf("step %d: onFailure %d (state %d)\n", st->step, status, ws->connectionState);
  if (status != want[st->step]) {
    fail("status", status, want[st->step]);
  }
  switch (st->step) {
  case 1:
    if (st->received != 4) fail("step 1 replies", st->received, 4);
    st->step = 2;
    start(ws, join(echo_url, "close/4000"));
    break;
  case 2:
    if (st->received != 1) fail("step 2 replies", st->received, 1);
    st->step = 3;
    start(ws, join(raw_url, "/fragping"));
    break;
  case 3:
    if (st->received != 2) fail("step 3 replies", st->received, 2);
    printf("PEERCHECK fragping\n"); /* the raw peer's verdict on our pongs */
    st->step = 4;
    start(ws, "http://127.0.0.1/");
    /* -1 must have been reported synchronously from inside ws_connect. */
    if (st->step != 5) fail("bad scheme not reported at once", st->step, 5);
    start(ws, echo_url);
    break;
  case 4:
    if (st->connected) fail("bad scheme connected", 0, 0);
    st->step = 5;
    break;
  case 5:
    if (!st->connected) fail("step 5 never connected", 0, 0);
    st->finished = 1;
    break;
  default:
    fail("callback after the end", st->step, status);
  }
}

static int is_finished(void *arg) {
  return ((state_t *)arg)->finished;
}

int main(int argc, char **argv) {
  ws_info *ws;
  state_t st;
  int rc, i;

  if (argc < 3) {
    fprintf(stderr, "usage: %s ECHO_URL RAW_URL\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  echo_url = argv[1];
  raw_url = argv[2];
  memset(&st, 0, sizeof st);
  st.step = 1;
  st.big = malloc(BIG);
  if (st.big == NULL) {
    return 2;
  }
  for (i = 0; i < BIG; i++) {
    st.big[i] = (char)('!' + (i * 31) % 90); /* printable, valid UTF-8 */
  }

  /* Callers allocate ws_info themselves and do not zero it. */
  ws = malloc(sizeof *ws);
  if (ws == NULL) {
    return 2;
  }
  lua_ws_info(ws, &st, on_connection, on_receive, on_failure);

  ws_close(ws); /* state 0: nothing happens */
  start(ws, echo_url);
  rc = fake_sdk_run_until(is_finished, &st, 40000);
  if (rc != 0) {
    fail("event loop ended before the last step", rc, st.step);
  }
  /* Let the port finish its deferred disconnects before freeing. */
  fake_sdk_run();
  free(ws);
  free(st.big);
  printf("PASS host_echo\n");
  return 0;
}
