/* Test of the fake ESP8266 SDK: timers and their suspension, DNS, espconn
 * (TCP and TLS) with the return codes of NodeMCU's espconn sources and the
 * fault plans, against small servers this test runs itself on 127.0.0.1
 * (threads), heap accounting, and the abort on misuse and on a changed send
 * buffer. Prints "N passed, M failed". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "espconn.h"
#include "fake_sdk.h"
#include "lwip/dns.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "mem.h"
#include "os_type.h"
#include "osapi.h"
#include "pm/swtimer.h"
#include "user_interface.h"

#include "testkit.h"



/* ---------------- the echo server: testkit.h, closes on "BYE" ---------- */

static int server_port;


/* ---------------- timers ---------------- */

static int order[8], n_order;
static os_timer_t t1, t2, t3, trep, tzero;
static int rep_count, zero_fired, zero_inside;

static void note(void *arg) { order[n_order++] = (int)(intptr_t)arg; }

static void rep_cb(void *arg) {
  (void)arg;
  if (++rep_count == 3)
    os_timer_disarm(&trep); /* disarm inside its own callback */
}

static void zero_cb(void *arg) {
  (void)arg;
  zero_fired++;
}

static void arm_zero_cb(void *arg) {
  (void)arg;
  os_timer_setfn(&tzero, zero_cb, NULL);
  os_timer_arm(&tzero, 0, 0);
  zero_inside = zero_fired; /* must still be 0: not called from arm */
}

static void test_timers(void) {
  os_timer_setfn(&t1, note, (void *)1);
  os_timer_setfn(&t2, note, (void *)2);
  os_timer_setfn(&t3, note, (void *)3);
  os_timer_arm(&t1, 30, 0);
  os_timer_arm(&t2, 10, 0);
  os_timer_arm(&t3, 60, 0);
  os_timer_arm(&t3, 20, 0); /* re-arm replaces */
  CHECK(n_order == 0, "timer fired from os_timer_arm");
  uint64_t start = fake_sdk_now_ms();
  fake_sdk_run();
  uint64_t took = fake_sdk_now_ms() - start;
  CHECK(n_order == 3 && order[0] == 2 && order[1] == 3 && order[2] == 1,
        "timer order %d: %d %d %d", n_order, order[0], order[1], order[2]);
  CHECK(took >= 30 && took < 500, "timers took %llu ms", (unsigned long long)took);

  os_timer_setfn(&trep, rep_cb, NULL);
  os_timer_arm(&trep, 5, 1);
  fake_sdk_run();
  CHECK(rep_count == 3, "repeating timer fired %d times", rep_count);

  os_timer_setfn(&t1, arm_zero_cb, NULL);
  os_timer_arm(&t1, 1, 0);
  fake_sdk_run();
  CHECK(zero_fired == 1 && zero_inside == 0, "0 ms timer: fired %d, inside %d", zero_fired,
        zero_inside);

  os_timer_setfn(&t2, note, (void *)9);
  os_timer_arm(&t2, 10, 0);
  os_timer_disarm(&t2);
  n_order = 0;
  fake_sdk_run();
  CHECK(n_order == 0, "disarmed timer fired");
  CHECK(!fake_sdk_pending(), "still pending after run");
}

/* ---------------- DNS ---------------- */

static int dns_calls;
static int dns_ok;
static uint32_t dns_addr;

static void dns_found(const char *name, ip_addr_t *ip, void *arg) {
  (void)name;
  (void)arg;
  dns_calls++;
  dns_ok = ip != NULL;
  if (ip)
    dns_addr = ip->addr;
}

static void test_dns(void) {
  ip_addr_t a;
  a.addr = 0;
  err_t e = dns_gethostbyname("127.0.0.1", &a, dns_found, NULL);
  CHECK(e == ERR_OK && a.addr == htonl(INADDR_LOOPBACK), "literal: %d %08x", e,
        (unsigned)a.addr);
  CHECK(dns_calls == 0, "callback for a literal");

  e = dns_gethostbyname("localhost", &a, dns_found, NULL);
  CHECK(e == ERR_INPROGRESS, "localhost: %d", e);
  CHECK(dns_calls == 0, "DNS callback from inside dns_gethostbyname");
  fake_sdk_run();
  CHECK(dns_calls == 1 && dns_ok && dns_addr == htonl(INADDR_LOOPBACK),
        "localhost result calls=%d ok=%d", dns_calls, dns_ok);

  dns_calls = 0;
  uint64_t start = fake_sdk_now_ms();
  e = dns_gethostbyname("nonexistent.invalid", &a, dns_found, NULL);
  CHECK(e == ERR_INPROGRESS, "invalid: %d", e);
  fake_sdk_run();
  CHECK(dns_calls == 1 && !dns_ok, "nonexistent.invalid: calls=%d ok=%d", dns_calls, dns_ok);
  CHECK(fake_sdk_now_ms() - start < 2000, "nonexistent.invalid took too long");

  CHECK(dns_gethostbyname("x", &a, NULL, NULL) == ERR_ARG, "NULL callback accepted");
}

/* ---------------- espconn ---------------- */

static struct espconn conn;
static esp_tcp tcp;
static int n_connect, n_recon, n_discon, n_sent, recv_total, recv_max, last_err;
static int connect_in_call;
static char recv_buf[16384];
static int total_wanted, sent_wanted;

static void on_connect(void *arg) {
  CHECK(arg == &conn, "connect arg");
  n_connect++;
}
static void on_recon(void *arg, sint8 err) {
  (void)arg;
  n_recon++;
  last_err = err;
}
static void on_discon(void *arg) {
  (void)arg;
  n_discon++;
}
static void on_sent(void *arg) {
  (void)arg;
  n_sent++;
}
static void on_recv(void *arg, char *data, unsigned short len) {
  (void)arg;
  if (recv_total + len <= (int)sizeof recv_buf)
    memcpy(recv_buf + recv_total, data, len);
  recv_total += len;
  if (len > recv_max)
    recv_max = len;
}

