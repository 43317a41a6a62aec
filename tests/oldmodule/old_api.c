/*
 * old_api.c - a C caller written against the OLD websocketclient.h
 * semantics (the firmware's C client), built unchanged against
 * include/websocketclient.h and run on the glue port + fake SDK.
 *
 *   old_api ws://127.0.0.1:<echo>/ ws://127.0.0.1:<raw>/t/<id>
 *
 * It does what an old caller did and nothing more: allocates a ws_info
 * without zeroing it (filled with 0xA5 garbage here), sets connectionState,
 * extraHeaders, reservedData and the three callbacks, calls ws_connect,
 * ws_send (unsigned short length) and ws_close, and reads connectionState
 * with the old meanings: 1 resolving, 2 TCP connecting, 3 connected
 * (handshake, open phase, and a closing handshake the user started),
 * 4 torn down (set before onFailure). Like the old Lua module it reconnects
 * only when connectionState is 0 or 4, writing 0 first.
 *
 * Steps (each next one started from the previous onFailure):
 *   1 echo, dotted quad: state 2 after ws_connect, 3 in onConnection;
 *     text + binary echoed; ws_close -> state stays 3 until onFailure(0),
 *     which sees 4 (the reconnect guard refuses while closing)
 *   2 raw "headers", host name: state 1 after ws_connect; the extra
 *     header is in the request; ws_close -> 0
 *   3 bad scheme: onFailure(-1) from inside ws_connect
 *   4 echo /close/4000: server close after one echo -> -6, state 4
 *   5 ws_close in state 4 does nothing; no callback follows
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/websocketclient.h"
#include "fake_sdk.h"

typedef struct {
  int step;
  int received;
  int failures;
  int in_connect;
  int done;
} old_state;

static const char *echo_url, *raw_base;
static char url[512];
static char bin[300];
static header_t extra[] = {{"X-Old-Api", "yes"}, {NULL, NULL}};

static void fail(const char *what, long got, long want) {
  printf("FAIL old_api: %s (got %ld, want %ld)\n", what, got, want);
  fflush(stdout);
  exit(1);
}

static void check(const char *what, long got, long want) {
  if (got != want) fail(what, got, want);
  printf("ok %s = %ld\n", what, got);
}

/* The old module's connect: only from state 0 or 4, writing 0 first. */
static int old_connect(ws_info *ws, const char *u) {
  if (ws->connectionState != 0 && ws->connectionState != 4) return 0;
  ws->connectionState = 0;
  ((old_state *)ws->reservedData)->in_connect = 1;
  ws_connect(ws, u);
  ((old_state *)ws->reservedData)->in_connect = 0;
  return 1;
}

static void start_step(ws_info *ws);

static void on_connection(ws_info *ws) {
  old_state *st = (old_state *)ws->reservedData;
  printf("step %d: connected\n", st->step);
  check("state in onConnection", ws->connectionState, 3);
  if (st->step == 1) {
    ws_send(ws, 1, "old api", 7);
    ws_send(ws, 2, bin, (unsigned short)sizeof bin);
  } else if (st->step == 4) {
    ws_send(ws, 1, "x", 1);
  } else if (st->step != 2) {
    fail("unexpected connection in step", st->step, 0);
  }
}

static void on_receive(ws_info *ws, int len, char *message, int opCode) {
  old_state *st = (old_state *)ws->reservedData;
  st->received++;
  printf("step %d: received %d bytes, opcode %d\n", st->step, len, opCode);
  if (st->step == 1) {
    if (st->received == 1) {
      check("text length", len, 7);
      check("text opcode", opCode, 1);
      check("text content", memcmp(message, "old api", 7), 0);
      check("text NUL-terminated", message[len], 0);
      return;
    }
    check("binary length", len, (long)sizeof bin);
    check("binary opcode", opCode, 2);
    check("binary content", memcmp(message, bin, sizeof bin), 0);
    ws_close(ws);
    check("state right after ws_close (closing handshake running)", ws->connectionState, 3);
    check("reconnect guard while closing", old_connect(ws, echo_url), 0);
    ws_close(ws); /* a second close while closing changes nothing */
    check("state after a second ws_close", ws->connectionState, 3);
  } else if (st->step == 2) {
    check("headers: opcode", opCode, 1);
    check("headers: X-Old-Api sent", strstr(message, "\r\nX-Old-Api: yes\r\n") != NULL, 1);
    ws_close(ws);
  } else if (st->step == 4) {
    check("step 4 echo", len == 1 && message[0] == 'x', 1);
  } else {
    fail("unexpected message in step", st->step, 0);
  }
}

