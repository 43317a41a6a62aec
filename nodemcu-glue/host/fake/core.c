/* Fake ESP8266 NonOS SDK, core: configuration, clock, system_* calls,
 * os_random and the single-threaded poll() loop that dispatches every
 * callback (espconn, os_timer, DNS). As on the device, no callback runs from
 * inside the API call that caused it. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* configuration                                                        */

fsdk_config_t fsdk_cfg = {
    .segment = 1460,
    .send_limit = 2920, /* TCP_SND_BUF = 2 * TCP_MSS in NodeMCU's lwipopts.h */
    .max_tcp = 5,       /* the SDK's default for espconn_tcp_set_max_con */
    .heap_budget = (size_t)40 * 1024 * 1024,
};
static int cfg_loaded;

static size_t env_size(const char *name, size_t dflt, size_t min, size_t max) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    return dflt;
  char *end = NULL;
  unsigned long long n = strtoull(v, &end, 10);
  if (end == v || *end != '\0' || n < min || n > max) {
    fprintf(stderr, "fake-sdk: ignoring bad %s=%s\n", name, v);
    return dflt;
  }
  return (size_t)n;
}

void fsdk_load_config(void) {
  if (cfg_loaded)
    return;
  cfg_loaded = 1;
  fsdk_cfg.segment = env_size("FAKE_SDK_SEGMENT", 1460, 1, 65535);
  fsdk_cfg.send_limit = env_size("FAKE_SDK_SEND_LIMIT", 2920, 1, (size_t)1 << 30);
  fsdk_cfg.max_tcp = env_size("FAKE_SDK_MAX_TCP", 5, 0, 255);
  fsdk_cfg.hosts_only = env_size("FAKE_SDK_DNS_HOSTS_ONLY", 0, 0, 1) != 0;
  fsdk_cfg.trace = env_size("FAKE_SDK_TRACE", 0, 0, 1) != 0;
  fsdk_cfg.heap_budget = env_size("NODEMCU_HEAP", fsdk_cfg.heap_budget, 1024, (size_t)1 << 40);
  fsdk_cfg.heap_limit = env_size("FAKE_SDK_HEAP_LIMIT", 0, 0, (size_t)1 << 40);
}

size_t fake_sdk_set_segment(size_t bytes) {
  fsdk_load_config();
  size_t before = fsdk_cfg.segment;
  if (bytes >= 1 && bytes <= 65535)
    fsdk_cfg.segment = bytes;
  return before;
}

void fsdk_die(const char *what) {
  fflush(stdout);
  fprintf(stderr, "fake-sdk: FATAL: %s\n", what);
  abort();
}

/* ------------------------------------------------------------------ */
/* clock and system_*                                                   */

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t t0_us;

uint64_t fsdk_now_us(void) {
  if (t0_us == 0)
    t0_us = mono_us() - 1;
  return mono_us() - t0_us;
}

uint64_t fake_sdk_now_ms(void) { return fsdk_now_us() / 1000u; }

uint32 system_get_time(void) { return (uint32)fsdk_now_us(); }

void ets_delay_us(uint32_t us) {
  struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
  nanosleep(&ts, NULL);
}

void system_restart(void) {
  fflush(stdout);
  fprintf(stderr, "fake-sdk: system_restart() called, exiting\n");
  exit(3);
}

void system_soft_wdt_feed(void) {}

/* ------------------------------------------------------------------ */
/* randomness                                                           */

int os_get_random(unsigned char *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fsdk_die("getrandom failed");
    }
    done += (size_t)n;
  }
  return 0;
}

uint32_t os_random(void) {
  uint32_t v;
  os_get_random((unsigned char *)&v, sizeof v);
  return v;
}

/* ------------------------------------------------------------------ */
/* the loop                                                             */

static int stop_requested;

int fake_sdk_pending(void) {
  return fsdk_conns_open() || fsdk_timers_armed() || fsdk_dns_pending() || fsdk_events_queued();
}

void fake_sdk_stop(void) { stop_requested = 1; }

int fake_sdk_step(int timeout_ms) {
  fsdk_load_config();
  if (!fake_sdk_pending())
    return 0;
  int wait = timeout_ms;
  int buffered = fsdk_conns_buffered();
  uint64_t next;
  if (fsdk_events_queued() || buffered) {
    wait = 0;
  } else {
    int have = fsdk_timer_next(&next);
    uint64_t retry;
    if (fsdk_conn_next_retry(&retry) && (!have || retry < next)) {
      next = retry; /* a connection starved of receive memory tries again */
      have = 1;
    }
    if (have) {
      uint64_t now = fake_sdk_now_ms();
      uint64_t d = next > now ? next - now : 0;
      if (d > INT32_MAX)
        d = INT32_MAX;
      if (wait < 0 || (uint64_t)wait > d)
        wait = (int)d;
    }
  }

  size_t max = fsdk_conn_count() + 1;
  struct pollfd *pfd = __real_malloc(max * sizeof *pfd);
  fconn_t **who = __real_malloc(max * sizeof *who);
  if (pfd == NULL || who == NULL)
    fsdk_die("out of memory in the loop");
  nfds_t n = 0;
  int dfd = fsdk_dns_fd();
  if (dfd >= 0) {
    pfd[n].fd = dfd;
    pfd[n].events = POLLIN;
    who[n++] = NULL;
  }
  n += fsdk_conn_poll(pfd + n, who + n, max - n);
  int rc = poll(pfd, n, wait);
  if (rc < 0 && errno != EINTR)
    fsdk_die("poll failed");
  for (nfds_t i = 0; rc > 0 && i < n; i++) {
    if (pfd[i].revents == 0)
      continue;
    if (who[i] == NULL)
      fsdk_dns_ready();
    else
      fsdk_conn_dispatch(who[i], pfd[i].revents);
  }
  /* decrypted data left inside a TLS engine: no socket event will announce it */
  if (buffered)
    fsdk_conns_drain_buffered();
  __real_free(pfd);
  __real_free(who);
  fsdk_run_timers();
  fsdk_run_events();
  fsdk_reap_conns();
  return fake_sdk_pending();
}

void fake_sdk_run(void) {
  stop_requested = 0;
  while (!stop_requested && fake_sdk_step(-1)) {
  }
  stop_requested = 0;
}

int fake_sdk_run_until(int (*done)(void *), void *arg, uint32_t timeout_ms) {
  uint64_t deadline = fake_sdk_now_ms() + timeout_ms;
  stop_requested = 0;
  for (;;) {
    if (done != NULL && done(arg))
      return 0;
    if (stop_requested) {
      stop_requested = 0;
      return done == NULL ? 0 : 1;
    }
    int wait = -1;
    if (timeout_ms != 0) {
      uint64_t now = fake_sdk_now_ms();
      if (now >= deadline)
        return -1;
      wait = (int)(deadline - now);
    }
    if (!fake_sdk_step(wait))
      return done != NULL && done(arg) ? 0 : 1;
  }
}