static void setup_conn(int port) {
  memset(&conn, 0, sizeof conn);
  memset(&tcp, 0, sizeof tcp);
  conn.type = ESPCONN_TCP;
  conn.state = ESPCONN_NONE;
  conn.proto.tcp = &tcp;
  tcp.remote_port = port;
  tcp.local_port = (int)espconn_port();
  IP4_ADDR((ip_addr_t *)(void *)tcp.remote_ip, 127, 0, 0, 1);
  espconn_regist_connectcb(&conn, on_connect);
  espconn_regist_reconcb(&conn, on_recon);
  espconn_regist_disconcb(&conn, on_discon);
  espconn_regist_recvcb(&conn, on_recv);
  espconn_regist_sentcb(&conn, on_sent);
  n_connect = n_recon = n_discon = n_sent = recv_total = recv_max = 0;
  last_err = 0;
}

static int have_connect(void *arg) {
  (void)arg;
  return n_connect > 0 || n_recon > 0;
}
static int have_wanted(void *arg) {
  (void)arg;
  return (recv_total >= total_wanted && n_sent >= sent_wanted) || n_recon > 0 || n_discon > 0;
}

static os_timer_t tdisc;
static void disc_cb(void *arg) {
  sint8 r = espconn_disconnect((struct espconn *)arg);
  CHECK(r == ESPCONN_OK, "espconn_disconnect from a timer: %d", r);
  CHECK(n_discon == 0, "disconcb from inside espconn_disconnect");
  /* closing, final callback due: the SDK answers INPROGRESS */
  r = espconn_disconnect((struct espconn *)arg);
  CHECK(r == ESPCONN_INPROGRESS, "second espconn_disconnect: %d", r);
}

static void test_refused(void) {
  setup_conn(free_port());
  sint8 r = espconn_connect(&conn);
  connect_in_call = n_connect + n_recon;
  CHECK(r == ESPCONN_OK, "connect returned %d", r);
  CHECK(connect_in_call == 0, "callback from inside espconn_connect");
  int rc = fake_sdk_run_until(have_connect, NULL, 3000);
  CHECK(rc == 0 && n_recon == 1 && n_connect == 0 && last_err == ESPCONN_RST,
        "refused: rc=%d recon=%d connect=%d err=%d", rc, n_recon, n_connect, last_err);
  fake_sdk_run();
}

static void test_echo(void) {
  setup_conn(server_port);
  CHECK(espconn_send(&conn, (uint8 *)"x", 1) == ESPCONN_ARG, "send before connect accepted");
  CHECK(espconn_connect(&conn) == ESPCONN_OK, "connect");
  CHECK(espconn_connect(&conn) == ESPCONN_ISCONN, "second connect not ISCONN");
  int rc = fake_sdk_run_until(have_connect, NULL, 3000);
  CHECK(rc == 0 && n_connect == 1 && n_recon == 0, "connect: rc=%d n=%d recon=%d err=%d", rc,
        n_connect, n_recon, last_err);
  CHECK(conn.state == ESPCONN_CONNECT, "state %d", conn.state);
  CHECK(tcp.local_port > 0, "local port not set");

  static uint8 data[4100];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8)('a' + i % 26);
  CHECK(espconn_send(&conn, data, 0) == ESPCONN_ARG, "len 0 accepted");
  /* 1000 bytes fit into lwIP's 2920-byte send buffer: the next send may follow */
  CHECK(espconn_send(&conn, data, 1000) == ESPCONN_OK, "first send refused");
  /* 3000 bytes: 1920 go into lwIP, 1080 stay in our buffer (write_flag off) */
  CHECK(espconn_send(&conn, data + 1000, 3000) == ESPCONN_OK, "second send refused");
  CHECK(espconn_send(&conn, data, 10) == ESPCONN_ARG,
        "send accepted while an earlier one is not wholly inside lwIP");
  CHECK(n_sent == 0, "sentcb from inside espconn_send");
  total_wanted = 4000, sent_wanted = 2;
  rc = fake_sdk_run_until(have_wanted, NULL, 3000);
  CHECK(rc == 0 && n_sent == 2 && recv_total == 4000, "echo: rc=%d sent=%d recv=%d", rc, n_sent,
        recv_total);
  CHECK(memcmp(recv_buf, data, 4000) == 0, "echoed data differs");
  CHECK(recv_max <= 500, "segment of %d bytes (FAKE_SDK_SEGMENT=500)", recv_max);
  /* lwIP's queue holds at most TCP_SND_QUEUELEN (8) segments */
  int k;
  for (k = 0; k < 8; k++)
    CHECK(espconn_send(&conn, data + 4000 + k, 1) == ESPCONN_OK, "small send %d refused", k);
  CHECK(espconn_send(&conn, data + 4008, 1) == ESPCONN_MAXNUM, "9th queued segment accepted");
  total_wanted = 4008, sent_wanted = 10;
  rc = fake_sdk_run_until(have_wanted, NULL, 3000);
  CHECK(rc == 0 && n_sent == 10 && recv_total == 4008 && memcmp(recv_buf, data, 4008) == 0,
        "small sends: rc=%d sent=%d recv=%d", rc, n_sent, recv_total);

  os_timer_setfn(&tdisc, disc_cb, &conn);
  os_timer_arm(&tdisc, 0, 0);
  fake_sdk_run();
  CHECK(n_discon == 1 && n_recon == 0, "user disconnect: discon=%d recon=%d", n_discon,
        n_recon);
  CHECK(espconn_send(&conn, data, 10) == ESPCONN_ARG, "send after disconnect accepted");
  CHECK(espconn_disconnect(&conn) == ESPCONN_ARG, "disconnect of a closed espconn: not ARG");
}

static void test_peer_close(void) {
  setup_conn(server_port);
  espconn_connect(&conn);
  fake_sdk_run_until(have_connect, NULL, 3000);
  CHECK(espconn_send(&conn, (uint8 *)"BYE", 3) == ESPCONN_OK, "send BYE");
  fake_sdk_run();
  CHECK(n_sent == 1 && n_discon == 1 && n_recon == 0, "peer close: sent=%d discon=%d recon=%d",
        n_sent, n_discon, n_recon);
  CHECK(conn.state == ESPCONN_CLOSE, "state after close %d", conn.state);
}

