/* Fake ESP8266 NonOS SDK for Linux hosts.
 *
 * espconn (TCP client) over non-blocking POSIX sockets, os_timer, lwIP-style
 * DNS, os_random and heap accounting, all driven by one single-threaded
 * poll() loop. Every callback is dispatched from the loop, never from inside
 * the API call that caused it, as on the device. Misuse that crashes the real
 * SDK (espconn_disconnect from inside a callback of the same connection,
 * espconn_send from inside the final callback of a connection) aborts loudly.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef FAKE_SDK_TLS
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#endif

#include "espconn.h"
#include "fake_sdk.h"
#include "lwip/dns.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "mem.h"
#include "os_type.h"
#include "osapi.h"
#include "user_interface.h"

/* ------------------------------------------------------------------ */
/* configuration                                                        */

static int cfg_loaded;
static size_t cfg_segment = 1460;
static size_t cfg_send_limit = 2920;
static int cfg_hosts_only;
static int cfg_trace;
static size_t cfg_heap_budget = (size_t)40 * 1024 * 1024;

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

static void load_config(void) {
  if (cfg_loaded)
    return;
  cfg_loaded = 1;
  cfg_segment = env_size("FAKE_SDK_SEGMENT", 1460, 1, 65535);
  cfg_send_limit = env_size("FAKE_SDK_SEND_LIMIT", 2920, 1, (size_t)1 << 30);
  cfg_hosts_only = env_size("FAKE_SDK_DNS_HOSTS_ONLY", 0, 0, 1) != 0;
  cfg_trace = env_size("FAKE_SDK_TRACE", 0, 0, 1) != 0;
  cfg_heap_budget = env_size("NODEMCU_HEAP", cfg_heap_budget, 1024, (size_t)1 << 40);
}

#define TRACE(...)                                                             \
  do {                                                                         \
    if (cfg_trace)                                                             \
      fprintf(stderr, "fake-sdk: " __VA_ARGS__);                               \
  } while (0)

static void die(const char *what) {
  fflush(stdout);
  fprintf(stderr, "fake-sdk: FATAL: %s\n", what);
  abort();
}

/* ------------------------------------------------------------------ */
/* clock                                                                */

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t t0_us;

static uint64_t now_us(void) {
  if (t0_us == 0)
    t0_us = mono_us() - 1;
  return mono_us() - t0_us;
}

uint64_t fake_sdk_now_ms(void) { return now_us() / 1000u; }

uint32 system_get_time(void) { return (uint32)now_us(); }

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
/* heap accounting (--wrap=malloc,free,realloc,calloc)                  */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long long heap_live;
static long long heap_peak;