static void on_failure(ws_info *ws, int status) {
  old_state *st = (old_state *)ws->reservedData;
  st->failures++;
  printf("step %d: onFailure(%d), state %d\n", st->step, status, ws->connectionState);
  switch (st->step) {
  case 1:
    check("step 1 status", status, 0);
    check("step 1 messages", st->received, 2);
    check("state in onFailure", ws->connectionState, 4);
    break;
  case 2:
    check("step 2 status", status, 0);
    check("step 2 messages", st->received, 1);
    check("state in onFailure", ws->connectionState, 4);
    break;
  case 3:
    check("step 3 status", status, -1);
    check("step 3 reported from inside ws_connect", st->in_connect, 1);
    /* the old client left the state as the caller wrote it (0); the
     * library documents 4 for URL errors: both allow the next connect */
    check("state in onFailure after a URL error", ws->connectionState, 4);
    break;
  case 4:
    check("step 4 status", status, -6);
    check("step 4 messages", st->received, 1);
    check("state in onFailure", ws->connectionState, 4);
    break;
  default:
    fail("onFailure in step", st->step, 0);
  }
  st->step++;
  start_step(ws);
}

static void start_step(ws_info *ws) {
  old_state *st = (old_state *)ws->reservedData;
  st->received = 0;
  switch (st->step) {
  case 2: {
    /* the raw peer by host name: resolution is asynchronous */
    const char *port = strrchr(raw_base, ':');
    snprintf(url, sizeof url, "ws://localhost%s/headers", port);
    ws->extraHeaders = extra;
    printf("step 2: connect %s\n", url);
    check("step 2 connect accepted", old_connect(ws, url), 1);
    check("state after ws_connect to a host name", ws->connectionState, 1);
    break;
  }
  case 3:
    ws->extraHeaders = NULL;
    printf("step 3: connect ftp://127.0.0.1/\n");
    check("step 3 connect accepted", old_connect(ws, "ftp://127.0.0.1/"), 1);
    break;
  case 4:
    snprintf(url, sizeof url, "%sclose/4000", echo_url);
    printf("step 4: connect %s\n", url);
    check("step 4 connect accepted", old_connect(ws, url), 1);
    check("state after ws_connect to a dotted quad", ws->connectionState, 2);
    break;
  case 5:
    ws_close(ws);
    check("ws_close in state 4 leaves the state", ws->connectionState, 4);
    st->done = 1;
    break;
  }
}

static int finished(void *arg) {
  return ((old_state *)arg)->done;
}

static int never(void *arg) {
  (void)arg;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: old_api ws://127.0.0.1:<echo>/ ws://127.0.0.1:<raw>/t/<id>\n");
    return 2;
  }
  echo_url = argv[1];
  raw_base = argv[2];
  for (size_t i = 0; i < sizeof bin; i++) bin[i] = (char)(i * 7);

  old_state st = {1, 0, 0, 0, 0};
  ws_info *ws = malloc(sizeof(ws_info));
  if (ws == NULL) return 1;
  memset(ws, 0xA5, sizeof *ws); /* an old caller does not zero the struct */
  ws->connectionState = 0;
  ws->extraHeaders = NULL;
  ws->reservedData = &st;
  ws->onConnection = on_connection;
  ws->onReceive = on_receive;
  ws->onFailure = on_failure;

  printf("step 1: connect %s\n", echo_url);
  check("step 1 connect accepted", old_connect(ws, echo_url), 1);
  check("state after ws_connect to a dotted quad", ws->connectionState, 2);

  fake_sdk_run_until(finished, &st, 20000);
  if (!st.done) fail("steps finished within 20 s: reached step", st.step, 5);
  int failures = st.failures;
  /* nothing else may follow: let the loop run dry */
  fake_sdk_run_until(never, NULL, 300);
  check("no callback after the last step", st.failures, failures);
  free(ws);
  printf("PASS old_api\n");
  return 0;
}