/* ---------------- TLS echo server (self-signed certificate made here) ---- */

static int tls_server_fd, tls_server_port;
static SSL_CTX *srv_ctx;

static void *tls_server_main(void *arg) {
  (void)arg;
  for (;;) {
    int c = accept(tls_server_fd, NULL, NULL);
    if (c < 0)
      continue;
    SSL *ssl = SSL_new(srv_ctx);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) {
      char buf[4096];
      for (;;) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0)
          break;
        if (n >= 3 && memmem(buf, (size_t)n, "BYE", 3) != NULL) {
          SSL_shutdown(ssl);
          break;
        }
        if (SSL_write(ssl, buf, n) != n)
          break;
      }
    }
    SSL_free(ssl);
    close(c);
  }
  return NULL;
}

/* A self-signed certificate (CN=localhost, valid from now_adj seconds for an
 * hour) and its key; NULL on failure. */
static X509 *self_signed(EVP_PKEY **key, long now_adj) {
  EVP_PKEY *pkey = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  if (pkey == NULL || x == NULL)
    return NULL;
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), now_adj);
  X509_gmtime_adj(X509_getm_notAfter(x), now_adj + 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                             -1, 0);
  X509_set_issuer_name(x, name);
  if (X509_sign(x, pkey, EVP_sha256()) == 0)
    return NULL;
  *key = pkey;
  return x;
}

/* PEM text of x in buf (NUL-terminated); its length, 0 on failure. */
static size_t cert_pem(X509 *x, char *buf, size_t size) {
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
    BIO_free(b);
    return 0;
  }
  int n = BIO_read(b, buf, (int)size - 1);
  BIO_free(b);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  return (size_t)n;
}

static char server_pem[4096];
static size_t server_pem_len;

static int start_tls_server(void) {
  EVP_PKEY *pkey = NULL;
  /* valid from tomorrow: the device does not check dates (no clock), nor does
   * the fake SDK when it checks the chain */
  X509 *x = self_signed(&pkey, 86400);
  if (x == NULL || (server_pem_len = cert_pem(x, server_pem, sizeof server_pem)) == 0)
    return 0;
  srv_ctx = SSL_CTX_new(TLS_server_method());
  if (srv_ctx == NULL || SSL_CTX_use_certificate(srv_ctx, x) != 1 ||
      SSL_CTX_use_PrivateKey(srv_ctx, pkey) != 1)
    return 0;
  tls_server_fd = loopback_socket(8, &tls_server_port);
  if (tls_server_fd < 0)
    return 0;
  pthread_t th;
  pthread_create(&th, NULL, tls_server_main, NULL);
  pthread_detach(th);
  return 1;
}

static void test_secure(void) {
  CHECK(start_tls_server(), "TLS test server did not start");
  /* handshake against a plain TCP echo server fails */
  setup_conn(server_port);
  CHECK(espconn_secure_connect(&conn) == ESPCONN_OK, "secure connect");
  CHECK(n_recon == 0, "reconcb from inside espconn_secure_connect");
  fake_sdk_run_until(have_connect, NULL, 5000);
  fake_sdk_run();
  CHECK(n_recon == 1 && last_err == ESPCONN_HANDSHAKE && n_connect == 0,
        "tls to plain server: recon=%d err=%d connect=%d", n_recon, last_err, n_connect);

  /* echo over TLS */
  setup_conn(tls_server_port);
  CHECK(espconn_secure_connect(&conn) == ESPCONN_OK, "secure connect");
  int rc = fake_sdk_run_until(have_connect, NULL, 5000);
  CHECK(rc == 0 && n_connect == 1 && n_recon == 0, "tls connect: rc=%d n=%d recon=%d err=%d", rc,
        n_connect, n_recon, last_err);
  static uint8 data[6000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8)('A' + i % 23);
  CHECK(espconn_secure_send(&conn, data, 1000) == ESPCONN_OK, "tls send 1");
  /* espconn_secure.c: one write in flight */
  CHECK(espconn_secure_send(&conn, data + 1000, 1000) == ESPCONN_INPROGRESS,
        "second TLS send while the first is in flight: not INPROGRESS");
  total_wanted = 1000, sent_wanted = 1;
  rc = fake_sdk_run_until(have_wanted, NULL, 5000);
  CHECK(rc == 0 && n_sent == 1 && recv_total == 1000, "tls echo 1: rc=%d sent=%d recv=%d", rc,
        n_sent, recv_total);
  /* 5000 bytes: four records, the later ones read from our buffer */
  CHECK(espconn_secure_send(&conn, data + 1000, 5000) == ESPCONN_OK, "tls send 2");
  CHECK(espconn_secure_send(&conn, data, 1) == ESPCONN_INPROGRESS, "TLS send 3: not INPROGRESS");
  total_wanted = 6000, sent_wanted = 2;
  rc = fake_sdk_run_until(have_wanted, NULL, 5000);
  CHECK(rc == 0 && n_sent == 2 && recv_total == 6000 && memcmp(recv_buf, data, 6000) == 0,
        "tls echo: rc=%d sent=%d recv=%d", rc, n_sent, recv_total);
  CHECK(recv_max <= 500, "tls segment of %d bytes", recv_max);
  os_timer_setfn(&tdisc, disc_cb, &conn);
  os_timer_arm(&tdisc, 0, 0);
  fake_sdk_run();
  CHECK(n_discon == 1 && n_recon == 0, "tls user disconnect: discon=%d recon=%d", n_discon,
        n_recon);

  /* server closes (close_notify) */
  setup_conn(tls_server_port);
  espconn_secure_connect(&conn);
  fake_sdk_run_until(have_connect, NULL, 5000);
  CHECK(espconn_secure_send(&conn, (uint8 *)"BYE", 3) == ESPCONN_OK, "tls send BYE");
  fake_sdk_run();
  CHECK(n_connect == 1 && n_discon == 1 && n_recon == 0, "tls peer close: discon=%d recon=%d",
        n_discon, n_recon);
  CHECK(espconn_secure_send(&conn, (uint8 *)"x", 1) == ESPCONN_ARG &&
            espconn_secure_disconnect(&conn) == ESPCONN_ARG,
        "TLS send/disconnect of a closed espconn: not ARG");
}