static void heap_add(long long delta) {
  long long now = __atomic_add_fetch(&heap_live, delta, __ATOMIC_RELAXED);
  long long peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
  while (now > peak &&
         !__atomic_compare_exchange_n(&heap_peak, &peak, now, 1, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
  }
}

void *__wrap_malloc(size_t n) {
  void *p = __real_malloc(n);
  if (p != NULL)
    heap_add((long long)malloc_usable_size(p));
  return p;
}

void *__wrap_calloc(size_t n, size_t m) {
  void *p = __real_calloc(n, m);
  if (p != NULL)
    heap_add((long long)malloc_usable_size(p));
  return p;
}

void *__wrap_realloc(void *p, size_t n) {
  long long old = p != NULL ? (long long)malloc_usable_size(p) : 0;
  void *q = __real_realloc(p, n);
  if (q != NULL)
    heap_add((long long)malloc_usable_size(q) - old);
  else if (n == 0 && p != NULL)
    heap_add(-old); /* glibc: realloc(p, 0) frees p */
  return q;
}

void __wrap_free(void *p) {
  if (p == NULL)
    return;
  heap_add(-(long long)malloc_usable_size(p));
  __real_free(p);
}

size_t fake_sdk_heap_live(void) {
  long long v = __atomic_load_n(&heap_live, __ATOMIC_RELAXED);
  return v > 0 ? (size_t)v : 0;
}

size_t fake_sdk_heap_peak(void) {
  long long v = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
  return v > 0 ? (size_t)v : 0;
}

void fake_sdk_heap_reset_peak(void) {
  __atomic_store_n(&heap_peak, __atomic_load_n(&heap_live, __ATOMIC_RELAXED),
                   __ATOMIC_RELAXED);
}

size_t fake_sdk_heap_budget(void) {
  load_config();
  return cfg_heap_budget;
}

uint32 system_get_free_heap_size(void) {
  size_t budget = fake_sdk_heap_budget(), live = fake_sdk_heap_live();
  size_t free_bytes = live < budget ? budget - live : 0;
  return free_bytes > UINT32_MAX ? UINT32_MAX : (uint32)free_bytes;
}

/* ------------------------------------------------------------------ */
/* randomness                                                           */

int os_get_random(unsigned char *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      die("getrandom failed");
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
/* timers                                                               */

typedef struct armed {
  ETSTimer *t;
  uint64_t expire_ms;
  uint32_t period_ms; /* 0 = one-shot */
  uint64_t seq;
  struct armed *next;
} armed_t;

static armed_t *timers; /* sorted by expire_ms, then arming order */
static uint64_t timer_seq;

static armed_t *timer_unlink(ETSTimer *t) {
  for (armed_t **pp = &timers; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->t == t) {
      armed_t *a = *pp;
      *pp = a->next;
      return a;
    }
  }
  return NULL;
}

static void timer_insert(armed_t *a) {
  armed_t **pp = &timers;
  while (*pp != NULL && (*pp)->expire_ms <= a->expire_ms)
    pp = &(*pp)->next;
  a->next = *pp;
  *pp = a;
}

void ets_timer_setfn(ETSTimer *t, ETSTimerFunc *fn, void *arg) {
  if (t == NULL)
    die("os_timer_setfn(NULL)");
  t->timer_func = fn;
  t->timer_arg = arg;
}

void ets_timer_arm_new(ETSTimer *t, uint32_t time, bool repeat, bool ms_flag) {
  if (t == NULL)
    die("os_timer_arm(NULL)");
  if (t->timer_func == NULL)
    die("os_timer_arm on a timer without os_timer_setfn");
  uint32_t ms = ms_flag ? time : (time + 999u) / 1000u;
  armed_t *a = timer_unlink(t); /* re-arming replaces */
  if (a == NULL) {
    a = __real_malloc(sizeof *a); /* bookkeeping outside the accounted heap */
    if (a == NULL)
      die("out of memory arming a timer");
  }
  a->t = t;
  a->expire_ms = fake_sdk_now_ms() + ms;
  a->period_ms = repeat ? (ms ? ms : 1) : 0;
  a->seq = ++timer_seq;
  t->timer_expire = (uint32_t)a->expire_ms;
  t->timer_period = repeat ? ms : 0;
  timer_insert(a);
}

void ets_timer_disarm(ETSTimer *t) {
  armed_t *a = timer_unlink(t);
  if (a != NULL)
    __real_free(a);
}

static int timers_armed(void) { return timers != NULL; }

static void run_timers(void) {
  uint64_t now = fake_sdk_now_ms();
  uint64_t phase = timer_seq; /* timers armed during this phase wait a turn */
  while (timers != NULL && timers->expire_ms <= now && timers->seq <= phase) {
    armed_t *a = timers;
    timers = a->next;
    ETSTimer *t = a->t;
    if (a->period_ms != 0) {
      a->expire_ms += a->period_ms;
      if (a->expire_ms <= now)
        a->expire_ms = now + a->period_ms;
      a->seq = ++timer_seq;
      timer_insert(a);
    } else {
      __real_free(a);
    }
    TRACE("timer %p fires\n", (void *)t);
    t->timer_func(t->timer_arg);
  }
}

/* ------------------------------------------------------------------ */
/* espconn                                                              */

enum fc_state { FC_CONNECTING, FC_TLS_FAIL, FC_HANDSHAKE, FC_CONNECTED, FC_CLOSING, FC_DEAD };

typedef struct sendrec {
  struct sendrec *next;
  size_t len, off;
  uint8_t data[];
} sendrec_t;

typedef struct fconn {
  struct fconn *next;
  struct espconn *ec;
  int fd;
  enum fc_state state;
  sendrec_t *sq_head, *sq_tail;
  size_t pending; /* bytes of accepted sends whose sentcb is still due */
  int in_cb;      /* callbacks of this connection running now */
  int tls;        /* espconn_secure_connect */
#ifdef FAKE_SDK_TLS
  SSL *ssl;
  short want; /* poll events the TLS engine waits for */
#endif
} fconn_t;

static fconn_t *conns;

/* Deferred final callbacks (disconcb / reconcb) of dead connections. */
typedef struct event {
  struct event *next;
  fconn_t *fc;
  int err; /* 0 = disconcb, else reconcb(err) */
} event_t;

static event_t *ev_head, *ev_tail;

static fconn_t *fc_find(const struct espconn *ec) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->ec == ec && fc->state != FC_DEAD)
      return fc;
  return NULL;
}

static fconn_t *fc_find_in_cb(const struct espconn *ec) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->ec == ec && fc->in_cb > 0)
      return fc;
  return NULL;
}

static void sq_free(fconn_t *fc) {
  while (fc->sq_head != NULL) {
    sendrec_t *r = fc->sq_head;
    fc->sq_head = r->next;
    free(r);
  }
  fc->sq_tail = NULL;
  fc->pending = 0;
}

/* Ends the connection: closes the socket, marks it dead and queues its final
 * callback for the loop. */
static void fc_finish(fconn_t *fc, int err) {
#ifdef FAKE_SDK_TLS
  if (fc->ssl != NULL) {
    if (err == 0 && fc->state != FC_HANDSHAKE)
      SSL_shutdown(fc->ssl); /* best effort close_notify */
    SSL_free(fc->ssl);
    fc->ssl = NULL;
  }
#endif
  if (fc->fd >= 0) {
    close(fc->fd);
    fc->fd = -1;
  }
  sq_free(fc);
  fc->state = FC_DEAD;
  event_t *ev = __real_malloc(sizeof *ev);
  if (ev == NULL)
    die("out of memory queueing an event");
  ev->next = NULL;
  ev->fc = fc;
  ev->err = err;
  if (ev_tail)
    ev_tail->next = ev;
  else
    ev_head = ev;
  ev_tail = ev;
  TRACE("conn %p ends (%d), callback queued\n", (void *)fc->ec, err);
}

