/* Fake ESP8266 NonOS SDK, espconn TCP client (espconn.h) over non-blocking
 * POSIX sockets, following NodeMCU's app/lwip/app/espconn.c and
 * espconn_tcp.c where a caller can tell the difference:
 *
 *   - espconn_send returns ESPCONN_ARG while an earlier send is not yet
 *     wholly inside lwIP (espconn's write_flag), ESPCONN_MAXNUM when lwIP's
 *     queue holds TCP_SND_QUEUELEN (8) segments, lwIP's ERR_CONN (-13) after
 *     espconn_disconnect while the connection is still closing, ESPCONN_MEM
 *     / ESPCONN_RTE by fault injection (fault.c).
 *   - espconn_send copies into "lwIP" only what fits into the send buffer
 *     (FAKE_SDK_SEND_LIMIT, TCP_SND_BUF = 2920 by default); the rest is read
 *     from the CALLER's buffer later, as bytes are acknowledged, exactly as
 *     espconn_buf does. Those late reads are checked against a copy taken at
 *     send time: a buffer changed or freed before its sent callback aborts.
 *   - one sent callback per accepted send, once all its bytes are gone
 *     ("acknowledged" = written to the kernel socket here).
 *   - espconn_connect: ESPCONN_ISCONN when FAKE_SDK_MAX_TCP (5) connections
 *     are active or the local port is in use; the SDK reads every listed
 *     espconn while counting (a freed espconn shows up under ASan).
 *   - espconn_disconnect: ESPCONN_INPROGRESS while the connection is already
 *     closing (its final callback is due), ESPCONN_ARG when unknown.
 * Misuse that crashes the real SDK (espconn_disconnect from inside a
 * callback of the same connection, espconn_send from inside the final
 * callback of a connection) aborts loudly. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LWIP_TCP_MSS 1460
/* NodeMCU lwipopts.h: (4 * TCP_SND_BUF + LWIP_TCP_MSS - 1) / LWIP_TCP_MSS, TCP_SND_BUF = 2 * LWIP_TCP_MSS */
#define TCP_SND_QUEUELEN 8

static fconn_t *conns;

/* Deferred final callbacks (disconcb / reconcb) of dead connections. */
typedef struct event {
  struct event *next;
  fconn_t *fc;
  int err; /* 0 = disconcb, else reconcb(err) */
} event_t;

static event_t *ev_head, *ev_tail;

fconn_t *fsdk_conn_find(const struct espconn *ec) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->ec == ec && fc->state != FC_DEAD)
      return fc;
  return NULL;
}

/* Still on espconn's active list: alive, or dead with its final callback
 * not yet delivered. */
static fconn_t *conn_listed(const struct espconn *ec) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->ec == ec)
      return fc;
  return NULL;
}

fconn_t *fsdk_conn_in_cb(const struct espconn *ec) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->ec == ec && fc->in_cb > 0)
      return fc;
  return NULL;
}

fconn_t *fsdk_conn_new(struct espconn *ec, int tls) {
  fconn_t *fc = __real_calloc(1, sizeof *fc);
  if (fc == NULL)
    return NULL;
  fc->ec = ec;
  fc->fd = -1;
  fc->tls = tls;
  fc->next = conns;
  conns = fc;
  return fc;
}

static void free_chunk(chunk_t *c) {
  if (c->accounted)
    free(c);
  else
    __real_free(c);
}

static void free_urec(fconn_t *fc, urec_t *r) {
  __real_free(r->shadow);
  if (fc->tls)
    __real_free(r);
  else
    free(r);
}

static void queues_free(fconn_t *fc) {
  while (fc->cq_head != NULL) {
    chunk_t *c = fc->cq_head;
    fc->cq_head = c->next;
    free_chunk(c);
  }
  fc->cq_tail = NULL;
  while (fc->rq_head != NULL) {
    urec_t *r = fc->rq_head;
    fc->rq_head = r->next;
    free_urec(fc, r);
  }
  fc->rq_tail = NULL;
  fc->in_stack = 0;
  fc->segs = 0;
}

urec_t *fsdk_urec_new(fconn_t *fc, const uint8_t *data, size_t len) {
  /* TCP: espconn_buf is os_zalloc'ed (device heap); TLS: ptrbuf/cntr live in
   * the connection's own block. The shadow copy exists only on the host. */
  urec_t *r = fc->tls ? __real_calloc(1, sizeof *r) : calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->shadow = fsdk_book_alloc(len, "for a send record");
  memcpy(r->shadow, data, len);
  r->ptr = data;
  r->len = len;
  if (fc->rq_tail)
    fc->rq_tail->next = r;
  else
    fc->rq_head = r;
  fc->rq_tail = r;
  return r;
}