static int have_end(void *arg) {
  (void)arg;
  return n_connect > 0 || n_discon > 0 || n_recon > 0;
}
static int have_4(void *arg) {
  (void)arg;
  return recv_total >= 4 || n_discon > 0 || n_recon > 0;
}

/* One TLS connection with the current CA settings: 1 = connected and "ping"
 * echoed (then disconnected), 0 = reconcb(ESPCONN_HANDSHAKE) without
 * connectcb, -1 = anything else. */
static int tls_try(void) {
  setup_conn(tls_server_port);
  if (espconn_secure_connect(&conn) != ESPCONN_OK)
    return -1;
  fake_sdk_run_until(have_connect, NULL, 5000);
  if (n_connect == 0) {
    fake_sdk_run();
    return n_recon == 1 && last_err == ESPCONN_HANDSHAKE && n_discon == 0 ? 0 : -1;
  }
  espconn_secure_send(&conn, (uint8 *)"ping", 4);
  fake_sdk_run_until(have_4, NULL, 5000);
  int echoed = recv_total == 4 && memcmp(recv_buf, "ping", 4) == 0;
  os_timer_setfn(&tdisc, disc_cb, &conn);
  os_timer_arm(&tdisc, 0, 0);
  fake_sdk_run();
  return echoed && n_connect == 1 && n_discon == 1 && n_recon == 0 ? 1 : -1;
}

/* certificate sources for fake_sdk_set_ca_source */
static int src_calls[8], n_src_calls;
static char other_pem[4096];
static size_t other_pem_len;

static int src_other_then_server(void *arg, int index, const char **pem, size_t *len) {
  (void)arg;
  if (n_src_calls < 8)
    src_calls[n_src_calls++] = index;
  if (index == 1) {
    *pem = other_pem;
    *len = other_pem_len;
    return 1;
  }
  if (index == 2) {
    *pem = server_pem;
    *len = server_pem_len;
    return 1;
  }
  return 0;
}
static int src_none(void *arg, int index, const char **pem, size_t *len) {
  (void)arg, (void)index, (void)pem, (void)len;
  return 0;
}
static int src_fail(void *arg, int index, const char **pem, size_t *len) {
  (void)arg, (void)index, (void)pem, (void)len;
  return -1;
}
static int src_disconnects(void *arg, int index, const char **pem, size_t *len) {
  (void)arg;
  if (index == 1)
    CHECK(espconn_secure_disconnect(&conn) == ESPCONN_OK, "disconnect from the CA source");
  *pem = server_pem;
  *len = server_pem_len;
  return index == 1;
}

static void test_secure_ca(void) {
  EVP_PKEY *okey = NULL;
  X509 *other = self_signed(&okey, 0); /* same subject, different key */
  CHECK(other != NULL && (other_pem_len = cert_pem(other, other_pem, sizeof other_pem)) > 0,
        "second certificate");
  X509_free(other);
  EVP_PKEY_free(okey);
  CHECK(fake_sdk_get_ca_pem(NULL) == NULL, "CA sector not empty at start");

  CHECK(tls_try() == 1, "checking off: connects");
  CHECK(espconn_secure_ca_enable(ESPCONN_CLIENT, 0x7b) && fake_sdk_ca_enabled(), "ca_enable");
  CHECK(tls_try() == 0, "checking on, empty CA sector: handshake must fail");

  CHECK(fake_sdk_set_ca_pem(server_pem, server_pem_len) == 0, "store server cert");
  size_t got_len = 0;
  const char *got = fake_sdk_get_ca_pem(&got_len);
  CHECK(got != NULL && got_len == server_pem_len && memcmp(got, server_pem, got_len) == 0,
        "CA sector read back");
  CHECK(tls_try() == 1, "CA = server certificate: connects");

  CHECK(fake_sdk_set_ca_pem(other_pem, other_pem_len) == 0, "store other cert");
  CHECK(tls_try() == 0, "CA = unrelated certificate: handshake must fail");

  CHECK(fake_sdk_set_ca_pem("garbage", 7) == 0, "store garbage");
  CHECK(tls_try() == 0, "garbage CA sector: handshake must fail");

  static char bundle[8192];
  memcpy(bundle, other_pem, other_pem_len);
  memcpy(bundle + other_pem_len, server_pem, server_pem_len);
  CHECK(fake_sdk_set_ca_pem(bundle, other_pem_len + server_pem_len) == 0, "store bundle");
  CHECK(tls_try() == 1, "CA bundle holding the server certificate second: connects");

  CHECK(fake_sdk_set_ca_pem(other_pem, other_pem_len) == 0, "store other cert again");
  CHECK(espconn_secure_ca_disable(ESPCONN_CLIENT) && !fake_sdk_ca_enabled(), "ca_disable");
  CHECK(tls_try() == 1, "checking off again: connects despite the unrelated CA");
  CHECK(espconn_secure_ca_enable(ESPCONN_SERVER, 0x7b) && !fake_sdk_ca_enabled(),
        "server-level enable leaves the client unchecked");
  CHECK(tls_try() == 1, "server-level checking only: client connects");
  CHECK(espconn_secure_ca_enable(ESPCONN_BOTH, 0x7b) && fake_sdk_ca_enabled(), "both levels");
  CHECK(tls_try() == 0, "both levels, unrelated CA: handshake must fail");

  /* the function form (NodeMCU's tls.cert.verify(function)) overrides the sector */
  fake_sdk_set_ca_source(src_other_then_server, NULL);
  n_src_calls = 0;
  CHECK(tls_try() == 1, "source giving other + server: connects");
  CHECK(n_src_calls == 3 && src_calls[0] == 1 && src_calls[1] == 2 && src_calls[2] == 3,
        "source asked %d times (want 1, 2, 3)", n_src_calls);
  espconn_secure_ca_disable(ESPCONN_BOTH);
  fake_sdk_set_ca_source(src_none, NULL);
  CHECK(tls_try() == 0, "source giving nothing: handshake must fail");
  fake_sdk_set_ca_source(src_fail, NULL);
  CHECK(tls_try() == 0, "failing source: handshake must fail");
  fake_sdk_set_ca_source(src_disconnects, NULL);
  setup_conn(tls_server_port);
  CHECK(espconn_secure_connect(&conn) == ESPCONN_OK, "secure connect");
  fake_sdk_run_until(have_end, NULL, 5000);
  if (n_connect > 0 && n_discon == 0 && n_recon == 0) { /* wrong, but end it */
    os_timer_setfn(&tdisc, disc_cb, &conn);
    os_timer_arm(&tdisc, 0, 0);
  }
  fake_sdk_run();
  CHECK(n_connect == 0 && n_discon + n_recon == 1,
        "connection closed by its CA source: connect=%d discon=%d recon=%d", n_connect, n_discon,
        n_recon);
  fake_sdk_set_ca_source(NULL, NULL);
  CHECK(tls_try() == 1, "source removed, checking off: connects");
  CHECK(fake_sdk_set_ca_pem(NULL, 0) == 0 && fake_sdk_get_ca_pem(NULL) == NULL, "sector emptied");
}
/* espconn_secure_ca_enable/_disable: levels 1..3 only */
static void test_ca_levels(void) {
  CHECK(!espconn_secure_ca_enable(0, 0x7b), "ca_enable level 0 accepted");
  CHECK(!espconn_secure_ca_enable(4, 0x7b), "ca_enable level 4 accepted");
  CHECK(!espconn_secure_ca_disable(0), "ca_disable level 0 accepted");
  CHECK(!fake_sdk_ca_enabled(), "checking on after refused calls");
  CHECK(espconn_secure_ca_enable(ESPCONN_CLIENT, 0x7b) && fake_sdk_ca_enabled(), "enable");
  CHECK(espconn_secure_ca_disable(ESPCONN_BOTH) && !fake_sdk_ca_enabled(), "disable both");
}


