/*
 * host_port.c - the espconn port (nodemcu-glue/ws_port_espconn.c) alone on
 * the fake SDK, with the library's ws_event_* replaced by recorders, against
 * a plain TCP echo thread. Checks what the Lua tests cannot see:
 *
 *   no copy  the port hands espconn the caller's buffer (no allocation of
 *            its size), with lwIP's send buffer at 100 bytes (espconn reads
 *            the rest later, and the fake SDK aborts if the buffer changes
 *            or is freed before the sent callback): freed only after
 *            ws_event_sent
 *   busy     one chunk in flight: WS_PORT_BUSY until its ws_event_sent
 *   hold     ws_port_close with a chunk in flight: the port holds it
 *            (ws_hold_sending, once) and gives it back (ws_free_held, once)
 *            only when espconn no longer reads it
 *   codes    ESPCONN_MEM / ESPCONN_RTE of espconn_send and espconn_connect
 *            pass through; ISCONN once is retried; station status -> RTE
 *   kept     a refused connect that espconn keeps listed is disconnected by
 *            ws_port_close (else the loop never goes idle)
 *   closing  espconn_disconnect answering ESPCONN_INPROGRESS (the peer's FIN
 *            read in the same loop turn): the final callback that follows
 *            frees the port state at once (it ends the 2 s grace early)
 *   heap     every connection gives all its heap back
 *   swtimer  both port timer callbacks registered (SWTIMER_RESUME): a
 *            suspended library timer does not fire, and fires after resume
 *
 *   host_port [ignored arguments from the e2e driver]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "websocket/websocketclient.h"
#include "espconn.h"
#include "fake_sdk.h"

#include "../../nodemcu-glue/host/tests/testkit.h"

/* ---- the library side: recorders ---- */

static struct {
  int resolved, connected, sent, disconnected, disc_err, timer;
  size_t received;
  uint8_t rx[20000];
} ev;

void ws_event_resolved(ws_info *ws, int ok) {
  (void)ws;
  (void)ok;
  ev.resolved++;
}
void ws_event_connected(ws_info *ws) {
  (void)ws;
  ev.connected++;
}
void ws_event_received(ws_info *ws, uint8_t *data, size_t len) {
  (void)ws;
  if (ev.received + len <= sizeof ev.rx)
    memcpy(ev.rx + ev.received, data, len);
  ev.received += len;
}
void ws_event_sent(ws_info *ws) {
  (void)ws;
  ev.sent++;
}
void ws_event_disconnected(ws_info *ws, int err) {
  ev.disconnected++;
  ev.disc_err = err;
  ws_port_close(ws); /* as the library does */
}
void ws_event_timer(ws_info *ws) {
  (void)ws;
  ev.timer++;
}
/* The library's side of a held chunk: the handle is the test's buffer in
 * flight (hold_buf; NULL = nothing to hold), freed when the port gives it
 * back. */
static uint8_t *hold_buf;
static int holds, held_frees;
void *ws_hold_sending(ws_info *w) {
  (void)w;
  holds++;
  return hold_buf;
}
void ws_free_held(void *handle) {
  if (handle != NULL) {
    held_frees++;
    free(handle);
  }
}

/* ---- echo server (testkit.h): closes at once when it reads "CLOSE" ---- */

static int server_port;

/* ---- helpers ---- */

static ws_info ws;

static int until_connected(void *arg) {
  (void)arg;
  return ev.connected > 0 || ev.disconnected > 0;
}
static size_t want_rx;
static int want_sent;
static int until_echo(void *arg) {
  (void)arg;
  return (ev.received >= want_rx && ev.sent >= want_sent) || ev.disconnected > 0;
}
static int until_timer(void *arg) {
  (void)arg;
  return ev.timer > 0;
}

static int open_conn(void) {
  memset(&ev, 0, sizeof ev);
  memset(&ws, 0, sizeof ws);
  if (ws_port_resolve(&ws, "127.0.0.1") != WS_PORT_DONE)
    return -100;
  int r = ws_port_connect(&ws, (uint16_t)server_port, 0);
  if (r != 0)
    return r;
  fake_sdk_run_until(until_connected, NULL, 3000);
  return ev.connected == 1 ? 0 : -101;
}

/* ws_port_close, then the loop must go idle (nothing left) within ms. */
static int close_and_idle(uint32_t ms) {
  ws_port_close(&ws);
  return fake_sdk_run_until(NULL, NULL, ms) == 1;
}

/* ---- tests ---- */