static int errno_to_espconn(int e) {
  switch (e) {
  case ECONNREFUSED:
  case ECONNRESET:
  case EPIPE:
    return ESPCONN_RST;
  case ETIMEDOUT:
    return ESPCONN_TIMEOUT;
  case ENETUNREACH:
  case EHOSTUNREACH:
  case ENETDOWN:
    return ESPCONN_RTE;
  case ECONNABORTED:
    return ESPCONN_ABRT;
  case ENOMEM:
  case ENOBUFS:
    return ESPCONN_MEM;
  default:
    return ESPCONN_CONN;
  }
}

static int espconn_ok(const struct espconn *ec) {
  return ec != NULL && ec->type == ESPCONN_TCP && ec->proto.tcp != NULL;
}

uint32 espconn_port(void) {
  static uint32 next;
  if (next == 0)
    next = 49152u + (uint32)(os_random() % 8000u);
  uint32 p = next++;
  if (next > 65000u)
    next = 49152u;
  return p;
}

sint8 espconn_regist_connectcb(struct espconn *ec, espconn_connect_callback cb) {
  if (!espconn_ok(ec))
    return ESPCONN_ARG;
  ec->proto.tcp->connect_callback = cb;
  return ESPCONN_OK;
}

sint8 espconn_regist_reconcb(struct espconn *ec, espconn_reconnect_callback cb) {
  if (!espconn_ok(ec))
    return ESPCONN_ARG;
  ec->proto.tcp->reconnect_callback = cb;
  return ESPCONN_OK;
}

sint8 espconn_regist_disconcb(struct espconn *ec, espconn_connect_callback cb) {
  if (!espconn_ok(ec))
    return ESPCONN_ARG;
  ec->proto.tcp->disconnect_callback = cb;
  return ESPCONN_OK;
}

sint8 espconn_regist_recvcb(struct espconn *ec, espconn_recv_callback cb) {
  if (ec == NULL)
    return ESPCONN_ARG;
  ec->recv_callback = cb;
  return ESPCONN_OK;
}

sint8 espconn_regist_sentcb(struct espconn *ec, espconn_sent_callback cb) {
  if (ec == NULL)
    return ESPCONN_ARG;
  ec->sent_callback = cb;
  return ESPCONN_OK;
}

sint8 espconn_set_opt(struct espconn *ec, uint8 opt) {
  (void)opt;
  return ec != NULL ? ESPCONN_OK : ESPCONN_ARG;
}

sint8 espconn_clear_opt(struct espconn *ec, uint8 opt) {
  (void)opt;
  return ec != NULL ? ESPCONN_OK : ESPCONN_ARG;
}

static sint8 start_connect(struct espconn *ec, int tls) {
  load_config();
  if (!espconn_ok(ec))
    return ESPCONN_ARG;
  if (fc_find(ec) != NULL)
    return ESPCONN_ISCONN;
  fconn_t *fc = __real_calloc(1, sizeof *fc);
  if (fc == NULL)
    return ESPCONN_MEM;
  fc->ec = ec;
  fc->fd = -1;
  fc->next = conns;
  conns = fc;
  ec->state = ESPCONN_WAIT;
  fc->tls = tls;
#ifndef FAKE_SDK_TLS
  if (tls) {
    /* Built without TLS: fail the handshake from the loop. */
    fc->state = FC_TLS_FAIL;
    fc_finish(fc, ESPCONN_HANDSHAKE);
    return ESPCONN_OK;
  }
#endif
  fc->state = FC_CONNECTING;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fc_finish(fc, ESPCONN_MEM);
    return ESPCONN_OK;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fc->fd = fd;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)ec->proto.tcp->remote_port);
  memcpy(&sa.sin_addr.s_addr, ec->proto.tcp->remote_ip, 4);
  TRACE("conn %p connects to %u.%u.%u.%u:%d\n", (void *)ec, ec->proto.tcp->remote_ip[0],
        ec->proto.tcp->remote_ip[1], ec->proto.tcp->remote_ip[2],
        ec->proto.tcp->remote_ip[3], ec->proto.tcp->remote_port);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
    fc_finish(fc, errno_to_espconn(errno)); /* reported from the loop */
  return ESPCONN_OK;
}

sint8 espconn_connect(struct espconn *ec) { return start_connect(ec, 0); }

sint8 espconn_secure_connect(struct espconn *ec) { return start_connect(ec, 1); }

sint8 espconn_disconnect(struct espconn *ec) {
  if (ec != NULL && fc_find_in_cb(ec) != NULL)
    die("espconn_disconnect called from inside a callback of the same espconn "
        "(crashes the real SDK; defer it with a task or a 0 ms timer)");
  fconn_t *fc = fc_find(ec);
  if (fc == NULL || fc->state == FC_CLOSING || fc->state == FC_TLS_FAIL)
    return ESPCONN_ARG;
  TRACE("conn %p: espconn_disconnect\n", (void *)ec);
  if (fc->state == FC_CONNECTING || fc->state == FC_HANDSHAKE || fc->sq_head == NULL) {
    fc_finish(fc, 0);
  } else {
    fc->state = FC_CLOSING; /* flush what was accepted, then close */
    shutdown(fc->fd, SHUT_RD);
  }
  return ESPCONN_OK;
}