/* ---------------- return codes by fault injection and limits ---------- */

static int have_sent(void *arg) {
  (void)arg;
  return n_sent > 0 || n_recon > 0 || n_discon > 0;
}

static void connected_conn(void) {
  setup_conn(server_port);
  CHECK(espconn_connect(&conn) == ESPCONN_OK, "connect");
  fake_sdk_run_until(have_connect, NULL, 3000);
  CHECK(n_connect == 1, "not connected");
}

static void end_conn(void) {
  os_timer_setfn(&tdisc, disc_cb, &conn);
  os_timer_arm(&tdisc, 0, 0);
  fake_sdk_run();
}

static void test_faults(void) {
  static struct espconn udp;
  udp.type = ESPCONN_UDP;
  CHECK(espconn_connect(NULL) == ESPCONN_ARG && espconn_secure_connect(NULL) == ESPCONN_ARG &&
            espconn_connect(&udp) == ESPCONN_ARG && espconn_secure_connect(&udp) == ESPCONN_ARG,
        "connect of a NULL or non-TCP espconn: not ARG");
  CHECK(espconn_send(NULL, (uint8 *)"x", 1) == ESPCONN_ARG &&
            espconn_secure_send(NULL, (uint8 *)"x", 1) == ESPCONN_ARG &&
            espconn_disconnect(NULL) == ESPCONN_ARG && espconn_secure_disconnect(NULL) == ESPCONN_ARG &&
            espconn_disconnect(&udp) == ESPCONN_ARG,
        "send/disconnect of NULL: not ARG");
  CHECK(fake_sdk_fault("nonsense@1") == -1 && fake_sdk_fault("send_mem@0") == -1 &&
            fake_sdk_fault("send_mem") == -1,
        "bad fault plans accepted");
  fake_sdk_fault_reset();
  CHECK(fake_sdk_fault("connect_rte@1,connect_station@2,connect_mem@3,connect_isconn@4") == 0,
        "connect plan");
  setup_conn(server_port);
  CHECK(espconn_connect(&conn) == ESPCONN_RTE, "connect_rte");
  CHECK(espconn_secure_connect(&conn) == 3, "connect_station: station status 3");
  CHECK(espconn_connect(&conn) == ESPCONN_MEM, "connect_mem");
  CHECK(espconn_connect(&conn) == ESPCONN_ISCONN, "connect_isconn");
  CHECK(!fake_sdk_pending(), "a refused connect left something pending");
  CHECK(conn.state == ESPCONN_NONE, "state changed by refused connects: %d", conn.state);

  /* ESPCONN_MEM with the connection kept: no callback until espconn_disconnect */
  fake_sdk_fault_reset();
  fake_sdk_fault("connect_mem_kept@1");
  setup_conn(server_port);
  CHECK(espconn_connect(&conn) == ESPCONN_MEM, "connect_mem_kept");
  CHECK(fake_sdk_step(50) == 1 && n_connect + n_recon + n_discon == 0,
        "kept connection: pending and silent");
  CHECK(espconn_disconnect(&conn) == ESPCONN_OK, "disconnect of the kept connection");
  fake_sdk_run();
  CHECK(n_discon == 1 && n_recon == 0 && n_connect == 0, "kept connection: discon=%d recon=%d",
        n_discon, n_recon);

  /* espconn_send after espconn_disconnect, while lwIP still flushes: ERR_CONN */
  connected_conn();
  static uint8 big[20000];
  CHECK(espconn_send(&conn, big, sizeof big) == ESPCONN_OK, "big send");
  CHECK(espconn_disconnect(&conn) == ESPCONN_OK, "disconnect with data in lwIP");
  CHECK(espconn_send(&conn, big, 1) == -13, "send while closing: not lwIP ERR_CONN (-13)");
  CHECK(espconn_disconnect(&conn) == ESPCONN_INPROGRESS, "disconnect while closing");
  fake_sdk_run();
  CHECK(n_discon == 1, "closing ends with disconcb");

  /* send faults */
  static uint8 data[64] = "0123456789abcdefghijklmnopqrstuvwxyz";
  fake_sdk_fault_reset();
  fake_sdk_fault("send_mem@1,send_rte@2");
  connected_conn();
  CHECK(espconn_send(&conn, data, 10) == ESPCONN_MEM, "send_mem");
  CHECK(espconn_send(&conn, data, 10) == ESPCONN_RTE, "send_rte");
  total_wanted = 10, sent_wanted = 1;
  fake_sdk_run_until(have_wanted, NULL, 3000);
  CHECK(recv_total == 10 && n_sent == 1 && memcmp(recv_buf, data, 10) == 0,
        "send_rte: the data is inside lwIP and goes out (recv=%d sent=%d)", recv_total, n_sent);
  end_conn();

  fake_sdk_fault_reset();
  fake_sdk_fault("send_mem_kept@2");
  connected_conn();
  CHECK(espconn_send(&conn, data, 3000 > sizeof data ? sizeof data : 3000) == ESPCONN_OK,
        "send 1");
  CHECK(espconn_send(&conn, data + 5, 5) == ESPCONN_MEM, "send_mem_kept");
  CHECK(espconn_send(&conn, data, 1) == ESPCONN_ARG, "send after send_mem_kept: not ARG");
  total_wanted = 69, sent_wanted = 2;
  fake_sdk_run_until(have_wanted, NULL, 3000);
  CHECK(recv_total == 69 && n_sent == 2 && memcmp(recv_buf + 64, data + 5, 5) == 0,
        "send_mem_kept: goes out once the earlier send is acknowledged (recv=%d sent=%d)",
        recv_total, n_sent);
  end_conn();

  fake_sdk_fault_reset();
  fake_sdk_fault("send_mem_kept@1");
  connected_conn();
  CHECK(espconn_send(&conn, data, 5) == ESPCONN_MEM, "send_mem_kept alone");
  fake_sdk_run_until(have_sent, NULL, 300);
  CHECK(recv_total == 0 && n_sent == 0, "send_mem_kept with nothing in flight: stuck (recv=%d)",
        recv_total);
  end_conn();
  fake_sdk_fault_reset();
}

