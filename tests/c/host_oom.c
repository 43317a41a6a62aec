/*
 * host_oom.c - every out-of-memory status through the C API (ws_connect,
 * ws_connect_with, ws_send_long) and the espconn port on the fake SDK, with
 * the device heap limit of fake/heap.c (fake_sdk_heap_set_limit: what the
 * library, the port and espconn allocate fail beyond it), against the real
 * echo server and the raw test peer. The same steps as tests/lua/oom.lua,
 * without the Lua module:
 *
 *   host_oom ws://127.0.0.1:<echo>/ ws://127.0.0.1:<raw>/t/<id>
 *
 *   -8   raw toobig-50000: a 50 000-byte message in TCP segments under a
 *        40 KB limit
 *   -9   raw pingflood, 40-byte segments (fake_sdk_set_segment): from
 *        onConnection on 100 bytes left, room for a pbuf, not for the
 *        125-byte ping buffer
 *   -10  (1) ws_connect with the limit at the heap in use + 0, 8, 16, ...
 *        bytes: each allocation of ws_connect fails in turn, reported from
 *        inside ws_connect; (2) the copy of the server's chosen protocol
 *        (raw proto-<name>): the limit one byte below the handshake's peak
 *        until the copy fails, after ws_connect returned
 *   -16  ws_send_long of as many bytes as are free (returns -16, onFailure
 *        already ran), and the pong of a ping with 100 bytes left
 *
 * After each: the device heap back to its level before the connect (exact),
 * and the same ws_info connects to the echo server and exchanges a message
 * (status 0, heap back again). Prints "PASS host_oom" or FAIL lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocket/websocketclient.h"
#include "lua_ws_info.h"
#include "fake_sdk.h"

#define LIMIT 40960
#define PROTO "oom.protocol-name-long-enough-to-need-its-own-block-0123456789"

static int failures;
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      printf("FAIL host_oom:%d: ", __LINE__);                                  \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

static const char *echo_url;
static char raw_host[256]; /* ws://127.0.0.1:<port> */
static char raw_url[512];  /* ws://127.0.0.1:<port>/t/<id> */

/* What one connection saw, and what its callbacks are to do. */
static struct {
  int ended, status, connected, received, in_connect, ended_in_connect;
  size_t slack_on_connect; /* > 0: limit := device heap + this, in onConnection */
  int send_free;           /* ws_send_long of all free bytes in onConnection */
  int send_rc, ended_in_send;
  int close_on_connect;
  size_t peak; /* device heap peak seen in onConnection */
  const char *echo;
  char proto[128];
} S;

static void on_connection(ws_info *ws) {
  S.connected = 1;
  if (S.slack_on_connect > 0)
    fake_sdk_heap_set_limit(fake_sdk_heap_device_live() + S.slack_on_connect);
  if (S.send_free) {
    static char big[LIMIT]; /* not on the heap: only the library's copy counts */
    size_t free_bytes = LIMIT - fake_sdk_heap_device_live();
    S.ended_in_send = -1;
    S.send_rc = ws_send_long(ws, 2, big, free_bytes);
    S.ended_in_send = S.ended;
  }
  if (S.close_on_connect) {
    const char *p = ws_protocol(ws);
    snprintf(S.proto, sizeof S.proto, "%s", p ? p : "");
    S.peak = fake_sdk_heap_device_peak();
    ws_close(ws);
  }
  if (S.echo)
    ws_send(ws, 1, S.echo, (unsigned short)strlen(S.echo));
}

static void on_receive(ws_info *ws, int len, char *message, int opcode) {
  (void)opcode;
  if (S.echo != NULL && (size_t)len == strlen(S.echo) && memcmp(message, S.echo, (size_t)len) == 0)
    S.received++;
  else
    CHECK(0, "unexpected message of %d bytes", len);
  ws_close(ws);
}

static void on_failure(ws_info *ws, int status) {
  (void)ws;
  S.ended++;
  S.status = status;
  S.ended_in_connect = S.in_connect;
  fake_sdk_heap_set_limit(LIMIT);
}

static int is_ended(void *arg) {
  (void)arg;
  return S.ended > 0;
}

static int heap_is(void *arg) { return fake_sdk_heap_device_live() == *(size_t *)arg; }

static void reset(void) {
  memset(&S, 0, sizeof S);
}

static void connect_with(ws_info *ws, const char *url, const char *protocols) {
  ws_options o;
  ws_options_init(&o);
  if (protocols != NULL)
    o.protocols = protocols;
  S.in_connect = 1;
  ws_connect_with(ws, url, &o);
  S.in_connect = 0;
}

