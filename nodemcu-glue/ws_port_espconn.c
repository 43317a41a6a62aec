/*
 * ws_port_espconn.c - the libwebsocket port for the ESP8266 NonOS SDK.
 *
 * Implements the ws_port_* functions declared in websocket/websocketclient.h
 * on top of espconn (TCP and TLS), lwIP DNS, os_timer, os_random and the
 * ROM's SHA-1, and feeds the platform's events back into the library
 * through ws_event_*.
 *
 * The same file is compiled unchanged for the host against the fake SDK in
 * nodemcu-glue/host/.
 *
 * Rules this file keeps (see the port contract in the header):
 *   - No ws_port_* function calls a ws_event_* function before returning;
 *     events only come from espconn, DNS and timer callbacks.
 *   - After ws_port_close(ws) no event reaches the library for that ws and
 *     *ws is not touched again.  The per-connection port state may outlive
 *     ws_port_close: a pending DNS query cannot be cancelled in lwIP and an
 *     espconn disconnect completes asynchronously.  The state is freed once
 *     neither can call back into it any more.
 *   - espconn_disconnect is never called from inside an espconn callback;
 *     it runs from a 0 ms os_timer.
 *   - Sending: the send queue lives in the library; the port has at most ONE
 *     chunk in flight and answers WS_PORT_BUSY while it has (its sent
 *     callback is then due; the library re-sends after ws_event_sent).
 *     espconn does not copy everything it accepts: the TCP espconn_send
 *     (app/lwip/app/espconn.c) copies into lwIP only what fits into the send
 *     buffer and keeps the caller's pointer for the rest (espconn_buf), and
 *     the TLS espconn_secure_send (app/mbedtls/app/espconn_secure.c)
 *     encrypts the first 1460 bytes and keeps the pointer for the rest
 *     (ptrbuf/cntr). Both read the remainder later, until the sent
 *     callback. The library keeps the chunk's bytes valid and unchanged
 *     until its ws_event_sent, so espconn gets the library's pointer (no
 *     copy: a send needs the message's memory once, not twice). If the
 *     connection ends while espconn may still read them (ws_port_close
 *     with the sent callback due, or after a refused send), the port
 *     holds them with ws_hold_sending and frees them with ws_free_held
 *     once espconn is done (sent or final callback, or the end of the
 *     port state). One chunk in flight is also espconn_secure's own rule
 *     (a second TLS write before the sent callback gets
 *     ESPCONN_INPROGRESS); the library joins what it queues meanwhile into
 *     the next chunk, so few round trips are lost.
 *   - Every other espconn answer is handled in ws_port_connect, ws_port_send
 *     and port_defer_cb, each with the reason from the SDK source.
 *   - Timer suspension: both os_timer callbacks are registered with
 *     SWTIMER_REG_CB (pm/swtimer.h), as the old client's were.
 *   - Heap: one allocation per connection (this struct): espconn, esp_tcp
 *     (which also keeps the resolved address until the connect), one
 *     os_timer_t (the library's timer, then the deferral) and a few words.
 *     A reconnection's wait (ws_port_resolve with host NULL) makes the
 *     struct early for its timer; the next connection then resolves on it.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "os_type.h"
#include "osapi.h"
#include "mem.h"
#include "user_interface.h"
#include "espconn.h"
#include "lwip/ip_addr.h"
#include "lwip/dns.h"
#include "lwip/err.h"
/* After osapi.h: the SDK's osapi.h includes user_config.h, which sets
 * TIMER_SUSPEND_ENABLE (without it SWTIMER_REG_CB is empty). */
#include "pm/swtimer.h"
/* The ESP8266 ROM's SHA1Init/SHA1Update/SHA1Final and SHA1_CTX (the
 * firmware's osapi.h includes it as well; the include guard keeps it once). */
#include "rom.h"

#include "websocket/websocketclient.h"

/* Port state flags. */
#define PF_SECURE 0x01u        /* TLS connection: use the espconn_secure_* calls */
#define PF_DNS_PENDING 0x02u   /* dns_gethostbyname answered ERR_INPROGRESS, callback due */
#define PF_TCP_OPEN 0x04u      /* espconn_connect accepted; no disconcb/reconcb yet */
#define PF_CLOSED 0x08u        /* ws_port_close called: detached from the library */
#define PF_DISCONNECTING 0x10u /* espconn_disconnect issued, waiting for its callback */
#define PF_GRACE 0x20u         /* espconn_disconnect refused: waiting out a late final callback */
#define PF_CONNECT_FAILED 0x40u /* espconn_connect refused, but espconn may still list it */