/* FAKE_SDK_MAX_TCP=2 (set in main): a third active connection is refused */
static void test_max_tcp(void) {
  static struct espconn c2;
  static esp_tcp t2;
  connected_conn();
  memset(&c2, 0, sizeof c2);
  memset(&t2, 0, sizeof t2);
  c2.type = ESPCONN_TCP;
  c2.proto.tcp = &t2;
  t2.remote_port = server_port;
  t2.local_port = tcp.local_port; /* same local port as conn */
  IP4_ADDR((ip_addr_t *)(void *)t2.remote_ip, 127, 0, 0, 1);
  CHECK(espconn_connect(&c2) == ESPCONN_ISCONN, "local port in use: not ISCONN");
  t2.local_port = (int)espconn_port();
  CHECK(espconn_connect(&c2) == ESPCONN_OK, "second connection");
  static struct espconn c3;
  static esp_tcp t3;
  c3 = c2;
  t3 = t2;
  c3.proto.tcp = &t3;
  t3.local_port = (int)espconn_port();
  CHECK(espconn_connect(&c3) == ESPCONN_ISCONN, "third connection over FAKE_SDK_MAX_TCP=2");
  fake_sdk_step(50);
  CHECK(espconn_disconnect(&c2) == ESPCONN_OK, "disconnect c2");
  end_conn();
}

/* espconn_secure_connect needs more than SSL_BUFFER_SIZE + 0x3800 bytes free */
static void test_secure_heap(void) {
  size_t room = system_get_free_heap_size();
  char *block = malloc(room - 18000); /* accounted, never touched */
  CHECK(block != NULL && system_get_free_heap_size() <= 18432, "heap not lowered");
  setup_conn(tls_server_port);
  CHECK(espconn_secure_connect(&conn) == ESPCONN_MEM, "secure connect with too little heap");
  free(block);
  CHECK(!fake_sdk_pending(), "refused secure connect left something pending");
}

/* The SDK reads unsent bytes from the caller's buffer later: changing it
 * before the sent callback must abort (TCP beyond the send buffer, TLS beyond
 * the first record). */
static uint8 *late_buf;
static void late_connect(void *arg) {
  static uint8 buf[8000];
  late_buf = buf;
  memset(buf, 'x', sizeof buf);
  sint8 r = ((struct espconn *)arg)->proto.tcp->remote_port == tls_server_port
                ? espconn_secure_send((struct espconn *)arg, buf, sizeof buf)
                : espconn_send((struct espconn *)arg, buf, sizeof buf);
  if (r != ESPCONN_OK)
    _exit(5);
  memset(buf, 'y', sizeof buf); /* as if the caller reused its buffer */
}

/* Runs body(arg) in a child with stderr silenced; 1 if it aborted. */
static int aborts(void (*body)(int), int arg) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0)
      dup2(devnull, 2);
    body(arg);
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static void late_child(int tls) {
  setup_conn(tls ? tls_server_port : server_port);
  espconn_regist_connectcb(&conn, late_connect);
  if (tls)
    espconn_secure_connect(&conn);
  else
    espconn_connect(&conn);
  total_wanted = 8000, sent_wanted = 1;
  fake_sdk_run_until(have_wanted, NULL, 5000);
}

static void test_late_read(void) {
  CHECK(aborts(late_child, 0), "TCP: buffer changed before the sent callback did not abort");
  CHECK(aborts(late_child, 1), "TLS: buffer changed before the sent callback did not abort");
}

/* ---------------- timer suspension (pm/swtimer.h) ---------------- */

static os_timer_t ts_resume, ts_drop, ts_free, ts_imm;
static int fired_resume, fired_drop, fired_free, fired_imm;
static void sw_resume(void *arg) { (void)arg; fired_resume++; }
static void sw_drop(void *arg) { (void)arg; fired_drop++; }
static void sw_free(void *arg) { (void)arg; fired_free++; }
static void sw_imm(void *arg) { (void)arg; fired_imm++; }

