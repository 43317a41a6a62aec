/* Internal interfaces between the parts of the fake ESP8266 SDK (host only).
 *
 * The fake SDK is split the way the real SDK's headers split it:
 *   core.c     configuration, clock, system_*, os_random, the poll() loop
 *   heap.c     heap accounting (mem.h, system_get_free_heap_size)
 *   timer.c    os_timer (osapi.h) and NodeMCU's timer-suspension registry
 *              (pm/swtimer.h)
 *   dns.c      lwIP DNS (lwip/dns.h, ipaddr_addr)
 *   espconn.c  espconn TCP client (espconn.h; NodeMCU's app/lwip/app/espconn*.c)
 *   secure.c   espconn_secure_* over OpenSSL (NodeMCU's app/mbedtls/app/)
 *   fault.c    fault injection (FAKE_SDK_FAULTS, fake_sdk_fault)
 *   rom.c      the ROM's SHA-1 (rom.h); stands alone, without this header
 * Include this header first in each of the others. */
#ifndef FAKE_SDK_INTERNAL_H
#define FAKE_SDK_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "espconn.h"
#include "fake_sdk.h"
#include "lwip/dns.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "mem.h"
#include "os_type.h"
#include "osapi.h"
#include "user_interface.h"

/* ---- core.c: configuration (environment, read once) ---- */
typedef struct {
  size_t segment;     /* FAKE_SDK_SEGMENT: largest chunk per recv callback */
  size_t send_limit;  /* FAKE_SDK_SEND_LIMIT: lwIP's send buffer (TCP_SND_BUF) */
  size_t max_tcp;     /* FAKE_SDK_MAX_TCP: active TCP connections (MEMP_NUM_TCP_PCB) */
  int hosts_only;     /* FAKE_SDK_DNS_HOSTS_ONLY */
  int trace;          /* FAKE_SDK_TRACE */
  size_t heap_budget; /* NODEMCU_HEAP */
  size_t heap_limit;  /* FAKE_SDK_HEAP_LIMIT: device-class bytes (0 = none) */
} fsdk_config_t;

extern fsdk_config_t fsdk_cfg;
void fsdk_load_config(void);
void fsdk_die(const char *what) __attribute__((noreturn));
uint64_t fsdk_now_us(void);

#define FSDK_TRACE(...)                                                        \
  do {                                                                         \
    if (fsdk_cfg.trace)                                                        \
      fprintf(stderr, "fake-sdk: " __VA_ARGS__);                               \
  } while (0)

/* ---- heap.c: the unaccounted allocator (SDK bookkeeping that has no
 * counterpart on the device's heap) ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
/* __real_malloc for bookkeeping the fake cannot go without: dies with
 * "out of memory <what>" when it fails. */
void *fsdk_book_alloc(size_t n, const char *what);

/* ---- timer.c ---- */
int fsdk_timers_armed(void);
/* Expiry (fake_sdk_now_ms clock) of the earliest armed timer; 0 if none. */
int fsdk_timer_next(uint64_t *expire_ms);
void fsdk_run_timers(void);

/* ---- dns.c ---- */
int fsdk_dns_pending(void);
int fsdk_dns_fd(void); /* readable when a lookup finished; -1 if none runs */
void fsdk_dns_ready(void);

/* ---- espconn.c / secure.c: one espconn (TCP or TLS) ---- */
enum fc_state {
  FC_CONNECTING, /* socket connecting */
  FC_KEPT,       /* espconn_connect failed after listing it: no socket, no
                    callback until espconn_disconnect (fault connect_mem_kept) */
  FC_HANDSHAKE,  /* TLS handshake running */
  FC_CONNECTED,
  FC_CLOSING,    /* espconn_disconnect: flushing what lwIP holds, then FIN */
  FC_DEAD        /* socket gone; final callback queued (ec set) or delivered (ec NULL) */
};

/* One accepted espconn_send / espconn_secure_send. Like espconn_buf (TCP)
 * and the ptrbuf/cntr pair (TLS) of the real SDK it holds the CALLER's
 * pointer: bytes not yet taken into the stack are read from there later. */
typedef struct urec {
  struct urec *next;
  const uint8_t *ptr; /* the caller's buffer */
  uint8_t *shadow;    /* the bytes as they were at send time (unaccounted) */
  size_t len;
  size_t taken; /* bytes copied into the stack so far */
  size_t done;  /* bytes of those gone to the peer */
} urec_t;

/* Bytes inside the stack: lwIP's copy (TCP) or one TLS record (TLS). */
typedef struct chunk {
  struct chunk *next;
  urec_t *rec;
  size_t len, off;
  int accounted; /* allocated on the device heap (lwIP pbuf) */
  uint8_t data[];
} chunk_t;