sint8 espconn_secure_disconnect(struct espconn *ec) { return espconn_disconnect(ec); }

sint8 espconn_abort(struct espconn *ec) {
  if (ec != NULL && fc_find_in_cb(ec) != NULL)
    die("espconn_abort called from inside a callback of the same espconn");
  fconn_t *fc = fc_find(ec);
  if (fc == NULL)
    return ESPCONN_ARG;
  if (fc->fd >= 0) {
    struct linger lg = {1, 0};
    setsockopt(fc->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  fc_finish(fc, 0);
  return ESPCONN_OK;
}

sint8 espconn_delete(struct espconn *ec) {
  return fc_find(ec) != NULL ? ESPCONN_INPROGRESS : ESPCONN_OK;
}

sint8 espconn_send(struct espconn *ec, uint8 *data, uint16 len) {
  fconn_t *fc = fc_find(ec);
  if (fc == NULL && ec != NULL && fc_find_in_cb(ec) != NULL)
    die("espconn_send called from inside a callback of an espconn that is "
        "already disconnected (crashes the real SDK)");
  if (fc == NULL || fc->state != FC_CONNECTED)
    return ESPCONN_ARG;
  if (data == NULL || len == 0)
    return ESPCONN_ARG;
  if (fc->pending > 0 && fc->pending + len > cfg_send_limit) {
    TRACE("conn %p: send of %u refused, %zu pending\n", (void *)ec, len, fc->pending);
    return ESPCONN_MAXNUM;
  }
  sendrec_t *r = malloc(sizeof *r + len); /* the SDK's copy counts as heap */
  if (r == NULL)
    return ESPCONN_MEM;
  r->next = NULL;
  r->len = len;
  r->off = 0;
  memcpy(r->data, data, len);
  if (fc->sq_tail)
    fc->sq_tail->next = r;
  else
    fc->sq_head = r;
  fc->sq_tail = r;
  fc->pending += len;
  return ESPCONN_OK;
}

sint8 espconn_sent(struct espconn *ec, uint8 *data, uint16 len) {
  return espconn_send(ec, data, len);
}

sint8 espconn_secure_send(struct espconn *ec, uint8 *data, uint16 len) {
  return espconn_send(ec, data, len);
}

bool espconn_secure_set_size(uint8 level, uint16 size) {
  (void)level;
  return size >= 512 && size <= 8192;
}

sint16 espconn_secure_get_size(uint8 level) {
  (void)level;
  return 4096;
}

/* --- certificate checking: espconn_secure_ca_enable/_disable ---
 *
 * The SDK reads the trusted CA certificate(s) from a flash sector at the start
 * of every client handshake when checking is on for the client level
 * (ESPCONN_CLIENT = 1, or ESPCONN_BOTH = 3). The host "sector" is a PEM buffer
 * set with fake_sdk_set_ca_pem() (or loaded from FAKE_SDK_CA_FILE); the sector
 * number is only recorded. Server-side checking (level 2) is accepted and
 * ignored: the fake SDK has no TLS server. */
static int ca_client_on;     /* checking on for client connections */
static uint32 ca_sector;     /* recorded, not used */
static char *ca_pem;         /* the sector's content (outside the heap count) */
static size_t ca_pem_len;
static int ca_file_loaded;
static fake_sdk_ca_source ca_source; /* NodeMCU's tls.cert.verify(function) */
static void *ca_source_arg;

static int ca_store(const char *pem, size_t len) {
  char *copy = NULL;
  if (pem != NULL && len > 0) {
    copy = __real_malloc(len + 1);
    if (copy == NULL)
      return -1;
    memcpy(copy, pem, len);
    copy[len] = '\0';
  }
  __real_free(ca_pem);
  ca_pem = copy;
  ca_pem_len = copy != NULL ? len : 0;
  return 0;
}

/* FAKE_SDK_CA_FILE: the sector's content at boot (like a firmware image built
 * with a CA certificate), unless the program stored one first. */
static void ca_load_file(void) {
  if (ca_file_loaded)
    return;
  ca_file_loaded = 1;
  const char *path = getenv("FAKE_SDK_CA_FILE");
  if (path == NULL || *path == '\0' || ca_pem != NULL)
    return;
  FILE *f = fopen(path, "rb");
  char buf[65536];
  size_t n = f != NULL ? fread(buf, 1, sizeof buf, f) : 0;
  if (f == NULL || ferror(f) || n == 0 || n == sizeof buf || ca_store(buf, n) != 0)
    fprintf(stderr, "fake-sdk: cannot load FAKE_SDK_CA_FILE=%s\n", path);
  if (f != NULL)
    fclose(f);
}

int fake_sdk_set_ca_pem(const char *pem, size_t len) {
  ca_file_loaded = 1; /* an explicit write wins over FAKE_SDK_CA_FILE */
  TRACE("CA sector: %zu bytes stored\n", pem != NULL ? len : (size_t)0);
  return ca_store(pem, len);
}

const char *fake_sdk_get_ca_pem(size_t *len) {
  ca_load_file();
  if (len != NULL)
    *len = ca_pem_len;
  return ca_pem;
}

void fake_sdk_set_ca_source(fake_sdk_ca_source fn, void *arg) {
  ca_source = fn;
  ca_source_arg = arg;
}

int fake_sdk_ca_enabled(void) { return ca_client_on; }

bool espconn_secure_ca_enable(uint8 level, uint32 flash_sector) {
  if (level < ESPCONN_CLIENT || level > ESPCONN_BOTH)
    return false;
  if (level & ESPCONN_CLIENT) {
    ca_client_on = 1;
    ca_sector = flash_sector;
  }
  TRACE("CA check enabled (level %u, sector 0x%x)\n", level, (unsigned)ca_sector);
  return true;
}

bool espconn_secure_ca_disable(uint8 level) {
  if (level < ESPCONN_CLIENT || level > ESPCONN_BOTH)
    return false;
  if (level & ESPCONN_CLIENT)
    ca_client_on = 0;
  TRACE("CA check disabled (level %u)\n", level);
  return true;
}

bool espconn_secure_cert_req_enable(uint8 level, uint32 flash_sector) {
  (void)level;
  (void)flash_sector;
  return true;
}

bool espconn_secure_cert_req_disable(uint8 level) {
  (void)level;
  return true;
}

/* --- loop side of espconn --- */

static void conn_established(fconn_t *fc);

#ifdef FAKE_SDK_TLS
/* TLS client on top of the connected socket (OpenSSL). Like the SDK without
 * espconn_secure_ca_enable, the server certificate is not verified. */
static SSL_CTX *tls_ctx;

static int tls_handshake_step(fconn_t *fc) {
  ERR_clear_error();
  int r = SSL_do_handshake(fc->ssl);
  if (r == 1) {
    fc->want = 0;
    TRACE("conn %p: TLS handshake done (%s)\n", (void *)fc->ec, SSL_get_version(fc->ssl));
    conn_established(fc);
    return 1;
  }
  int e = SSL_get_error(fc->ssl, r);
  if (e == SSL_ERROR_WANT_READ) {
    fc->want = POLLIN;
    return 1;
  }
  if (e == SSL_ERROR_WANT_WRITE) {
    fc->want = POLLOUT;
    return 1;
  }
  long vr = SSL_get_verify_result(fc->ssl);
  if (vr != X509_V_OK)
    TRACE("conn %p: TLS handshake failed: server certificate: %s\n", (void *)fc->ec,
          X509_verify_cert_error_string(vr));
  else
    TRACE("conn %p: TLS handshake failed\n", (void *)fc->ec);
  return 0;
}

/* Adds the PEM certificates in pem[0..len) to st. Like mbedTLS's
 * x509_crt_parse on the device, succeeds when at least one parses. */
static int ca_add_pem(X509_STORE *st, const char *pem, size_t len) {
  if (pem == NULL || len == 0 || len > INT_MAX)
    return 0;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (bio == NULL)
    return 0;
  int added = 0;
  X509 *x;
  while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if (X509_STORE_add_cert(st, x) == 1)
      added++;
    X509_free(x);
  }
  BIO_free(bio);
  ERR_clear_error(); /* the end of the data reads as "no start line" */
  return added > 0;
}

/* The trusted certificates for a new client handshake, read at its start as
 * the SDK reads its flash sector: from the tls.cert.verify(function) source
 * when one is set (NodeMCU asks it for certificate 1, 2, ... until it answers
 * none; it failing or answering garbage fails the handshake), else from the
 * CA sector when espconn_secure_ca_enable is on. *st = NULL: no check.
 * Returns 0 when the handshake must fail. */
static int ca_build_store(X509_STORE **st) {
  *st = NULL;
  ca_load_file();
  if (ca_source == NULL && !ca_client_on)
    return 1;
  X509_STORE *s = X509_STORE_new();
  if (s == NULL)
    return 0;
  int ok = 1;
  if (ca_source != NULL) {
    for (int i = 1; ok; i++) {
      const char *pem = NULL;
      size_t len = 0;
      int r = ca_source(ca_source_arg, i, &pem, &len);
      if (r == 0)
        break;
      ok = r > 0 && ca_add_pem(s, pem, len);
    }
  } else {
    ok = ca_add_pem(s, ca_pem, ca_pem_len); /* empty or bad sector: fails */
  }
  if (!ok) {
    X509_STORE_free(s);
    return 0;
  }
  /* mbedTLS as NodeMCU builds it: every listed certificate is a trust anchor
   * (root or not), validity dates are not checked (no clock: no
   * MBEDTLS_HAVE_TIME_DATE), at most 3 intermediates. The host name is not
   * checked either: the SDK is never given one (the espconn has only the IP). */
  X509_STORE_set_flags(s, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
  X509_STORE_set_depth(s, 3);
  *st = s;
  return 1;
}

/* Returns 0 when the handshake failed at once; 1 when it runs, is done, or
 * the connection ended meanwhile (a tls.cert.verify callback may close it). */
static int tls_start(fconn_t *fc) {
  X509_STORE *st = NULL;
  int store_ok = ca_build_store(&st);
  if (fc->state != FC_CONNECTING) {
    X509_STORE_free(st); /* ended from inside the certificate source */
    return 1;
  }
  if (!store_ok) {
    TRACE("conn %p: no usable CA certificate, handshake fails\n", (void *)fc->ec);
    return 0;
  }
  if (tls_ctx == NULL) {
    tls_ctx = SSL_CTX_new(TLS_client_method());
    if (tls_ctx == NULL) {
      X509_STORE_free(st);
      return 0;
    }
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  fc->ssl = SSL_new(tls_ctx);
  if (fc->ssl == NULL || SSL_set_fd(fc->ssl, fc->fd) != 1) {
    X509_STORE_free(st);
    return 0;
  }
  if (st != NULL) {
    SSL_set0_verify_cert_store(fc->ssl, st); /* the SSL owns it now */
    SSL_set_verify(fc->ssl, SSL_VERIFY_PEER, NULL);
    TRACE("conn %p: server certificate will be checked\n", (void *)fc->ec);
  }
  SSL_set_connect_state(fc->ssl);
  fc->state = FC_HANDSHAKE;
  return tls_handshake_step(fc);
}

/* recv/send over TLS with the socket calls' conventions: >0 bytes, 0 peer
 * closed, -1 with errno (EAGAIN when the engine waits for the socket). */
static ssize_t tls_io(fconn_t *fc, void *buf, size_t len, int writing) {
  ERR_clear_error();
  int r = writing ? SSL_write(fc->ssl, buf, (int)len) : SSL_read(fc->ssl, buf, (int)len);
  if (r > 0)
    return r;
  int e = SSL_get_error(fc->ssl, r);
  switch (e) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    errno = EAGAIN;
    return -1;
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_SYSCALL:
    if (!writing && errno == 0)
      return 0; /* EOF without close_notify */
    if (errno == 0 || errno == EAGAIN)
      errno = ECONNRESET;
    return -1;
  default:
    errno = ECONNRESET;
    return -1;
  }
}
#endif

static ssize_t conn_recv(fconn_t *fc, char *buf, size_t len) {
#ifdef FAKE_SDK_TLS
  if (fc->ssl != NULL)
    return tls_io(fc, buf, len, 0);
#endif
  return recv(fc->fd, buf, len, 0);
}

static ssize_t conn_send(fconn_t *fc, const uint8_t *data, size_t len) {
#ifdef FAKE_SDK_TLS
  if (fc->ssl != NULL)
    return tls_io(fc, (void *)data, len, 1);
#endif
  return send(fc->fd, data, len, MSG_NOSIGNAL);
}

/* Bytes already decrypted and waiting inside the TLS engine. */
static int conn_buffered(fconn_t *fc) {
#ifdef FAKE_SDK_TLS
  return fc->ssl != NULL && fc->state == FC_CONNECTED && SSL_pending(fc->ssl) > 0;
#else
  (void)fc;
  return 0;
#endif
}

static void on_connect_ready(fconn_t *fc) {
  int err = 0;
  socklen_t el = sizeof err;
  if (getsockopt(fc->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
    err = errno;
  if (err != 0) {
    fc_finish(fc, errno_to_espconn(err));
    return;
  }
#ifdef FAKE_SDK_TLS
  if (fc->tls) {
    if (!tls_start(fc))
      fc_finish(fc, ESPCONN_HANDSHAKE);
    return;
  }
#endif
  conn_established(fc);
}

static void conn_established(fconn_t *fc) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  if (getsockname(fc->fd, (struct sockaddr *)&sa, &sl) == 0) {
    fc->ec->proto.tcp->local_port = ntohs(sa.sin_port);
    memcpy(fc->ec->proto.tcp->local_ip, &sa.sin_addr.s_addr, 4);
  }
  fc->state = FC_CONNECTED;
  fc->ec->state = ESPCONN_CONNECT;
  TRACE("conn %p connected\n", (void *)fc->ec);
  espconn_connect_callback cb = fc->ec->proto.tcp->connect_callback;
  if (cb) {
    fc->in_cb++;
    cb(fc->ec);
    fc->in_cb--;
  }
}

static void on_readable(fconn_t *fc) {
  char *buf = malloc(cfg_segment + 1); /* like a pbuf: counts as heap */
  if (buf == NULL) {
    fc_finish(fc, ESPCONN_MEM);
    return;
  }
  errno = 0;
  ssize_t n = conn_recv(fc, buf, cfg_segment);
  if (n > 0) {
    fc->ec->state = ESPCONN_READ;
    espconn_recv_callback cb = fc->ec->recv_callback;
    TRACE("conn %p receives %zd bytes\n", (void *)fc->ec, n);
    if (cb) {
      fc->in_cb++;
      cb(fc->ec, buf, (unsigned short)n);
      fc->in_cb--;
    }
    if (fc->state == FC_CONNECTED)
      fc->ec->state = ESPCONN_CONNECT;
  } else if (n == 0) {
    fc_finish(fc, 0); /* peer closed: disconcb */
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    fc_finish(fc, errno_to_espconn(errno));
  }
  free(buf);
}

static void on_writable(fconn_t *fc) {
  for (int rounds = 0; rounds < 64 && fc->sq_head != NULL; rounds++) {
    if (fc->state != FC_CONNECTED && fc->state != FC_CLOSING)
      return;
    sendrec_t *r = fc->sq_head;
    errno = 0;
    ssize_t n = conn_send(fc, r->data + r->off, r->len - r->off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      fc_finish(fc, fc->state == FC_CLOSING ? 0 : errno_to_espconn(errno));
      return;
    }
    r->off += (size_t)n;
    if (r->off < r->len)
      return;
    fc->sq_head = r->next;
    if (fc->sq_head == NULL)
      fc->sq_tail = NULL;
    fc->pending -= r->len;
    free(r);
    if (fc->state == FC_CLOSING) {
      if (fc->sq_head == NULL)
        fc_finish(fc, 0);
      continue;
    }
    espconn_sent_callback cb = fc->ec->sent_callback;
    if (cb) {
      fc->in_cb++;
      cb(fc->ec);
      fc->in_cb--;
    }
  }
}

static void run_events(void) {
  event_t *list = ev_head; /* events queued while running wait a turn */
  ev_head = ev_tail = NULL;
  while (list != NULL) {
    event_t *ev = list;
    list = ev->next;
    fconn_t *fc = ev->fc;
    int err = ev->err;
    __real_free(ev);
    struct espconn *ec = fc->ec;
    ec->state = ESPCONN_CLOSE;
    fc->in_cb++;
    if (err == 0) {
      TRACE("conn %p: disconcb\n", (void *)ec);
      if (ec->proto.tcp->disconnect_callback)
        ec->proto.tcp->disconnect_callback(ec);
    } else {
      TRACE("conn %p: reconcb(%d)\n", (void *)ec, err);
      if (ec->proto.tcp->reconnect_callback)
        ec->proto.tcp->reconnect_callback(ec, (sint8)err);
    }
    fc->in_cb--;
    fc->ec = NULL; /* the user may free or reuse *ec from now on */
  }
}

static void reap_conns(void) {
  for (fconn_t **pp = &conns; *pp != NULL;) {
    fconn_t *fc = *pp;
    if (fc->state == FC_DEAD && fc->ec == NULL && fc->in_cb == 0) {
      *pp = fc->next;
      __real_free(fc);
    } else {
      pp = &fc->next;
    }
  }
}

static int conns_open(void) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->state != FC_DEAD)
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* DNS                                                                  */

typedef struct dnsreq {
  struct dnsreq *self;
  dns_found_callback found;
  void *arg;
  int ok;
  uint32_t addr; /* network order */
  int hosts_only;
  char name[DNS_MAX_NAME_LENGTH + 1];
} dnsreq_t;

static int dns_pipe[2] = {-1, -1};
static int dns_pending;

u32_t ipaddr_addr(const char *cp) {
  struct in_addr a;
  if (cp == NULL || inet_pton(AF_INET, cp, &a) != 1)
    return IPADDR_NONE;
  return a.s_addr;
}

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

static int hosts_lookup(const char *name, uint32_t *addr) {
  FILE *f = fopen("/etc/hosts", "re");
  int found = 0;
  if (f != NULL) {
    char line[512];
    while (!found && fgets(line, sizeof line, f) != NULL) {
      char *hash = strchr(line, '#');
      if (hash)
        *hash = '\0';
      char *save = NULL;
      char *tok = strtok_r(line, " \t\r\n", &save);
      struct in_addr a;
      if (tok == NULL || inet_pton(AF_INET, tok, &a) != 1)
        continue;
      while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
        if (name_eq(tok, name)) {
          *addr = a.s_addr;
          found = 1;
          break;
        }
      }
    }
    fclose(f);
  }
  if (!found && name_eq(name, "localhost")) {
    *addr = htonl(INADDR_LOOPBACK);
    found = 1;
  }
  return found;
}

static int is_invalid_tld(const char *name) {
  size_t n = strlen(name);
  while (n > 0 && name[n - 1] == '.')
    n--;
  if (n == 7 && strncasecmp(name, "invalid", 7) == 0)
    return 1;
  return n > 8 && strncasecmp(name + n - 8, ".invalid", 8) == 0;
}

static void *dns_worker(void *p) {
  dnsreq_t *r = p;
  r->ok = 0;
  if (is_invalid_tld(r->name)) {
    /* RFC 6761: never resolves */
  } else if (hosts_lookup(r->name, &r->addr)) {
    r->ok = 1;
  } else if (!r->hosts_only) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(r->name, NULL, &hints, &res) == 0 && res != NULL) {
      r->addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
      r->ok = 1;
    }
    if (res)
      freeaddrinfo(res);
  }
  /* Once written, the request belongs to the loop thread again: write a local
   * copy of the pointer and never touch *r afterwards. */
  dnsreq_t *self = r->self;
  ssize_t w;
  do {
    w = write(dns_pipe[1], &self, sizeof self);
  } while (w < 0 && errno == EINTR);
  if (w != (ssize_t)sizeof self)
    die("DNS worker could not report back");
  return NULL;
}