chunk_t *fsdk_chunk_take(fconn_t *fc, urec_t *r, size_t n, int late, int accounted) {
  if (late && memcmp(r->ptr + r->taken, r->shadow + r->taken, n) != 0)
    fsdk_die("the buffer of an accepted espconn_send/espconn_secure_send changed before "
             "the SDK read it: the SDK keeps the caller's pointer and reads the bytes "
             "that did not go out at once (TCP: beyond lwIP's send buffer; TLS: beyond "
             "the first 1460-byte record) later, until the sent callback");
  chunk_t *c = accounted ? malloc(sizeof *c + n) : __real_malloc(sizeof *c + n);
  if (c == NULL)
    return NULL;
  c->next = NULL;
  c->rec = r;
  c->len = n;
  c->off = 0;
  c->accounted = accounted;
  memcpy(c->data, r->ptr + r->taken, n); /* read where the SDK reads: the caller's buffer */
  r->taken += n;
  if (fc->cq_tail)
    fc->cq_tail->next = c;
  else
    fc->cq_head = c;
  fc->cq_tail = c;
  fc->in_stack += n;
  fc->segs++;
  return c;
}

void fsdk_conn_finish(fconn_t *fc, int err) {
  fsdk_tls_free(fc, err == 0);
  if (fc->fd >= 0) {
    close(fc->fd);
    fc->fd = -1;
  }
  queues_free(fc);
  fc->state = FC_DEAD;
  if (fc->ec != NULL)
    fc->ec->state = ESPCONN_CLOSE;
  event_t *ev = fsdk_book_alloc(sizeof *ev, "queueing an event");
  ev->next = NULL;
  ev->fc = fc;
  ev->err = err;
  if (ev_tail)
    ev_tail->next = ev;
  else
    ev_head = ev;
  ev_tail = ev;
  FSDK_TRACE("conn %p ends (%d), callback queued\n", (void *)fc->ec, err);
}