static void test_no_copy_and_busy(size_t heap0) {
  CHECK(open_conn() == 0, "connect");
  uint8_t *buf = malloc(5000), *buf2 = malloc(5000);
  for (int i = 0; i < 5000; i++) {
    buf[i] = (uint8_t)('a' + i % 26);
    buf2[i] = (uint8_t)('A' + i % 26);
  }
  static uint8_t expect[10000];
  memcpy(expect, buf, 5000);
  memcpy(expect + 5000, buf2, 5000);
  size_t h0 = fake_sdk_heap_live();
  CHECK(ws_port_send(&ws, buf, 5000) == 0, "send 5000");
  CHECK(fake_sdk_heap_live() - h0 < 1000, "the port copied the chunk: heap +%zu",
        fake_sdk_heap_live() - h0);
  CHECK(ws_port_send(&ws, buf2, 5000) == WS_PORT_BUSY, "second chunk while one is in flight");
  CHECK(ev.sent == 0, "ws_event_sent from inside ws_port_send");
  want_rx = 0, want_sent = 1;
  fake_sdk_run_until(until_echo, NULL, 3000);
  CHECK(ev.sent == 1, "sent event: %d", ev.sent);
  memset(buf, 'Z', 5000); /* the library may reuse or free it now */
  free(buf);
  CHECK(ws_port_send(&ws, buf2, 5000) == 0, "second chunk after ws_event_sent");
  want_rx = 10000, want_sent = 2;
  fake_sdk_run_until(until_echo, NULL, 5000);
  free(buf2);
  CHECK(ev.received == 10000 && ev.sent == 2 && memcmp(ev.rx, expect, 10000) == 0,
        "echo of both chunks intact: received %zu, sent %d", ev.received, ev.sent);
  CHECK(holds == 0, "nothing in flight at close, yet held");
  CHECK(close_and_idle(3000), "loop idle after close");
  CHECK(fake_sdk_heap_live() == heap0, "heap after close: %zu, before %zu", fake_sdk_heap_live(),
        heap0);
  CHECK(fake_sdk_swtimer_count() >= 1, "port defer callback registered for suspension");
}

/* ws_port_close while espconn still reads most of a 5000-byte chunk (lwIP
 * takes 100 bytes at once): the port holds the library's bytes and gives
 * them back once espconn is done; the fake SDK aborts on a late read of a
 * freed buffer. */
static void test_hold_at_close(size_t heap0) {
  CHECK(open_conn() == 0, "connect");
  holds = held_frees = 0;
  hold_buf = malloc(5000);
  memset(hold_buf, 'h', 5000);
  CHECK(ws_port_send(&ws, hold_buf, 5000) == 0, "send 5000");
  ws_port_close(&ws);
  CHECK(holds == 1 && held_frees == 0, "held at close: %d holds, %d frees", holds, held_frees);
  CHECK(fake_sdk_run_until(NULL, NULL, 3000) == 1, "idle after close");
  CHECK(holds == 1 && held_frees == 1, "given back once: %d holds, %d frees", holds, held_frees);
  CHECK(ev.sent == 0 && ev.disconnected == 0, "event after ws_port_close");
  hold_buf = NULL;
  holds = held_frees = 0;
  CHECK(fake_sdk_heap_live() == heap0, "heap after close: %zu, before %zu", fake_sdk_heap_live(),
        heap0);
}

/* One connection per fault plan: what ws_port_connect, then (if it
 * connected) ws_port_send of 5 bytes and a second ws_port_send return, and
 * that ws_port_close leaves nothing behind within idle_ms. */
static const struct {
  const char *plan;
  int connect, send, send2; /* expected results; send* unused if connect != 0 */
  uint32_t idle_ms;
  const char *why;
} code_cases[] = {
    /* after a refused send espconn may still read the chunk: BUSY */
    {"send_mem@1", 0, ESPCONN_MEM, WS_PORT_BUSY, 3000, "send_mem passes ESPCONN_MEM"},
    {"send_rte@1", 0, ESPCONN_RTE, WS_PORT_BUSY, 3000, "send_rte passes ESPCONN_RTE"},
    {"send_mem_kept@1", 0, ESPCONN_MEM, WS_PORT_BUSY, 3000,
     "send_mem_kept passes ESPCONN_MEM; its bytes stay with espconn until the end"},
    {"connect_isconn@1", 0, 0, WS_PORT_BUSY, 3000, "ISCONN once: retried with another local port"},
    {"connect_isconn@1+", ESPCONN_ISCONN, 0, 0, 500, "ISCONN twice passes ESPCONN_ISCONN"},
    {"connect_station@1", ESPCONN_RTE, 0, 0, 500, "station status > 0 becomes ESPCONN_RTE"},
    {"connect_rte@1", ESPCONN_RTE, 0, 0, 500, "connect_rte passes ESPCONN_RTE"},
    /* espconn does not list it: freed at once, without the 2 s grace */
    {"connect_mem@1", ESPCONN_MEM, 0, 0, 1000, "connect_mem passes ESPCONN_MEM"},
    /* espconn lists it: the port must disconnect it, or the loop never idles */
    {"connect_mem_kept@1", ESPCONN_MEM, 0, 0, 3000, "connect_mem_kept passes ESPCONN_MEM"},
};