typedef struct fconn {
  struct fconn *next;
  struct espconn *ec; /* NULL once the final callback has run */
  int fd;
  enum fc_state state;
  int tls;
  int in_cb; /* callbacks of this connection running now */
  urec_t *rq_head, *rq_tail;
  chunk_t *cq_head, *cq_tail;
  size_t in_stack; /* bytes in cq (TCP: lwIP send buffer in use) */
  size_t segs;     /* chunks in cq (TCP: lwIP's snd_queuelen) */
  int write_flag;  /* TCP: every accepted byte is inside lwIP (espconn's write_flag) */
  int sent_fn;     /* TLS: no write in flight (NodeMCU's SentFnFlag) */
  SSL *ssl;
  short want; /* poll events the TLS engine waits for */
  uint64_t rx_wait_until; /* no memory for a receive pbuf: do not read before
                             this time (fake_sdk_now_ms), as lwIP drops the
                             segment and the peer sends it again */
} fconn_t;

fconn_t *fsdk_conn_new(struct espconn *ec, int tls);
fconn_t *fsdk_conn_find(const struct espconn *ec); /* not dead */
fconn_t *fsdk_conn_in_cb(const struct espconn *ec);
/* Ends the connection: closes the socket, marks it dead and queues its final
 * callback (err 0: disconcb, else reconcb(err)) for the loop. */
void fsdk_conn_finish(fconn_t *fc, int err);
void fsdk_conn_established(fconn_t *fc);
/* Copies bytes of a record into a new stack chunk; `late`: the caller's
 * buffer is read after the API call returned (checked against the shadow). */
chunk_t *fsdk_chunk_take(fconn_t *fc, urec_t *r, size_t n, int late, int accounted);
urec_t *fsdk_urec_new(fconn_t *fc, const uint8_t *data, size_t len);
void fsdk_call_sent(fconn_t *fc);
int fsdk_errno_to_espconn(int e);
sint8 fsdk_start_connect(struct espconn *ec, int tls);
sint8 fsdk_disconnect(struct espconn *ec, const char *api);
int fsdk_conns_open(void);
int fsdk_events_queued(void);
size_t fsdk_conn_count(void);
/* Fills pfd/who with the connections' poll requests; returns how many. */
size_t fsdk_conn_poll(struct pollfd *pfd, fconn_t **who, size_t max);
void fsdk_conn_dispatch(fconn_t *fc, short revents);
int fsdk_conns_buffered(void);
/* Earliest time (fake_sdk_now_ms) a connection starved of receive memory
 * tries again; 0 if none waits. */
int fsdk_conn_next_retry(uint64_t *when_ms);
void fsdk_conns_drain_buffered(void);
void fsdk_run_events(void);
void fsdk_reap_conns(void);

/* secure.c: the TLS engine under a connection */
int fsdk_tls_start(fconn_t *fc);  /* 0: the handshake failed at once */
int fsdk_tls_step(fconn_t *fc);   /* 0: the handshake failed */
void fsdk_tls_free(fconn_t *fc, int graceful);
ssize_t fsdk_tls_io(fconn_t *fc, void *buf, size_t len, int writing);
int fsdk_tls_buffered(fconn_t *fc);
/* After a TLS record went out: the next record of the write in flight, or
 * its end (SentFnFlag, sent callback). */
void fsdk_tls_record_done(fconn_t *fc);

/* ---- fault.c ---- */
enum fsdk_fault {
  FSDK_FAULT_NONE = 0,
  FSDK_CONNECT_MEM,      /* espconn_connect/_secure_connect: ESPCONN_MEM, nothing kept */
  FSDK_CONNECT_MEM_KEPT, /* espconn_connect: ESPCONN_MEM, espconn keeps the node */
  FSDK_CONNECT_ISCONN,   /* espconn_connect: ESPCONN_ISCONN (local port in use) */
  FSDK_CONNECT_RTE,      /* espconn_connect/_secure_connect: ESPCONN_RTE (no IP) */
  FSDK_CONNECT_STATION,  /* espconn_connect/_secure_connect: 3 (STATION_NO_AP_FOUND) */
  FSDK_SEND_MEM,         /* espconn_send: ESPCONN_MEM, nothing queued */
  FSDK_SEND_MEM_KEPT,    /* espconn_send: ESPCONN_MEM, the data stays queued */
  FSDK_SEND_RTE,         /* espconn_send: ESPCONN_RTE, the data is inside lwIP */
  FSDK_FAULT_COUNT
};
enum fsdk_fault_api { FSDK_API_CONNECT, FSDK_API_SEND, FSDK_API_COUNT };
/* Counts one call of `api` and returns the fault planned for it (or NONE). */
enum fsdk_fault fsdk_fault_next(enum fsdk_fault_api api);

#endif