int fsdk_errno_to_espconn(int e) {
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

/* espconn_regist_*: ESPCONN_ARG for a connection the callback cannot go on
 * (the TCP ones need proto.tcp), otherwise the callback stored. */
#define REGIST_CB(name, cb_type, usable, slot)                                 \
  sint8 name(struct espconn *ec, cb_type cb) {                                 \
    if (!(usable))                                                             \
      return ESPCONN_ARG;                                                      \
    ec->slot = cb;                                                             \
    return ESPCONN_OK;                                                         \
  }
REGIST_CB(espconn_regist_connectcb, espconn_connect_callback, espconn_ok(ec),
          proto.tcp->connect_callback)
REGIST_CB(espconn_regist_reconcb, espconn_reconnect_callback, espconn_ok(ec),
          proto.tcp->reconnect_callback)
REGIST_CB(espconn_regist_disconcb, espconn_connect_callback, espconn_ok(ec),
          proto.tcp->disconnect_callback)
REGIST_CB(espconn_regist_recvcb, espconn_recv_callback, ec != NULL, recv_callback)
REGIST_CB(espconn_regist_sentcb, espconn_sent_callback, ec != NULL, sent_callback)

sint8 espconn_set_opt(struct espconn *ec, uint8 opt) {
  (void)opt;
  return ec != NULL ? ESPCONN_OK : ESPCONN_ARG;
}

sint8 espconn_clear_opt(struct espconn *ec, uint8 opt) {
  (void)opt;
  return ec != NULL ? ESPCONN_OK : ESPCONN_ARG;
}

/* NodeMCU's SSL_BUFFER_SIZE (user_config.h, 4096) + ESPCONN_SECURE_DEFAULT_HEAP
 * (0x3800): espconn_secure_connect refuses with ESPCONN_MEM unless more than
 * this much heap is free. */
#define SECURE_HEAP_NEEDED (4096u + 0x3800u)

sint8 fsdk_start_connect(struct espconn *ec, int tls) {
  fsdk_load_config();
  if (!espconn_ok(ec))
    return ESPCONN_ARG;
  enum fsdk_fault f = fsdk_fault_next(FSDK_API_CONNECT);
  switch (f) {
  case FSDK_CONNECT_RTE:
    return ESPCONN_RTE;
  case FSDK_CONNECT_STATION:
    return 3; /* STATION_NO_AP_FOUND, returned as is by the SDK */
  case FSDK_CONNECT_MEM:
    return ESPCONN_MEM;
  case FSDK_CONNECT_MEM_KEPT:
    if (tls)
      return ESPCONN_MEM;
    break;
  case FSDK_CONNECT_ISCONN:
    if (!tls)
      return ESPCONN_ISCONN;
    break;
  default:
    break;
  }
  if (!tls) {
    /* espconn_get_acticve_num and the local-port check walk every listed
     * connection and read its espconn, as the SDK does. */
    size_t active = 0;
    for (fconn_t *fc = conns; fc != NULL; fc = fc->next) {
      if (fc->ec == NULL)
        continue;
      if (fc->ec->type == ESPCONN_TCP)
        active++;
    }
    if (active >= fsdk_cfg.max_tcp) {
      FSDK_TRACE("conn %p: %zu connections active, ISCONN\n", (void *)ec, active);
      return ESPCONN_ISCONN;
    }
    for (fconn_t *fc = conns; fc != NULL; fc = fc->next) {
      if (fc->ec == NULL)
        continue;
      if (fc->ec == ec || (fc->ec->type == ESPCONN_TCP && fc->ec->proto.tcp != NULL &&
                           fc->ec->proto.tcp->local_port == ec->proto.tcp->local_port))
        return ESPCONN_ISCONN;
    }
  } else {
    if (conn_listed(ec) != NULL)
      fsdk_die("espconn_secure_connect on an espconn that is still connected");
    if (system_get_free_heap_size() <= SECURE_HEAP_NEEDED)
      return ESPCONN_MEM;
  }
  fconn_t *fc = fsdk_conn_new(ec, tls);
  if (fc == NULL)
    return ESPCONN_MEM;
  ec->state = ESPCONN_WAIT;
  if (f == FSDK_CONNECT_MEM_KEPT) {
    fc->state = FC_KEPT;
    FSDK_TRACE("conn %p: connect fails with MEM, espconn keeps it\n", (void *)ec);
    return ESPCONN_MEM;
  }
  fc->state = FC_CONNECTING;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    conns = fc->next; /* just linked at the head */
    __real_free(fc);
    return ESPCONN_MEM;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fc->fd = fd;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)ec->proto.tcp->remote_port);
  memcpy(&sa.sin_addr.s_addr, ec->proto.tcp->remote_ip, 4);
  FSDK_TRACE("conn %p connects to %u.%u.%u.%u:%d%s\n", (void *)ec, ec->proto.tcp->remote_ip[0],
             ec->proto.tcp->remote_ip[1], ec->proto.tcp->remote_ip[2],
             ec->proto.tcp->remote_ip[3], ec->proto.tcp->remote_port, tls ? " (TLS)" : "");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
    fsdk_conn_finish(fc, fsdk_errno_to_espconn(errno)); /* reported from the loop */
  return ESPCONN_OK;
}

sint8 espconn_connect(struct espconn *ec) { return fsdk_start_connect(ec, 0); }

sint8 fsdk_disconnect(struct espconn *ec, const char *api) {
  if (ec != NULL && fsdk_conn_in_cb(ec) != NULL) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "%s called from inside a callback of the same espconn "
             "(crashes the real SDK; defer it with a task or a 0 ms timer)",
             api);
    fsdk_die(msg);
  }
  if (ec == NULL || ec->type != ESPCONN_TCP)
    return ESPCONN_ARG;
  fconn_t *fc = conn_listed(ec);
  if (fc == NULL)
    return ESPCONN_ARG;
  if (fc->state == FC_DEAD || fc->state == FC_CLOSING)
    return ESPCONN_INPROGRESS; /* state ESPCONN_CLOSE: the final callback is due */
  FSDK_TRACE("conn %p: %s\n", (void *)ec, api);
  if (fc->state != FC_CONNECTED || fc->cq_head == NULL) {
    fsdk_conn_finish(fc, 0);
  } else {
    /* lwIP sends what it holds, then the FIN; what espconn had not yet
     * handed to lwIP is dropped. */
    fc->state = FC_CLOSING;
    ec->state = ESPCONN_CLOSE;
    shutdown(fc->fd, SHUT_RD);
  }
  return ESPCONN_OK;
}