static void test_codes(size_t heap0) {
  static uint8_t msg[] = "hello";
  for (size_t i = 0; i < sizeof code_cases / sizeof code_cases[0]; i++) {
    fake_sdk_fault_reset();
    CHECK(fake_sdk_fault(code_cases[i].plan) == 0, "plan %s", code_cases[i].plan);
    int r = open_conn();
    CHECK(r == code_cases[i].connect, "%s: connect %d", code_cases[i].why, r);
    if (r == 0) {
      int s1 = ws_port_send(&ws, msg, 5), s2 = ws_port_send(&ws, msg, 5);
      CHECK(s1 == code_cases[i].send && s2 == code_cases[i].send2, "%s: sends %d, %d",
            code_cases[i].why, s1, s2);
    }
    uint64_t t0 = fake_sdk_now_ms();
    CHECK(close_and_idle(code_cases[i].idle_ms + 500) &&
              fake_sdk_now_ms() - t0 < code_cases[i].idle_ms,
          "%s: idle after %llu ms", code_cases[i].plan, (unsigned long long)(fake_sdk_now_ms() - t0));
    CHECK(fake_sdk_heap_live() == heap0, "%s: heap %zu, before %zu", code_cases[i].plan,
          fake_sdk_heap_live(), heap0);
  }
  fake_sdk_fault_reset();
}

static void test_closing(size_t heap0) {
  CHECK(open_conn() == 0, "connect");
  static uint8_t bye[] = "CLOSE";
  CHECK(ws_port_send(&ws, bye, 5) == 0, "send CLOSE");
  want_rx = 0, want_sent = 1;
  fake_sdk_run_until(until_echo, NULL, 3000);
  usleep(100 * 1000); /* the peer's FIN is now waiting in the socket */
  ws_port_close(&ws); /* arms the 0 ms deferred disconnect */
  /* One loop turn reads the FIN (the SDK starts closing, final callback
   * queued), then runs the deferred espconn_disconnect (INPROGRESS: grace
   * timer), then delivers disconcb, which ends the grace; the next turn
   * frees the port state. */
  uint64_t t0 = fake_sdk_now_ms();
  int r = fake_sdk_run_until(NULL, NULL, 1500);
  CHECK(r == 1 && fake_sdk_now_ms() - t0 < 1000,
        "INPROGRESS disconnect: idle after %llu ms (no 2 s grace)",
        (unsigned long long)(fake_sdk_now_ms() - t0));
  CHECK(ev.disconnected == 0, "event after ws_port_close");
  CHECK(fake_sdk_heap_live() == heap0, "heap after close");
}

static void test_swtimer(size_t heap0) {
  CHECK(open_conn() == 0, "connect");
  ws_port_timer_arm(&ws, 300);
  CHECK(fake_sdk_timers_suspend() == 1, "the library timer is registered and suspended");
  uint64_t t0 = fake_sdk_now_ms();
  CHECK(fake_sdk_run_until(until_timer, NULL, 600) == -1 && ev.timer == 0,
        "suspended timer fired");
  CHECK(fake_sdk_timers_resume() == 1, "resumed");
  CHECK(fake_sdk_run_until(until_timer, NULL, 2000) == 0 && ev.timer == 1, "timer after resume");
  uint64_t took = fake_sdk_now_ms() - t0;
  CHECK(took >= 850 && took < 1500, "suspended 600 ms + 300 ms left: fired after %llu ms",
        (unsigned long long)took);
  CHECK(fake_sdk_swtimer_count() >= 2, "both port timer callbacks registered: %zu",
        fake_sdk_swtimer_count());
  CHECK(close_and_idle(3000), "idle");
  CHECK(fake_sdk_heap_live() == heap0, "heap");
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  setenv("FAKE_SDK_SEND_LIMIT", "100", 1); /* espconn reads most bytes late */
  unsetenv("FAKE_SDK_FAULTS");
  server_port = start_echo_server("CLOSE");
  size_t heap0 = fake_sdk_heap_live();
  test_no_copy_and_busy(heap0);
  test_hold_at_close(heap0);
  test_codes(heap0);
  test_closing(heap0);
  test_swtimer(heap0);
  printf("host_port: %d passed, %d failed\n", passed, failed);
  if (failed == 0)
    printf("PASS host_port\n");
  return failed == 0 ? 0 : 1;
}
