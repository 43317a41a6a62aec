/*
 * host_port.c - the espconn port (nodemcu-glue/ws_port_espconn.c) alone on
 * the fake SDK, with the library's ws_event_* replaced by recorders, against
 * a plain TCP echo thread. Checks what the Lua tests cannot see:
 *
 *   copy     the port hands espconn its own copy: the caller's buffer is
 *            overwritten and freed right after ws_port_send, with lwIP's
 *            send buffer at 100 bytes (espconn reads the rest later)
 *   busy     one chunk in flight: WS_PORT_BUSY until its ws_event_sent
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
#define _DEFAULT_SOURCE
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

static int failed, passed;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (cond) {                                                                \
      passed++;                                                                \
    } else {                                                                   \
      failed++;                                                                \
      printf("FAIL host_port:%d: ", __LINE__);                                 \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

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

/* ---- echo thread: echoes; closes at once when it reads "CLOSE" ---- */

static int server_fd, server_port;

static void *serve(void *arg) {
  int c = (int)(intptr_t)arg;
  char buf[4096];
  for (;;) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n <= 0 || (n >= 5 && memcmp(buf, "CLOSE", 5) == 0))
      break;
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = write(c, buf + off, (size_t)(n - off));
      if (w <= 0)
        break;
      off += w;
    }
  }
  close(c);
  return NULL;
}

static void *server_main(void *arg) {
  (void)arg;
  for (;;) {
    int c = accept(server_fd, NULL, NULL);
    if (c < 0)
      continue;
    pthread_t th;
    pthread_create(&th, NULL, serve, (void *)(intptr_t)c);
    pthread_detach(th);
  }
  return NULL;
}

static void start_server(void) {
  server_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (bind(server_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(server_fd, 8) != 0 ||
      getsockname(server_fd, (struct sockaddr *)&sa, &sl) != 0) {
    perror("server");
    exit(2);
  }
  server_port = ntohs(sa.sin_port);
  pthread_t th;
  pthread_create(&th, NULL, server_main, NULL);
  pthread_detach(th);
}

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

static void test_copy_and_busy(size_t heap0) {
  CHECK(open_conn() == 0, "connect");
  uint8_t *buf = malloc(5000), *buf2 = malloc(5000);
  for (int i = 0; i < 5000; i++) {
    buf[i] = (uint8_t)('a' + i % 26);
    buf2[i] = (uint8_t)('A' + i % 26);
  }
  static uint8_t expect[10000];
  memcpy(expect, buf, 5000);
  memcpy(expect + 5000, buf2, 5000);
  CHECK(ws_port_send(&ws, buf, 5000) == 0, "send 5000");
  memset(buf, 'Z', 5000); /* the library may reuse or free its queue now */
  free(buf);
  CHECK(ws_port_send(&ws, buf2, 5000) == WS_PORT_BUSY, "second chunk while one is in flight");
  CHECK(ev.sent == 0, "ws_event_sent from inside ws_port_send");
  want_rx = 0, want_sent = 1;
  fake_sdk_run_until(until_echo, NULL, 3000);
  CHECK(ev.sent == 1, "sent event: %d", ev.sent);
  CHECK(ws_port_send(&ws, buf2, 5000) == 0, "second chunk after ws_event_sent");
  memset(buf2, 'Z', 5000);
  free(buf2);
  want_rx = 10000, want_sent = 2;
  fake_sdk_run_until(until_echo, NULL, 5000);
  CHECK(ev.received == 10000 && ev.sent == 2 && memcmp(ev.rx, expect, 10000) == 0,
        "echo of both chunks intact: received %zu, sent %d", ev.received, ev.sent);
  CHECK(close_and_idle(3000), "loop idle after close");
  CHECK(fake_sdk_heap_live() == heap0, "heap after close: %zu, before %zu", fake_sdk_heap_live(),
        heap0);
  CHECK(fake_sdk_swtimer_count() >= 1, "port defer callback registered for suspension");
}

static void test_codes(size_t heap0) {
  static uint8_t msg[] = "hello";
  fake_sdk_fault_reset();
  fake_sdk_fault("send_mem@1");
  CHECK(open_conn() == 0, "connect");
  CHECK(ws_port_send(&ws, msg, 5) == ESPCONN_MEM, "send_mem passes ESPCONN_MEM");
  CHECK(close_and_idle(3000), "idle after send_mem");
  CHECK(fake_sdk_heap_live() == heap0, "heap after send_mem");

  fake_sdk_fault_reset();
  fake_sdk_fault("send_rte@1");
  CHECK(open_conn() == 0, "connect");
  CHECK(ws_port_send(&ws, msg, 5) == ESPCONN_RTE, "send_rte passes ESPCONN_RTE");
  CHECK(close_and_idle(3000), "idle after send_rte");
  CHECK(fake_sdk_heap_live() == heap0, "heap after send_rte");

  fake_sdk_fault_reset();
  fake_sdk_fault("send_mem_kept@1");
  CHECK(open_conn() == 0, "connect");
  CHECK(ws_port_send(&ws, msg, 5) == ESPCONN_MEM, "send_mem_kept passes ESPCONN_MEM");
  CHECK(ws_port_send(&ws, msg, 5) == ESPCONN_ARG, "no send after a refused chunk");
  CHECK(close_and_idle(3000), "idle after send_mem_kept");
  CHECK(fake_sdk_heap_live() == heap0, "heap after send_mem_kept");

  fake_sdk_fault_reset();
  fake_sdk_fault("connect_isconn@1");
  CHECK(open_conn() == 0, "ISCONN once: the port retries with another local port");
  CHECK(close_and_idle(3000), "idle");

  fake_sdk_fault_reset();
  fake_sdk_fault("connect_isconn@1+");
  CHECK(open_conn() == ESPCONN_ISCONN, "ISCONN twice passes ESPCONN_ISCONN");
  CHECK(close_and_idle(500), "idle at once after a refused connect");

  fake_sdk_fault_reset();
  fake_sdk_fault("connect_station@1");
  CHECK(open_conn() == ESPCONN_RTE, "station status > 0 becomes ESPCONN_RTE");
  CHECK(close_and_idle(500), "idle at once");

  fake_sdk_fault_reset();
  fake_sdk_fault("connect_rte@1");
  CHECK(open_conn() == ESPCONN_RTE, "connect_rte passes ESPCONN_RTE");
  CHECK(close_and_idle(500), "idle at once");

  fake_sdk_fault_reset();
  fake_sdk_fault("connect_mem@1");
  uint64_t t0 = fake_sdk_now_ms();
  CHECK(open_conn() == ESPCONN_MEM, "connect_mem passes ESPCONN_MEM");
  CHECK(close_and_idle(1500), "idle after connect_mem");
  CHECK(fake_sdk_now_ms() - t0 < 1000, "connect_mem: freed without the 2 s grace");

  fake_sdk_fault_reset();
  fake_sdk_fault("connect_mem_kept@1");
  CHECK(open_conn() == ESPCONN_MEM, "connect_mem_kept passes ESPCONN_MEM");
  CHECK(close_and_idle(3000), "connect_mem_kept: the port disconnected the kept connection");
  CHECK(fake_sdk_heap_live() == heap0, "heap after the refused connects");
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
  start_server();
  size_t heap0 = fake_sdk_heap_live();
  test_copy_and_busy(heap0);
  test_codes(heap0);
  test_closing(heap0);
  test_swtimer(heap0);
  printf("host_port: %d passed, %d failed\n", passed, failed);
  if (failed == 0)
    printf("PASS host_port\n");
  return failed == 0 ? 0 : 1;
}