sint8 espconn_disconnect(struct espconn *ec) { return fsdk_disconnect(ec, "espconn_disconnect"); }

sint8 espconn_abort(struct espconn *ec) {
  if (ec != NULL && fsdk_conn_in_cb(ec) != NULL)
    fsdk_die("espconn_abort called from inside a callback of the same espconn");
  fconn_t *fc = fsdk_conn_find(ec);
  if (fc == NULL)
    return ESPCONN_ARG;
  if (fc->fd >= 0) {
    struct linger lg = {1, 0};
    setsockopt(fc->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  fsdk_conn_finish(fc, 0);
  return ESPCONN_OK;
}

sint8 espconn_delete(struct espconn *ec) {
  return fsdk_conn_find(ec) != NULL ? ESPCONN_INPROGRESS : ESPCONN_OK;
}

/* espconn_tcp_write: hand lwIP as much of the queued data as its send
 * buffer takes, one segment (<= LWIP_TCP_MSS) at a time. `late`: called from the
 * loop, after espconn_send returned (the caller's buffer is read then). */
static sint8 tcp_pull(fconn_t *fc, int late) {
  sint8 rc = ESPCONN_OK;
  urec_t *r = fc->rq_head;
  while (fc->in_stack < fsdk_cfg.send_limit) {
    while (r != NULL && r->taken == r->len)
      r = r->next;
    if (r == NULL)
      break;
    size_t n = r->len - r->taken;
    if (n > fsdk_cfg.send_limit - fc->in_stack)
      n = fsdk_cfg.send_limit - fc->in_stack;
    if (n > LWIP_TCP_MSS)
      n = LWIP_TCP_MSS;
    if (fsdk_chunk_take(fc, r, n, late, 1) == NULL) {
      rc = ESPCONN_MEM; /* tcp_write: ERR_MEM */
      break;
    }
  }
  while (r != NULL && r->taken == r->len)
    r = r->next;
  fc->write_flag = r == NULL;
  return rc;
}

sint8 espconn_send(struct espconn *ec, uint8 *data, uint16 len) {
  fconn_t *fc = fsdk_conn_find(ec);
  if (fc == NULL && ec != NULL && fsdk_conn_in_cb(ec) != NULL)
    fsdk_die("espconn_send called from inside a callback of an espconn that is "
             "already disconnected (crashes the real SDK)");
  if (ec == NULL || data == NULL || len == 0)
    return ESPCONN_ARG;
  if (fc != NULL && fc->tls)
    fsdk_die("espconn_send on a TLS connection (espconn_secure_send is the TLS send)");
  if (fc != NULL && fc->state == FC_CLOSING)
    return -13; /* lwIP ERR_CONN: tcp_write on a pcb that has sent its FIN */
  if (fc == NULL || fc->state != FC_CONNECTED)
    return ESPCONN_ARG;
  if (!fc->write_flag) {
    FSDK_TRACE("conn %p: send of %u refused, an earlier send is not yet inside lwIP\n",
               (void *)ec, len);
    return ESPCONN_ARG;
  }
  if (fc->segs >= TCP_SND_QUEUELEN) {
    FSDK_TRACE("conn %p: send of %u refused, %zu segments queued\n", (void *)ec, len, fc->segs);
    return ESPCONN_MAXNUM;
  }
  enum fsdk_fault f = fsdk_fault_next(FSDK_API_SEND);
  if (f == FSDK_SEND_MEM)
    return ESPCONN_MEM;
  ec->state = ESPCONN_WRITE;
  if (fsdk_urec_new(fc, data, len) == NULL)
    return ESPCONN_MEM;
  fc->write_flag = 0;
  if (f == FSDK_SEND_MEM_KEPT)
    return ESPCONN_MEM; /* queued on espconn's list, nothing inside lwIP */
  sint8 rc = tcp_pull(fc, 0);
  if (f == FSDK_SEND_RTE)
    return ESPCONN_RTE; /* tcp_output: no route; the data stays inside lwIP */
  return rc;
}

sint8 espconn_sent(struct espconn *ec, uint8 *data, uint16 len) {
  return espconn_send(ec, data, len);
}

/* --- loop side --- */

void fsdk_call_sent(fconn_t *fc) {
  fc->ec->state = ESPCONN_CONNECT;
  espconn_sent_callback cb = fc->ec->sent_callback;
  if (cb) {
    fc->in_cb++;
    cb(fc->ec);
    fc->in_cb--;
  }
}

static ssize_t conn_recv(fconn_t *fc, char *buf, size_t len) {
  if (fc->ssl != NULL)
    return fsdk_tls_io(fc, buf, len, 0);
  return recv(fc->fd, buf, len, 0);
}

static ssize_t conn_send(fconn_t *fc, const uint8_t *data, size_t len) {
  if (fc->ssl != NULL)
    return fsdk_tls_io(fc, (void *)data, len, 1);
  return send(fc->fd, data, len, MSG_NOSIGNAL);
}

static void on_connect_ready(fconn_t *fc) {
  int err = 0;
  socklen_t el = sizeof err;
  if (getsockopt(fc->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
    err = errno;
  if (err != 0) {
    fsdk_conn_finish(fc, fsdk_errno_to_espconn(err));
    return;
  }
  if (fc->tls) {
    if (!fsdk_tls_start(fc))
      fsdk_conn_finish(fc, ESPCONN_HANDSHAKE);
    return;
  }
  fsdk_conn_established(fc);
}

void fsdk_conn_established(fconn_t *fc) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  if (getsockname(fc->fd, (struct sockaddr *)&sa, &sl) == 0) {
    if (fc->ec->proto.tcp->local_port == 0)
      fc->ec->proto.tcp->local_port = ntohs(sa.sin_port);
    memcpy(fc->ec->proto.tcp->local_ip, &sa.sin_addr.s_addr, 4);
  }
  fc->state = FC_CONNECTED;
  fc->ec->state = ESPCONN_CONNECT;
  fc->write_flag = 1;
  fc->sent_fn = 1; /* NodeMCU sets SentFnFlag just before the connect event */
  FSDK_TRACE("conn %p connected\n", (void *)fc->ec);
  espconn_connect_callback cb = fc->ec->proto.tcp->connect_callback;
  if (cb) {
    fc->in_cb++;
    cb(fc->ec);
    fc->in_cb--;
  }
}

/* How long a connection without memory for a receive pbuf leaves the data
 * where it is before trying again (the peer's retransmission, shortened). */
#define RX_RETRY_MS 20

static int rx_waiting(const fconn_t *fc) {
  return fc->rx_wait_until != 0 && fake_sdk_now_ms() < fc->rx_wait_until;
}

static void on_readable(fconn_t *fc) {
  if (rx_waiting(fc))
    return;
  char *buf = malloc(fsdk_cfg.segment + 1); /* like a pbuf: counts as heap */
  if (buf == NULL) {
    /* lwIP drops a segment it has no pbuf for; TCP sends it again later.
     * The bytes stay in the socket until the retry. */
    fc->rx_wait_until = fake_sdk_now_ms() + RX_RETRY_MS;
    FSDK_TRACE("conn %p: no memory for a receive pbuf, retry in %d ms\n", (void *)fc->ec,
               RX_RETRY_MS);
    return;
  }
  fc->rx_wait_until = 0;
  errno = 0;
  ssize_t n = conn_recv(fc, buf, fsdk_cfg.segment);
  if (n > 0) {
    fc->ec->state = ESPCONN_READ;
    espconn_recv_callback cb = fc->ec->recv_callback;
    FSDK_TRACE("conn %p receives %zd bytes\n", (void *)fc->ec, n);
    if (cb) {
      fc->in_cb++;
      cb(fc->ec, buf, (unsigned short)n);
      fc->in_cb--;
    }
    if (fc->state == FC_CONNECTED)
      fc->ec->state = ESPCONN_CONNECT;
  } else if (n == 0) {
    fsdk_conn_finish(fc, 0); /* peer closed: disconcb */
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    fsdk_conn_finish(fc, fsdk_errno_to_espconn(errno));
  }
  free(buf);
}

/* Bytes inside the stack go to the socket; what has gone counts as
 * acknowledged (espconn_client_sent / the TLS record callback). */
static void on_writable(fconn_t *fc) {
  for (int rounds = 0; rounds < 64 && fc->cq_head != NULL; rounds++) {
    if (fc->state != FC_CONNECTED && fc->state != FC_CLOSING)
      return;
    chunk_t *c = fc->cq_head;
    errno = 0;
    ssize_t n = conn_send(fc, c->data + c->off, c->len - c->off);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      fsdk_conn_finish(fc, fc->state == FC_CLOSING ? 0 : fsdk_errno_to_espconn(errno));
      return;
    }
    c->off += (size_t)n;
    if (c->off < c->len)
      return;
    fc->cq_head = c->next;
    if (fc->cq_head == NULL)
      fc->cq_tail = NULL;
    fc->in_stack -= c->len;
    fc->segs--;
    c->rec->done += c->len;
    free_chunk(c);
    if (fc->state == FC_CLOSING) {
      if (fc->cq_head == NULL)
        fsdk_conn_finish(fc, 0);
      continue;
    }
    if (fc->tls) {
      fsdk_tls_record_done(fc);
      continue;
    }
    /* espconn_tcp_finish: first more data into lwIP, then the sent callback
     * of every send whose bytes have all been acknowledged. */
    tcp_pull(fc, 1);
    while (fc->state == FC_CONNECTED && fc->rq_head != NULL &&
           fc->rq_head->done == fc->rq_head->len) {
      urec_t *r = fc->rq_head;
      fc->rq_head = r->next;
      if (fc->rq_head == NULL)
        fc->rq_tail = NULL;
      free_urec(fc, r);
      fsdk_call_sent(fc);
    }
  }
}

void fsdk_run_events(void) {
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
      FSDK_TRACE("conn %p: disconcb\n", (void *)ec);
      if (ec->proto.tcp->disconnect_callback)
        ec->proto.tcp->disconnect_callback(ec);
    } else {
      FSDK_TRACE("conn %p: reconcb(%d)\n", (void *)ec, err);
      if (ec->proto.tcp->reconnect_callback)
        ec->proto.tcp->reconnect_callback(ec, (sint8)err);
    }
    fc->in_cb--;
    fc->ec = NULL; /* the user may free or reuse *ec from now on */
  }
}