static void run_to_end(const char *what) {
  int rc = fake_sdk_run_until(is_ended, NULL, 20000);
  CHECK(rc == 0, "%s: the connection did not end (%d)", what, rc);
}

/* The device heap back to `base` (the port frees its state a loop turn after
 * espconn's final callback), then one echo exchange on the same ws_info. */
static void settle_and_reuse(ws_info *ws, size_t base, const char *what) {
  fake_sdk_heap_set_limit(LIMIT);
  fake_sdk_run_until(heap_is, &base, 3000);
  CHECK(fake_sdk_heap_device_live() == base, "%s: device heap %zu after the end, %zu before",
        what, fake_sdk_heap_device_live(), base);
  reset();
  S.echo = "after out of memory";
  connect_with(ws, echo_url, NULL);
  run_to_end(what);
  CHECK(S.status == 0 && S.received == 1, "%s: reuse: status %d, %d echo(es)", what, S.status,
        S.received);
  fake_sdk_run_until(heap_is, &base, 3000);
  CHECK(fake_sdk_heap_device_live() == base, "%s: reuse: device heap %zu, %zu before", what,
        fake_sdk_heap_device_live(), base);
  printf("%s: ok, heap back to %zu, reused\n", what, base);
}

static void expect_end(const char *what, int status, size_t want_last_min, size_t want_last_max,
                       unsigned long refused0) {
  size_t last = 0;
  unsigned long refused = fake_sdk_heap_refused(&last);
  printf("%s: status %d, %lu refused, last asked %zu bytes\n", what, S.status,
         refused - refused0, last);
  CHECK(S.status == status, "%s: status %d, want %d", what, S.status, status);
  CHECK(refused > refused0, "%s: nothing refused", what);
  CHECK(last >= want_last_min && last <= want_last_max, "%s: last refused %zu, want %zu..%zu",
        what, last, want_last_min, want_last_max);
}

/* One connection to `url` that must end for want of memory (slack > 0: the
 * limit set that far above the device heap once connected); returns the
 * device heap before it, for settle_and_reuse. */