err_t dns_gethostbyname(const char *name, ip_addr_t *addr, dns_found_callback found,
                        void *arg) {
  load_config();
  if (name == NULL || addr == NULL || found == NULL || name[0] == '\0' ||
      strlen(name) >= DNS_MAX_NAME_LENGTH)
    return ERR_ARG;
  struct in_addr lit;
  if (inet_pton(AF_INET, name, &lit) == 1) {
    addr->addr = lit.s_addr;
    return ERR_OK;
  }
  if (dns_pipe[0] < 0 && pipe2(dns_pipe, O_CLOEXEC) != 0)
    return ERR_MEM;
  dnsreq_t *r = malloc(sizeof *r); /* lwIP's table entry: counts as heap */
  if (r == NULL)
    return ERR_MEM;
  memset(r, 0, sizeof *r);
  r->self = r;
  r->found = found;
  r->arg = arg;
  r->hosts_only = cfg_hosts_only;
  memcpy(r->name, name, strlen(name) + 1);
  pthread_t th;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&th, &at, dns_worker, r);
  pthread_attr_destroy(&at);
  if (rc != 0) {
    free(r);
    return ERR_MEM;
  }
  dns_pending++;
  TRACE("dns lookup of %s started\n", name);
  return ERR_INPROGRESS;
}

