/* Fake ESP8266 NonOS SDK, TLS: espconn_secure_* (espconn.h) over OpenSSL,
 * following NodeMCU's app/mbedtls/app/espconn_secure.c and espconn_mbedtls.c:
 *
 *   - espconn_secure_send: one write in flight. While one is (from the
 *     accepting call until just before its sent callback; also before the
 *     handshake has finished) it returns ESPCONN_INPROGRESS; ESPCONN_ARG
 *     for an espconn it does not know. An accepted write goes out as records
 *     of at most 1460 bytes (MBEDTLS_SSL_PLAIN_ADD = TCP_MSS): the first is
 *     encrypted at once, every later one is read from the CALLER's buffer
 *     after the previous record went out (checked as in espconn.c), and the
 *     sent callback comes after the last record.
 *   - espconn_secure_connect: ESPCONN_MEM when the free heap is at most
 *     SSL_BUFFER_SIZE + ESPCONN_SECURE_DEFAULT_HEAP (18 432 bytes); faults
 *     connect_mem / connect_rte / connect_station (fault.c).
 *   - espconn_secure_disconnect: as espconn_disconnect (ESPCONN_INPROGRESS
 *     while closing, ESPCONN_ARG when unknown).
 *   - certificate checking: espconn_secure_ca_enable and NodeMCU's
 *     tls.cert.verify source (fake_sdk.h). */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

/* MBEDTLS_SSL_PLAIN_ADD (NodeMCU sys/espconn_mbedtls.h): plaintext per record */
#define TLS_PLAIN_ADD 1460

sint8 espconn_secure_connect(struct espconn *ec) { return fsdk_start_connect(ec, 1); }

sint8 espconn_secure_disconnect(struct espconn *ec) {
  return fsdk_disconnect(ec, "espconn_secure_disconnect");
}

static void tls_take_record(fconn_t *fc, urec_t *r, int late) {
  size_t n = r->len - r->taken;
  if (n > TLS_PLAIN_ADD)
    n = TLS_PLAIN_ADD;
  if (fsdk_chunk_take(fc, r, n, late, 0) == NULL)
    fsdk_die("out of memory for a TLS record");
}

sint8 espconn_secure_send(struct espconn *ec, uint8 *data, uint16 len) {
  if (ec == NULL)
    return ESPCONN_ARG;
  fconn_t *fc = fsdk_conn_find(ec);
  if (fc == NULL && fsdk_conn_in_cb(ec) != NULL)
    fsdk_die("espconn_secure_send called from inside a callback of an espconn that is "
             "already disconnected (crashes the real SDK)");
  if (fc == NULL || fc->state == FC_CLOSING || fc->state == FC_KEPT)
    return ESPCONN_ARG;
  if (!fc->tls)
    fsdk_die("espconn_secure_send on a plain TCP connection");
  if (fc->state != FC_CONNECTED || !fc->sent_fn) {
    FSDK_TRACE("conn %p: TLS send of %u: INPROGRESS (%s)\n", (void *)ec, len,
               fc->state != FC_CONNECTED ? "handshake" : "a write is in flight");
    return ESPCONN_INPROGRESS;
  }
  if (data == NULL || len == 0)
    fsdk_die("espconn_secure_send with no data (the SDK asserts psent and length)");
  ec->state = ESPCONN_WRITE;
  fc->sent_fn = 0;
  urec_t *r = fsdk_urec_new(fc, data, len);
  if (r == NULL)
    fsdk_die("out of memory for a TLS send");
  tls_take_record(fc, r, 0);
  return ESPCONN_OK;
}

sint8 espconn_secure_sent(struct espconn *ec, uint8 *data, uint16 len) {
  return espconn_secure_send(ec, data, len);
}

void fsdk_tls_record_done(fconn_t *fc) {
  urec_t *r = fc->rq_head;
  if (r == NULL || r->done < r->taken)
    return;
  if (r->taken < r->len) {
    tls_take_record(fc, r, 1);
    return;
  }
  fc->rq_head = fc->rq_tail = NULL;
  __real_free(r->shadow);
  __real_free(r);
  fc->sent_fn = 1; /* set before the sent event, as NodeMCU does */
  fsdk_call_sent(fc);
}

void fsdk_tls_free(fconn_t *fc, int graceful) {
  if (fc->ssl == NULL)
    return;
  if (graceful && fc->state != FC_HANDSHAKE)
    SSL_shutdown(fc->ssl); /* best effort close_notify */
  SSL_free(fc->ssl);
  fc->ssl = NULL;
}

int fsdk_tls_buffered(fconn_t *fc) { return fc->ssl != NULL && SSL_pending(fc->ssl) > 0; }

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
  FSDK_TRACE("CA sector: %zu bytes stored\n", pem != NULL ? len : (size_t)0);
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
  FSDK_TRACE("CA check enabled (level %u, sector 0x%x)\n", level, (unsigned)ca_sector);
  return true;
}

bool espconn_secure_ca_disable(uint8 level) {
  if (level < ESPCONN_CLIENT || level > ESPCONN_BOTH)
    return false;
  if (level & ESPCONN_CLIENT)
    ca_client_on = 0;
  FSDK_TRACE("CA check disabled (level %u)\n", level);
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

/* TLS client on top of the connected socket (OpenSSL). Like the SDK without
 * espconn_secure_ca_enable, the server certificate is not verified. */
static SSL_CTX *tls_ctx;

int fsdk_tls_step(fconn_t *fc) {
  ERR_clear_error();
  int r = SSL_do_handshake(fc->ssl);
  if (r == 1) {
    fc->want = 0;
    FSDK_TRACE("conn %p: TLS handshake done (%s)\n", (void *)fc->ec, SSL_get_version(fc->ssl));
    fsdk_conn_established(fc);
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
    FSDK_TRACE("conn %p: TLS handshake failed: server certificate: %s\n", (void *)fc->ec,
          X509_verify_cert_error_string(vr));
  else
    FSDK_TRACE("conn %p: TLS handshake failed\n", (void *)fc->ec);
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
int fsdk_tls_start(fconn_t *fc) {
  X509_STORE *st = NULL;
  int store_ok = ca_build_store(&st);
  if (fc->state != FC_CONNECTING) {
    X509_STORE_free(st); /* ended from inside the certificate source */
    return 1;
  }
  if (!store_ok) {
    FSDK_TRACE("conn %p: no usable CA certificate, handshake fails\n", (void *)fc->ec);
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
    FSDK_TRACE("conn %p: server certificate will be checked\n", (void *)fc->ec);
  }
  SSL_set_connect_state(fc->ssl);
  fc->state = FC_HANDSHAKE;
  return fsdk_tls_step(fc);
}

/* recv/send over TLS with the socket calls' conventions: >0 bytes, 0 peer
 * closed, -1 with errno (EAGAIN when the engine waits for the socket). */
ssize_t fsdk_tls_io(fconn_t *fc, void *buf, size_t len, int writing) {
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