/* After a refused espconn_disconnect the connection may already have died
 * with its final callback (disconcb/reconcb) still queued in the SDK; the
 * port state stays allocated this long so that callback finds valid memory. */
#define WS_PORT_GRACE_MS 2000u

/* The SDK's os_timer_arm takes at most about 6871 s in ms; longer library
 * timers are split into chunks. */
#define WS_PORT_TIMER_CHUNK_MS 3600000u

typedef struct ws_port_conn {
  struct espconn conn; /* conn.reverse points back to this struct */
  esp_tcp tcp;
  /* The library's one-shot timer while attached; after ws_port_close (the
   * library's timer is over then) the deferral: disconnect, then free. */
  os_timer_t timer;
  ws_info *ws;         /* NULL once detached by ws_port_close */
  union {
    uint32_t timer_rest; /* attached: ms still to wait after the current timer chunk */
    void *held;          /* PF_CLOSED: ws_hold_sending handle, the library's chunk espconn may still read */
  } u;
  uint8_t inflight;    /* 1 while espconn may read the chunk last handed to it (sent callback due, or a refused send) */
  uint8_t flags;
} ws_port_conn;

static void port_defer_cb(void *arg);

static ws_port_conn *conn_from_arg(void *arg) {
  struct espconn *c = (struct espconn *)arg;
  if (c == NULL) {
    return NULL;
  }
  return (ws_port_conn *)c->reverse;
}

/* Schedule the deferred step (disconnect and/or free) from the event loop,
 * on the timer the library no longer uses (only called once detached). */
static void port_schedule_in(ws_port_conn *pc, uint32_t ms) {
  os_timer_disarm(&pc->timer);
  os_timer_setfn(&pc->timer, port_defer_cb, pc);
  /* RESUME across a light sleep: the deferred disconnect/free must still
   * happen (DROP would leak this struct and leave the TCP connection open). */
  SWTIMER_REG_CB(port_defer_cb, SWTIMER_RESUME);
  os_timer_arm(&pc->timer, ms, 0);
}

/* espconn no longer reads the chunk in flight (sent callback, final
 * callback, or the port state is going away): a chunk held past
 * ws_port_close goes back to the library. */
static void port_tx_free(ws_port_conn *pc) {
  if ((pc->flags & PF_CLOSED) != 0 && pc->u.held != NULL) {
    ws_free_held(pc->u.held);
    pc->u.held = NULL;
  }
  pc->inflight = 0;
}

static void port_schedule(ws_port_conn *pc) {
  port_schedule_in(pc, 0);
}

/* A detached connection is freed once no SDK callback can reach it any more. */
static void port_reap(ws_port_conn *pc) {
  if ((pc->flags & PF_CLOSED) == 0 || (pc->flags & PF_DNS_PENDING) != 0) {
    return; /* still attached, or the DNS callback will come back here */
  }
  port_schedule(pc);
}

static void port_defer_cb(void *arg) {
  ws_port_conn *pc = (ws_port_conn *)arg;
  if (pc == NULL || (pc->flags & PF_CLOSED) == 0 || (pc->flags & PF_DNS_PENDING) != 0) {
    return;
  }
  if (pc->flags & PF_TCP_OPEN) {
    sint8 rc;
    if (pc->flags & PF_GRACE) {
      pc->flags &= (uint8_t)~PF_TCP_OPEN; /* grace over: nothing came, free */
    } else if (pc->flags & PF_DISCONNECTING) {
      return; /* the disconnect/reconnect callback will reap us */
    } else {
      pc->flags |= PF_DISCONNECTING;
      if (pc->flags & PF_SECURE) {
        rc = espconn_secure_disconnect(&pc->conn);
      } else {
        rc = espconn_disconnect(&pc->conn);
      }
      if (rc == ESPCONN_OK) {
        return; /* wait for disconcb / reconcb */
      }
      /* ESPCONN_INPROGRESS: espconn has the connection in state
       * ESPCONN_CLOSE, which it sets together with posting the close/error
       * event (espconn_tcp.c client_close and client_err,
       * espconn_mbedtls.c), so the final callback is already queued.
       * ESPCONN_ARG: espconn does not list the connection (any more). In
       * both cases a final callback may still come: keep the memory valid
       * for the grace period (the callback, when it comes, ends it early
       * through port_tcp_gone). Only a connect that espconn refused and
       * does not list can have nothing queued: free it now. */
      if (rc != ESPCONN_ARG || (pc->flags & PF_CONNECT_FAILED) == 0) {
        pc->flags |= PF_GRACE;
        port_schedule_in(pc, WS_PORT_GRACE_MS);
        return;
      }
      pc->flags &= (uint8_t)~PF_TCP_OPEN; /* refused connect, nothing queued: free */
    }
  }
  os_timer_disarm(&pc->timer);
  pc->conn.reverse = NULL;
  port_tx_free(pc);
  os_free(pc);
}