void fsdk_reap_conns(void) {
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

int fsdk_conns_open(void) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->state != FC_DEAD)
      return 1;
  return 0;
}

int fsdk_events_queued(void) { return ev_head != NULL; }

size_t fsdk_conn_count(void) {
  size_t n = 0;
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    n++;
  return n;
}

size_t fsdk_conn_poll(struct pollfd *pfd, fconn_t **who, size_t max) {
  size_t n = 0;
  for (fconn_t *fc = conns; fc != NULL && n < max; fc = fc->next) {
    short evs = 0;
    if (fc->state == FC_CONNECTING)
      evs = POLLOUT;
    else if (fc->state == FC_HANDSHAKE)
      evs = fc->want ? fc->want : (POLLIN | POLLOUT);
    else if (fc->state == FC_CONNECTED)
      evs = (rx_waiting(fc) ? 0 : POLLIN) | (fc->cq_head ? POLLOUT : 0);
    else if (fc->state == FC_CLOSING)
      evs = POLLOUT;
    if (evs == 0 || fc->fd < 0)
      continue;
    pfd[n].fd = fc->fd;
    pfd[n].events = evs;
    who[n++] = fc;
  }
  return n;
}

void fsdk_conn_dispatch(fconn_t *fc, short re) {
  if (fc->state == FC_CONNECTING) {
    on_connect_ready(fc);
    return;
  }
  if (fc->state == FC_HANDSHAKE) {
    if (!fsdk_tls_step(fc))
      fsdk_conn_finish(fc, ESPCONN_HANDSHAKE);
    return;
  }
  if (fc->state == FC_CONNECTED && (re & (POLLIN | POLLHUP | POLLERR)))
    on_readable(fc);
  /* a TLS write may wait for the socket to become readable */
  if ((fc->state == FC_CONNECTED || fc->state == FC_CLOSING) && fc->cq_head != NULL &&
      (re & (POLLOUT | POLLERR | POLLHUP | (fc->tls ? POLLIN : 0))))
    on_writable(fc);
}

int fsdk_conns_buffered(void) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->state == FC_CONNECTED && !rx_waiting(fc) && fsdk_tls_buffered(fc))
      return 1;
  return 0;
}

int fsdk_conn_next_retry(uint64_t *when_ms) {
  int any = 0;
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->state == FC_CONNECTED && fc->rx_wait_until != 0 &&
        (!any || fc->rx_wait_until < *when_ms)) {
      *when_ms = fc->rx_wait_until;
      any = 1;
    }
  return any;
}

void fsdk_conns_drain_buffered(void) {
  for (fconn_t *fc = conns; fc != NULL; fc = fc->next)
    if (fc->state == FC_CONNECTED && fsdk_tls_buffered(fc))
      on_readable(fc);
}