static void test_swtimer(void) {
  size_t before = fake_sdk_swtimer_count();
  for (int i = 0; i < 3; i++) {
    SWTIMER_REG_CB(sw_resume, SWTIMER_RESUME);
  }
  SWTIMER_REG_CB(sw_drop, SWTIMER_DROP);
  SWTIMER_REG_CB(sw_imm, SWTIMER_IMMEDIATE);
  CHECK(fake_sdk_swtimer_count() == before + 3, "registrations: %zu", fake_sdk_swtimer_count() - before);
  CHECK(fake_sdk_swtimer_policy(sw_resume) == SWTIMER_RESUME &&
            fake_sdk_swtimer_policy(sw_drop) == SWTIMER_DROP &&
            fake_sdk_swtimer_policy(sw_free) == -1,
        "policies");
  os_timer_setfn(&ts_resume, sw_resume, NULL);
  os_timer_arm(&ts_resume, 100, 0);
  os_timer_setfn(&ts_drop, sw_drop, NULL);
  os_timer_arm(&ts_drop, 100, 0);
  os_timer_setfn(&ts_free, sw_free, NULL);
  os_timer_arm(&ts_free, 100, 0);
  os_timer_setfn(&ts_imm, sw_imm, NULL);
  os_timer_arm(&ts_imm, 5000, 0);
  CHECK(fake_sdk_timers_suspend() == 3, "three registered timers suspended");
  uint64_t t0 = fake_sdk_now_ms();
  fake_sdk_run(); /* only the unregistered timer runs */
  CHECK(fired_free == 1 && fired_resume == 0 && fired_drop == 0 && fired_imm == 0,
        "while suspended: free=%d resume=%d drop=%d imm=%d", fired_free, fired_resume, fired_drop,
        fired_imm);
  os_timer_disarm(&ts_resume); /* does not reach a suspended timer */
  CHECK(fake_sdk_timers_resume() == 2, "two timers resumed (DROP is gone)");
  fake_sdk_run();
  CHECK(fired_resume == 1 && fired_drop == 0 && fired_imm == 1, "after resume: resume=%d drop=%d imm=%d",
        fired_resume, fired_drop, fired_imm);
  CHECK(fake_sdk_now_ms() - t0 < 2000, "IMMEDIATE timer waited");
}

/* misuse: espconn_disconnect from inside the recv callback must abort */
static void bad_recv(void *arg, char *data, unsigned short len) {
  (void)data;
  (void)len;
  espconn_disconnect((struct espconn *)arg);
}
static void bad_connect(void *arg) { espconn_send((struct espconn *)arg, (uint8 *)"hi", 2); }
static void bad_discon(void *arg) { espconn_send((struct espconn *)arg, (uint8 *)"hi", 2); }

static void misuse_child(int variant) {
  setup_conn(server_port);
  espconn_regist_connectcb(&conn, bad_connect);
  if (variant == 0) {
    espconn_regist_recvcb(&conn, bad_recv);
  } else {
    espconn_regist_disconcb(&conn, bad_discon);
    os_timer_setfn(&tdisc, disc_cb, &conn);
    os_timer_arm(&tdisc, 200, 0);
  }
  espconn_connect(&conn);
  fake_sdk_run();
}

static void test_misuse(void) {
  CHECK(aborts(misuse_child, 0), "disconnect inside recvcb did not abort");
  CHECK(aborts(misuse_child, 1), "send inside disconcb did not abort");
}

static void test_heap(void) {
  size_t before = fake_sdk_heap_live();
  fake_sdk_heap_reset_peak();
  char *p = os_malloc(10000);
  CHECK(fake_sdk_heap_live() >= before + 10000, "malloc not counted");
  p = os_realloc(p, 20000);
  CHECK(fake_sdk_heap_peak() >= before + 20000, "realloc not counted in peak");
  os_free(p);
  CHECK(fake_sdk_heap_live() == before, "free not counted: %zu vs %zu", fake_sdk_heap_live(),
        before);
  CHECK(fake_sdk_heap_peak() >= before + 20000, "peak lost");
  CHECK(system_get_free_heap_size() == fake_sdk_heap_budget() - fake_sdk_heap_live(),
        "free heap");
  uint32 r1 = os_random(), r2 = os_random();
  CHECK(r1 != r2, "os_random repeats");
}

/* ---------------- the ROM's SHA-1 (rom.h, through osapi.h) ---------------- */