/* ---- espconn callbacks ---- */

static void port_connect_cb(void *arg) {
  ws_port_conn *pc = conn_from_arg(arg);
  if (pc != NULL && pc->ws != NULL) {
    ws_event_connected(pc->ws);
  }
}

static void port_recv_cb(void *arg, char *data, unsigned short len) {
  ws_port_conn *pc = conn_from_arg(arg);
  if (pc != NULL && pc->ws != NULL && data != NULL && len > 0) {
    ws_event_received(pc->ws, (uint8_t *)data, (size_t)len);
  }
}

static void port_sent_cb(void *arg) {
  ws_port_conn *pc = conn_from_arg(arg);
  if (pc == NULL) {
    return;
  }
  /* The whole chunk is acknowledged: espconn no longer reads it. */
  port_tx_free(pc);
  if (pc->ws != NULL) {
    ws_event_sent(pc->ws);
  }
}

/* TCP is gone (err 0: closed, else the espconn error); report and reap. */
static void port_tcp_gone(ws_port_conn *pc, int err) {
  pc->flags &= (uint8_t)~(PF_TCP_OPEN | PF_DISCONNECTING | PF_GRACE);
  port_tx_free(pc); /* after the final callback espconn forgets the connection */
  if (pc->ws != NULL) {
    /* The library answers with ws_port_close, possibly from inside this call. */
    ws_event_disconnected(pc->ws, err);
  } else {
    port_reap(pc);
  }
}

static void port_discon_cb(void *arg) {
  ws_port_conn *pc = conn_from_arg(arg);
  if (pc != NULL) {
    port_tcp_gone(pc, 0);
  }
}

static void port_recon_cb(void *arg, sint8 err) {
  ws_port_conn *pc = conn_from_arg(arg);
  if (pc != NULL) {
    port_tcp_gone(pc, err < 0 ? (int)err : ESPCONN_CLSD);
  }
}

/* ---- DNS ---- */

static void port_dns_found(const char *name, ip_addr_t *ipaddr, void *arg) {
  ws_port_conn *pc = (ws_port_conn *)arg;
  (void)name;
  if (pc == NULL) {
    return;
  }
  pc->flags &= (uint8_t)~PF_DNS_PENDING;
  if (pc->ws == NULL) {
    port_reap(pc); /* closed while the query ran */
    return;
  }
  if (ipaddr != NULL && ipaddr->addr != 0) {
    os_memcpy(pc->tcp.remote_ip, &ipaddr->addr, 4);
    ws_event_resolved(pc->ws, 1);
  } else {
    ws_event_resolved(pc->ws, 0);
  }
}

/* ---- library timer ---- */

static void port_timer_start(ws_port_conn *pc, uint32_t ms);

static void port_timer_cb(void *arg) {
  ws_port_conn *pc = (ws_port_conn *)arg;
  if (pc == NULL || pc->ws == NULL) {
    return;
  }
  if (pc->u.timer_rest > 0) {
    port_timer_start(pc, pc->u.timer_rest);
    return;
  }
  ws_event_timer(pc->ws);
}

static void port_timer_start(ws_port_conn *pc, uint32_t ms) {
  uint32_t now = ms;
  if (now > WS_PORT_TIMER_CHUNK_MS) {
    now = WS_PORT_TIMER_CHUNK_MS;
  }
  pc->u.timer_rest = ms - now;
  os_timer_disarm(&pc->timer);
  os_timer_setfn(&pc->timer, port_timer_cb, pc);
  /* RESUME across a light sleep, as the old client's connect, ping and
   * close timeouts: the library's timeouts keep the time they had left. */
  SWTIMER_REG_CB(port_timer_cb, SWTIMER_RESUME);
  os_timer_arm(&pc->timer, now, 0);
}

/* ---- the port API ---- */