static void on_dns_ready(void) {
  dnsreq_t *r = NULL;
  ssize_t n = read(dns_pipe[0], &r, sizeof r);
  if (n != (ssize_t)sizeof r || r == NULL)
    return;
  dns_pending--;
  ip_addr_t ip;
  ip.addr = r->addr;
  TRACE("dns lookup of %s: %s\n", r->name, r->ok ? "ok" : "failed");
  r->found(r->name, r->ok ? &ip : NULL, r->arg);
  free(r);
}

/* ------------------------------------------------------------------ */
/* the loop                                                             */

static int stop_requested;

int fake_sdk_pending(void) {
  return conns_open() || timers_armed() || dns_pending > 0 || ev_head != NULL;
}

void fake_sdk_stop(void) { stop_requested = 1; }

int fake_sdk_step(int timeout_ms) {
  load_config();
  if (!fake_sdk_pending())
    return 0;
  int wait = timeout_ms;
  int buffered = 0;
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    buffered |= conn_buffered(fc);
  if (ev_head != NULL || buffered) {
    wait = 0;
  } else if (timers != NULL) {
    uint64_t now = fake_sdk_now_ms();
    uint64_t d = timers->expire_ms > now ? timers->expire_ms - now : 0;
    if (d > INT32_MAX)
      d = INT32_MAX;
    if (wait < 0 || (uint64_t)wait > d)
      wait = (int)d;
  }

  size_t nconn = 0;
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    nconn++;
  struct pollfd *pfd = __real_malloc((nconn + 1) * sizeof *pfd);
  fconn_t **who = __real_malloc((nconn + 1) * sizeof *who);
  if (pfd == NULL || who == NULL)
    die("out of memory in the loop");
  nfds_t n = 0;
  if (dns_pending > 0) {
    pfd[n].fd = dns_pipe[0];
    pfd[n].events = POLLIN;
    who[n++] = NULL;
  }
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next) {
    short evs = 0;
    if (fc->state == FC_CONNECTING)
      evs = POLLOUT;
#ifdef FAKE_SDK_TLS
    else if (fc->state == FC_HANDSHAKE)
      evs = fc->want ? fc->want : (POLLIN | POLLOUT);
#endif
    else if (fc->state == FC_CONNECTED)
      evs = POLLIN | (fc->sq_head ? POLLOUT : 0);
    else if (fc->state == FC_CLOSING)
      evs = POLLOUT;
    if (evs == 0 || fc->fd < 0)
      continue;
    pfd[n].fd = fc->fd;
    pfd[n].events = evs;
    who[n++] = fc;
  }
  int rc = poll(pfd, n, wait);
  if (rc < 0 && errno != EINTR)
    die("poll failed");
  for (nfds_t i = 0; rc > 0 && i < n; i++) {
    short re = pfd[i].revents;
    if (re == 0)
      continue;
    fconn_t *fc = who[i];
    if (fc == NULL) {
      on_dns_ready();
      continue;
    }
    if (fc->state == FC_CONNECTING) {
      on_connect_ready(fc);
      continue;
    }
#ifdef FAKE_SDK_TLS
    if (fc->state == FC_HANDSHAKE) {
      if (!tls_handshake_step(fc))
        fc_finish(fc, ESPCONN_HANDSHAKE);
      continue;
    }
#endif
    if (fc->state == FC_CONNECTED && (re & (POLLIN | POLLHUP | POLLERR)))
      on_readable(fc);
    /* a TLS write may wait for the socket to become readable */
    if ((fc->state == FC_CONNECTED || fc->state == FC_CLOSING) && fc->sq_head != NULL &&
        (re & (POLLOUT | POLLERR | POLLHUP | (fc->tls ? POLLIN : 0))))
      on_writable(fc);
  }
  /* decrypted data left inside a TLS engine: no socket event will announce it */
  if (buffered)
    for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
      if (conn_buffered(fc))
        on_readable(fc);
  __real_free(pfd);
  __real_free(who);
  run_timers();
  run_events();
  reap_conns();
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