static size_t expect_oom_end(ws_info *ws, const char *url, size_t slack, const char *what,
                             int status, size_t want_last_min, size_t want_last_max) {
  size_t base = fake_sdk_heap_device_live();
  unsigned long r0 = fake_sdk_heap_refused(NULL);
  reset();
  S.slack_on_connect = slack;
  connect_with(ws, url, NULL);
  run_to_end(what);
  CHECK(S.connected, "%s: never connected", what);
  expect_end(what, status, want_last_min, want_last_max, r0);
  return base;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s ECHO_URL RAW_URL\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  echo_url = argv[1];
  snprintf(raw_url, sizeof raw_url, "%s", argv[2]);
  snprintf(raw_host, sizeof raw_host, "%s", argv[2]);
  char *t = strstr(raw_host + 5, "/");
  if (t != NULL)
    *t = '\0';
  fake_sdk_heap_set_limit(LIMIT);

  ws_info *ws = malloc(sizeof *ws);
  if (ws == NULL)
    return 2;
  lua_ws_info(ws, NULL, on_connection, on_receive, on_failure);
  char url[1024];

  /* -8: the raw peer's toobig verdict (close 1009, for -26) does not apply:
   * a path without /t/<id> keeps it out of this test's verdicts. */
  {
    snprintf(url, sizeof url, "%s/toobig-50000", raw_host);
    size_t base =
        expect_oom_end(ws, url, 0, "-8 message", WS_ERR_NO_MEMORY_MESSAGE, 50000, 50001);
    settle_and_reuse(ws, base, "-8 message");
  }
  /* -9 */
  {
    size_t seg = fake_sdk_set_segment(40);
    snprintf(url, sizeof url, "%s/pingflood-20", raw_url);
    size_t base = expect_oom_end(ws, url, 100, "-9 control", WS_ERR_NO_MEMORY_CONTROL, 125, 125);
    fake_sdk_set_segment(seg);
    settle_and_reuse(ws, base, "-9 control");
  }
  /* -10 (1): the allocations of ws_connect_with */
  {
    size_t base = fake_sdk_heap_device_live(), last_site = 0;
    int sites10 = 0, slack;
    for (slack = 0; slack <= 4096; slack += 8) {
      unsigned long r0 = fake_sdk_heap_refused(NULL);
      reset();
      fake_sdk_heap_set_limit(base + (size_t)slack);
      connect_with(ws, echo_url, PROTO);
      fake_sdk_heap_set_limit(LIMIT);
      if (!S.ended)
        break;
      size_t last = 0;
      unsigned long r = fake_sdk_heap_refused(&last);
      CHECK(r == r0 + 1 && !S.connected && S.ended_in_connect &&
                fake_sdk_heap_device_live() == base,
            "-10 at %d bytes free: %lu refused, connected %d, heap %+ld", slack, r - r0,
            S.connected, (long)fake_sdk_heap_device_live() - (long)base);
      /* Every allocation, the port's state in ws_port_resolve included. */
      CHECK(S.status == WS_ERR_NO_MEMORY_HANDSHAKE, "-10 at %d bytes free: status %d", slack,
            S.status);
      if (last != last_site) {
        printf("-10 handshake: from %d bytes free the allocation of %zu bytes fails: status %d\n",
               slack, last, S.status);
        last_site = last;
        sites10 += S.status == WS_ERR_NO_MEMORY_HANDSHAKE;
      }
    }
    CHECK(slack <= 4096, "-10: ws_connect still failing with 4 KB free");
    /* the request, the response parser, the engine, the port's state */
    CHECK(sites10 >= 4, "-10: %d allocation sites of ws_connect gave -10, want >= 4", sites10);
    ws_close(ws); /* the connection that got through */
    run_to_end("-10 (1)");
    CHECK(S.status == 0, "-10 (1): closing the connection that got through: %d", S.status);
    settle_and_reuse(ws, base, "-10 handshake (ws_connect allocations)");
  }
  /* -10 (2): the copy of the chosen protocol */
  {
    size_t base = fake_sdk_heap_device_live(), limit = LIMIT;
    snprintf(url, sizeof url, "%s/proto-%s", raw_url, PROTO);
    int round;
    for (round = 0; round < 6; round++) {
      unsigned long r0 = fake_sdk_heap_refused(NULL);
      reset();
      S.close_on_connect = 1;
      fake_sdk_heap_reset_peak();
      fake_sdk_heap_set_limit(limit);
      connect_with(ws, url, PROTO);
      run_to_end("-10 (2)");
      if (S.connected) {
        CHECK(strcmp(S.proto, PROTO) == 0, "-10 (2): protocol '%s'", S.proto);
        CHECK(S.status == 0, "-10 (2): the measuring connection ended with %d", S.status);
        printf("-10 protocol: opened under a limit %zu over the base, peak %zu over it\n",
               limit - base, S.peak - base);
        limit = S.peak - 1;
        fake_sdk_run_until(heap_is, &base, 3000);
        continue;
      }
      CHECK(!S.ended_in_connect, "-10 (2): reported from inside ws_connect");
      CHECK(ws_protocol(ws) == NULL, "-10 (2): a protocol after the failure");
      expect_end("-10 protocol", WS_ERR_NO_MEMORY_HANDSHAKE, strlen(PROTO), strlen(PROTO) + 1, r0);
      break;
    }
    CHECK(round < 6, "-10 (2): the protocol copy never failed");
    settle_and_reuse(ws, base, "-10 handshake (chosen protocol)");
  }
  /* -16: ws_send_long */
  {
    size_t base = fake_sdk_heap_device_live();
    unsigned long r0 = fake_sdk_heap_refused(NULL);
    reset();
    S.send_free = 1;
    connect_with(ws, echo_url, NULL);
    run_to_end("-16 send");
    CHECK(S.connected, "-16 send: never connected");
    CHECK(S.send_rc == WS_ERR_NO_MEMORY_SEND, "-16 send: ws_send_long returned %d", S.send_rc);
    CHECK(S.ended_in_send == 1, "-16 send: onFailure had not run when ws_send_long returned");
    expect_end("-16 send", WS_ERR_NO_MEMORY_SEND, 1, LIMIT, r0);
    settle_and_reuse(ws, base, "-16 send");
  }
  /* -16: the pong */
  {
    snprintf(url, sizeof url, "%s/pingflood-20", raw_url);
    size_t base = expect_oom_end(ws, url, 100, "-16 pong", WS_ERR_NO_MEMORY_SEND, 126, 199);
    settle_and_reuse(ws, base, "-16 pong");
  }

  fake_sdk_heap_set_limit(0);
  fake_sdk_run();
  free(ws);
  if (failures) {
    printf("FAIL host_oom: %d check(s) failed\n", failures);
    return 1;
  }
  printf("PASS host_oom\n");
  return 0;
}