int ws_port_resolve(ws_info *ws, const char *host) {
  ws_port_conn *pc;
  ip_addr_t addr; /* lwIP writes it only for an answer at once (ERR_OK) */
  err_t e;

  if (ws == NULL) {
    return WS_ERR_DNS;
  }
  /* NULL (the library clears it before a connection's first port call),
   * or the state a reconnection waited on (made below with host NULL):
   * its timer is over, the connection resolves on it. */
  pc = (ws_port_conn *)ws->port;
  if (pc == NULL) {
    pc = (ws_port_conn *)os_zalloc(sizeof(ws_port_conn));
    ws->port = pc;
    if (pc == NULL) {
      return WS_ERR_NO_MEMORY_HANDSHAKE; /* the library reports -10 */
    }
    pc->ws = ws;
  }
  os_timer_disarm(&pc->timer);
  pc->u.timer_rest = 0;
  if (host == NULL) {
    return WS_PORT_DONE; /* a reconnection's wait: the timer needs the state */
  }
  addr.addr = 0;
  e = dns_gethostbyname(host, &addr, port_dns_found, pc);
  if (e == ERR_OK) {
    /* the resolved address waits in esp_tcp, where the connect needs it */
    os_memcpy(pc->tcp.remote_ip, &addr.addr, 4);
    return WS_PORT_DONE;
  }
  if (e == ERR_INPROGRESS) {
    pc->flags |= PF_DNS_PENDING;
    return WS_PORT_PENDING;
  }
  return WS_ERR_DNS;
}

int ws_port_connect(ws_info *ws, uint16_t port, int secure) {
  ws_port_conn *pc;
  sint8 rc;

  if (ws == NULL || ws->port == NULL) {
    return ESPCONN_ARG;
  }
  pc = (ws_port_conn *)ws->port;
  if (pc->flags & (PF_TCP_OPEN | PF_CLOSED | PF_DNS_PENDING)) {
    return ESPCONN_ISCONN;
  }
  {
    uint8 ip[4]; /* the resolved address, kept in esp_tcp since resolving */
    os_memcpy(ip, pc->tcp.remote_ip, 4);
    os_memset(&pc->conn, 0, sizeof(pc->conn));
    os_memset(&pc->tcp, 0, sizeof(pc->tcp));
    os_memcpy(pc->tcp.remote_ip, ip, 4);
  }
  pc->conn.type = ESPCONN_TCP;
  pc->conn.state = ESPCONN_NONE;
  pc->conn.proto.tcp = &pc->tcp;
  pc->conn.reverse = pc;
  pc->tcp.remote_port = port;
  pc->tcp.local_port = espconn_port();

  espconn_regist_connectcb(&pc->conn, port_connect_cb);
  espconn_regist_recvcb(&pc->conn, port_recv_cb);
  espconn_regist_sentcb(&pc->conn, port_sent_cb);
  espconn_regist_disconcb(&pc->conn, port_discon_cb);
  espconn_regist_reconcb(&pc->conn, port_recon_cb);

  if (secure) {
    pc->flags |= PF_SECURE;
    rc = espconn_secure_connect(&pc->conn);
  } else {
    pc->flags &= (uint8_t)~PF_SECURE;
    rc = espconn_connect(&pc->conn);
    if (rc == ESPCONN_ISCONN) {
      /* espconn_connect says ISCONN when our random local port is used by
       * another active connection, or when the maximum number of TCP
       * connections is reached; one try with another port settles the
       * first (a second ISCONN is then the second). */
      pc->tcp.local_port = espconn_port();
      rc = espconn_connect(&pc->conn);
    }
  }
  if (rc == ESPCONN_OK) {
    pc->flags |= PF_TCP_OPEN;
    port_tx_free(pc);
    return 0;
  }
  if (rc > 0) {
    /* In station+AP mode espconn_connect / espconn_secure_connect return
     * the station's connect status (1..4) when it has no IP: no route. */
    return ESPCONN_RTE;
  }
  if (!secure && rc != ESPCONN_ARG && rc != ESPCONN_ISCONN && rc != ESPCONN_RTE) {
    /* espconn_tcp_client lists the connection before tcp_connect and
     * leaves it listed (holding &pc->conn) when tcp_connect fails with
     * anything but ERR_RTE, e.g. ERR_MEM for the SYN; an ESPCONN_MEM from
     * an earlier allocation looks the same. ws_port_close then asks
     * espconn_disconnect: if espconn lists it, its disconnect callback
     * comes and reaps us; if not (ESPCONN_ARG), nothing is queued. */
    pc->flags |= PF_TCP_OPEN | PF_CONNECT_FAILED;
  }
  return rc;
}