static void sha1_hex(const void *data, size_t len, size_t piece, char out[41]) {
  SHA1_CTX c;
  uint8_t d[SHA1_DIGEST_LENGTH];
  const uint8_t *p = data;
  SHA1Init(&c);
  while (len > 0) {
    size_t n = piece < len ? piece : len;
    SHA1Update(&c, p, (unsigned int)n);
    p += n;
    len -= n;
  }
  SHA1Final(d, &c);
  for (int i = 0; i < SHA1_DIGEST_LENGTH; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* The known answers of FIPS 180's examples and RFC 6455 1.3, each fed whole
 * and in odd pieces; then every length 0..300 (all paddings: the length
 * field in the last block or in a block of its own) against OpenSSL. */
static void test_rom_sha1(void) {
  static const struct {
    const char *msg, *hex;
  } known[] = {
      {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
      {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
      {"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
       "b37a4f2cc0624f1690f64606cf385945b2bec4ea"},
  };
  char hex[41];
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    size_t len = strlen(known[i].msg);
    sha1_hex(known[i].msg, len, len ? len : 1, hex);
    CHECK(strcmp(hex, known[i].hex) == 0, "SHA-1 of \"%s\": %s", known[i].msg, hex);
    sha1_hex(known[i].msg, len, 7, hex);
    CHECK(strcmp(hex, known[i].hex) == 0, "SHA-1 of \"%s\" in 7-byte pieces: %s", known[i].msg,
          hex);
  }
  static uint8_t million[1000000];
  memset(million, 'a', sizeof million);
  sha1_hex(million, sizeof million, 4099, hex);
  CHECK(strcmp(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0, "SHA-1 of 10^6 'a': %s",
        hex);
  uint8_t buf[300];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 131 + 7);
  int bad = 0;
  for (size_t len = 0; len <= sizeof buf; len++) {
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned int wl = 0;
    char want_hex[41];
    EVP_Digest(buf, len, want, &wl, EVP_sha1(), NULL);
    for (unsigned int i = 0; i < wl && i < 20; i++) sprintf(want_hex + 2 * i, "%02x", want[i]);
    for (size_t piece = 1; piece <= 65; piece += 32) {
      sha1_hex(buf, len, piece, hex);
      if (wl != 20 || strcmp(hex, want_hex) != 0) bad++;
    }
  }
  CHECK(bad == 0, "SHA-1 differs from OpenSSL's for %d (length, piece size) pairs", bad);
  SHA1_CTX c;
  uint8_t d[SHA1_DIGEST_LENGTH];
  SHA1Init(&c);
  SHA1Update(&c, buf, 100);
  SHA1Final(d, &c);
  CHECK(c.count[0] == 0 && c.state[0] == 0, "SHA1Final leaves the context");
}

/* FAKE_SDK_HEAP_LIMIT / fake_sdk_heap_set_limit: the device class fails
 * beyond the limit, the Lua class (fake_sdk_lua_alloc) is never limited, and
 * a receive pbuf without memory leaves the data in the socket until later. */
static void test_heap_limit(void) {
  size_t base = fake_sdk_heap_device_live(), last = 0;
  unsigned long r0 = fake_sdk_heap_refused(NULL);
  CHECK(fake_sdk_heap_limit() == 0, "a limit without FAKE_SDK_HEAP_LIMIT");
  CHECK(fake_sdk_heap_set_limit(base + 1000) == 0, "previous limit");
  CHECK(fake_sdk_heap_limit() == base + 1000, "limit not set");
  CHECK(system_get_free_heap_size() <= 1000, "free heap %u over the limit",
        system_get_free_heap_size());
  char *p = os_malloc(500);
  CHECK(p != NULL, "500 of 1000 bytes refused");
  CHECK(os_malloc(600) == NULL, "600 more bytes accepted beyond the limit");
  CHECK(fake_sdk_heap_refused(&last) == r0 + 1 && last == 600, "refusal not counted (%zu)", last);
  CHECK(os_zalloc(600) == NULL, "zalloc beyond the limit accepted");
  memset(p, 0x5A, 500);
  /* through a volatile pointer: GCC would flag reading p after a realloc */
  void *(*volatile grow)(void *, size_t) = realloc;
  CHECK(grow(p, 2000) == NULL, "realloc beyond the limit accepted");
  int intact = p != NULL;
  for (int i = 0; intact && i < 500; i++)
    intact = (unsigned char)p[i] == 0x5A;
  CHECK(intact, "a refused realloc changed the block");
  char *q = os_realloc(p, 800);
  CHECK(q != NULL, "realloc within the limit refused");
  p = q != NULL ? q : p;
  CHECK(fake_sdk_heap_device_peak() >= base + 800, "device peak");
  /* the Lua class: counted in heap_live, not limited */
  size_t live = fake_sdk_heap_live(), dev = fake_sdk_heap_device_live();
  void *l = fake_sdk_lua_alloc(NULL, NULL, 0, 100000);
  CHECK(l != NULL, "Lua allocation limited");
  CHECK(fake_sdk_heap_live() >= live + 100000 && fake_sdk_heap_device_live() == dev,
        "Lua allocation in the wrong class");
  fake_sdk_lua_alloc(NULL, l, 100000, 0);
  CHECK(fake_sdk_heap_live() == live, "Lua free not counted");
  os_free(p);
  CHECK(fake_sdk_heap_device_live() == base, "device heap %zu, %zu before",
        fake_sdk_heap_device_live(), base);

  /* no pbuf for the echo: nothing delivered, the connection stays */
  fake_sdk_heap_set_limit(0);
  setup_conn(server_port);
  CHECK(espconn_connect(&conn) == ESPCONN_OK, "connect");
  CHECK(fake_sdk_run_until(have_connect, NULL, 3000) == 0 && n_connect == 1, "connected");
  static uint8 hello[] = "hello";
  CHECK(espconn_send(&conn, hello, 5) == ESPCONN_OK, "send");
  total_wanted = 0, sent_wanted = 1;
  CHECK(fake_sdk_run_until(have_wanted, NULL, 3000) == 0 && n_sent == 1, "sent");
  fake_sdk_heap_set_limit(fake_sdk_heap_device_live() + 1); /* 1 byte free (0 = no limit) */
  total_wanted = 5, sent_wanted = 1;
  CHECK(fake_sdk_run_until(have_wanted, NULL, 150) == -1, "something happened without memory");
  CHECK(recv_total == 0 && n_recon == 0 && n_discon == 0 && conn.state == ESPCONN_CONNECT,
        "without a pbuf: received %d, recon %d, discon %d, state %d", recv_total, n_recon,
        n_discon, conn.state);
  CHECK(fake_sdk_heap_refused(NULL) > r0 + 3, "the pbuf was not refused (%zu live)", fake_sdk_heap_device_live());
  fake_sdk_heap_set_limit(0);
  CHECK(fake_sdk_run_until(have_wanted, NULL, 3000) == 0 && recv_total == 5 &&
            memcmp(recv_buf, "hello", 5) == 0,
        "after the limit was lifted: received %d", recv_total);
  os_timer_setfn(&tdisc, disc_cb, &conn);
  os_timer_arm(&tdisc, 0, 0);
  fake_sdk_run();
  CHECK(fake_sdk_heap_device_live() == base, "device heap after the connection %zu, %zu before",
        fake_sdk_heap_device_live(), base);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  setenv("FAKE_SDK_SEGMENT", "500", 1);
  setenv("FAKE_SDK_DNS_HOSTS_ONLY", "1", 1);
  setenv("FAKE_SDK_MAX_TCP", "2", 1);
  unsetenv("FAKE_SDK_FAULTS");
  server_port = start_echo_server("BYE");
  test_timers();
  test_dns();
  test_refused();
  test_echo();
  test_peer_close();
  test_secure();
  test_ca_levels();
  test_secure_ca();
  test_faults();
  test_max_tcp();
  test_secure_heap();
  test_late_read();
  test_swtimer();
  test_misuse();
  test_heap();
  test_heap_limit();
  test_rom_sha1();
  printf("fake SDK: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