int ws_port_send(ws_info *ws, const uint8_t *data, uint16_t len) {
  ws_port_conn *pc;
  sint8 rc;

  if (ws == NULL || ws->port == NULL) {
    return ESPCONN_CONN;
  }
  pc = (ws_port_conn *)ws->port;
  if ((pc->flags & PF_TCP_OPEN) == 0 || (pc->flags & (PF_CLOSED | PF_CONNECT_FAILED)) != 0) {
    return ESPCONN_CONN;
  }
  /* len is 16-bit by type (espconn's limit); an empty or missing buffer is a
   * caller error rather than something to hand to the SDK. */
  if (data == NULL || len == 0) {
    return ESPCONN_ARG;
  }
  if (pc->inflight) {
    /* One chunk in flight; its sent callback is due. (After a refused
     * send the library fails the connection and sends nothing more.) */
    return WS_PORT_BUSY;
  }
  /* espconn keeps the pointer and may read the bytes until the sent
   * callback; the library keeps them valid that long (no copy here). */
  pc->inflight = 1;
  if (pc->flags & PF_SECURE) {
    rc = espconn_secure_send(&pc->conn, (uint8 *)data, len);
  } else {
    rc = espconn_send(&pc->conn, (uint8 *)data, len);
  }
  if (rc == ESPCONN_OK) {
    return 0;
  }
  /* Refused with nothing of ours in flight (so no sent callback is due and
   * BUSY would stall the queue): the connection fails with rc - 100. What
   * each answer means here, from the SDK source:
   *   TLS INPROGRESS: SentFnFlag is off although our last write's sent
   *     callback came (SentFnFlag is set just before it) and the handshake
   *     is done (it is set before the connect callback): the TLS layer is
   *     failing or closing, and its final callback follows.
   *   TCP ARG: espconn does not list the connection (or an earlier chunk is
   *     not wholly inside lwIP, impossible with one chunk in flight).
   *   TCP MAXNUM: lwIP's queue is full with none of our data in it: the
   *     stack is in trouble.
   *   TCP MEM: either no memory for the espconn_buf (nothing queued) or
   *     tcp_write found no memory (the bytes stay queued on espconn's list
   *     and go out only when something earlier is acknowledged; nothing
   *     is). Re-sending could duplicate data in the second case.
   *   TCP RTE: tcp_output found no route; the bytes are inside lwIP.
   * For MEM and RTE espconn may still read the chunk: inflight stays set,
   * so ws_port_close holds it (ws_hold_sending) until the final callback
   * or the end of the port state. */
  return rc < 0 ? (int)rc : ESPCONN_ARG;
}

void ws_port_close(ws_info *ws) {
  ws_port_conn *pc;

  if (ws == NULL || ws->port == NULL) {
    return;
  }
  pc = (ws_port_conn *)ws->port;
  ws->port = NULL;
  os_timer_disarm(&pc->timer);
  pc->u.timer_rest = 0; /* the library's timer is over: u holds `held` now */
  /* espconn may still read the library's chunk: keep it valid. */
  pc->u.held = pc->inflight ? ws_hold_sending(ws) : NULL;
  pc->ws = NULL;
  pc->flags |= PF_CLOSED;
  port_reap(pc);
}

void ws_port_timer_arm(ws_info *ws, uint32_t ms) {
  if (ws == NULL || ws->port == NULL) {
    return;
  }
  port_timer_start((ws_port_conn *)ws->port, ms);
}

void ws_port_timer_disarm(ws_info *ws) {
  ws_port_conn *pc;
  if (ws == NULL || ws->port == NULL) {
    return;
  }
  pc = (ws_port_conn *)ws->port;
  os_timer_disarm(&pc->timer);
  pc->u.timer_rest = 0;
}

void ws_port_random(uint8_t *buf, size_t len) {
  size_t i = 0;
  if (buf == NULL) {
    return;
  }
  while (i < len) {
    uint32_t r = (uint32_t)os_random();
    size_t k;
    for (k = 0; k < 4 && i < len; k++, i++) {
      buf[i] = (uint8_t)(r >> (8 * k));
    }
  }
}

/* The handshake's SHA-1, from the ROM: costs no flash (the old client used
 * the same routines). The context lives on the stack for the one call; the
 * library passes 60 bytes. */
void ws_port_sha1(const uint8_t *data, size_t len, uint8_t *digest) {
  SHA1_CTX ctx;
  SHA1Init(&ctx);
  SHA1Update(&ctx, data, (unsigned int)len);
  SHA1Final(digest, &ctx);
}
