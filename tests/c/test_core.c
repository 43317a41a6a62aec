/* Core C test: written only against include/websocketclient.h and linked with
 * build/libwebsocket.a. The ws_port_* functions are a scripted fake: it
 * records what the library sends (and unmasks the frames to check them),
 * feeds scripted server bytes, and fires the timer on request.
 *
 * Prints "N passed, N failed"; exits non-zero on any failure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "websocketclient.h"
#include "lua_ws_info.h"

static int passed, failed;

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (cond) {                                                              \
      passed++;                                                              \
    } else {                                                                 \
      failed++;                                                              \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

/* ---------------------------------------------------------------- fake port */

static struct {
  int resolve_ret;
  char host[300];
  int resolves, closes, connects;
  uint16_t port;
  int secure;
  unsigned char *sent;
  size_t sent_len;
  int pending_sent; /* ws_event_sent due */
  long timer_ms;    /* -1 = disarmed */
  int send_busy_once;
  int sha1_calls;   /* ws_port_sha1 calls since fake_reset */
  int sha1_other;   /* ... of them over anything but KEY + GUID */
  int sha1_wrong;   /* answer a wrong digest (one bit flipped) */
} fk;

/* Every 16-byte random request returns RFC 6455's sample nonce, so the key is
 * "dGhlIHNhbXBsZSBub25jZQ==" and the accept value the RFC's example. */
static const char NONCE[] = "the sample nonce";
static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char ACCEPT[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/* ... and the SHA-1 of KEY followed by the GUID, RFC 6455 section 1.3's
 * example (0xb3 0x7a 0x4f ...), of which ACCEPT is the base64. */
static const char KEY_GUID[] = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
static const uint8_t KEY_GUID_SHA1[20] = {0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
                                          0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea};

int ws_port_resolve(ws_info *ws, const char *host) {
  (void)ws;
  fk.resolves++;
  snprintf(fk.host, sizeof fk.host, "%s", host);
  return fk.resolve_ret;
}

int ws_port_connect(ws_info *ws, uint16_t port, int secure) {
  (void)ws;
  fk.connects++;
  fk.port = port;
  fk.secure = secure;
  return 0;
}

int ws_port_send(ws_info *ws, const uint8_t *data, uint16_t len) {
  (void)ws;
  if (fk.send_busy_once && fk.pending_sent > 0) {
    fk.send_busy_once = 0;
    return WS_PORT_BUSY;
  }
  unsigned char *p = realloc(fk.sent, fk.sent_len + len);
  if (!p) return -1;
  fk.sent = p;
  memcpy(fk.sent + fk.sent_len, data, len);
  fk.sent_len += len;
  fk.pending_sent++;
  return 0;
}

void ws_port_close(ws_info *ws) {
  (void)ws;
  fk.closes++;
  fk.timer_ms = -1;
  fk.pending_sent = 0;
}

void ws_port_timer_arm(ws_info *ws, uint32_t ms) {
  (void)ws;
  fk.timer_ms = (long)ms;
}

void ws_port_timer_disarm(ws_info *ws) {
  (void)ws;
  fk.timer_ms = -1;
}

void ws_port_random(uint8_t *buf, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) buf[i] = len == 16 ? (uint8_t)NONCE[i] : (uint8_t)(0x5A + i);
}

/* Scripted like ws_port_random: the port knows the one digest the library
 * should ask for (the key is always KEY); any other input is recorded and
 * answered with zeros, which no server accept matches. */
void ws_port_sha1(const uint8_t *data, size_t len, uint8_t *digest) {
  fk.sha1_calls++;
  if (len == sizeof KEY_GUID - 1 && memcmp(data, KEY_GUID, len) == 0) {
    memcpy(digest, KEY_GUID_SHA1, 20);
  } else {
    fk.sha1_other++;
    memset(digest, 0, 20);
  }
  if (fk.sha1_wrong) digest[19] ^= 1;
}

static void fake_reset(void) {
  free(fk.sent);
  memset(&fk, 0, sizeof fk);
  fk.timer_ms = -1;
  fk.resolve_ret = WS_PORT_DONE;
}

/* Delivers all due ws_event_sent. */
static void ack_all(ws_info *ws) {
  while (fk.pending_sent > 0) {
    fk.pending_sent--;
    ws_event_sent(ws);
  }
}

/* The port hands the library a modifiable copy, as espconn does. */
static void feed(ws_info *ws, const void *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  memcpy(copy, data, len);
  ws_event_received(ws, copy, len);
  free(copy);
}

/* ------------------------------------------------------------- callbacks */

static int opened;
static int failures;
static int last_status;
static int state_at_failure;
static int closes_at_failure;
static int nmsgs;
static char last_msg[70000];
static int last_len, last_op;

static void on_connection(struct ws_info *ws) {
  (void)ws;
  opened++;
}

static void on_receive(struct ws_info *ws, int len, char *message, int opCode) {
  (void)ws;
  nmsgs++;
  last_len = len;
  last_op = opCode;
  CHECK(message[len] == '\0');
  if (len >= 0 && (size_t)len < sizeof last_msg) memcpy(last_msg, message, (size_t)len + 1);
}

static void on_failure(struct ws_info *ws, int status) {
  failures++;
  last_status = status;
  state_at_failure = ws->connectionState;
  closes_at_failure = fk.closes;
}

static void reset_callbacks(void) {
  opened = failures = nmsgs = 0;
  last_status = 12345;
  last_len = last_op = -1;
  last_msg[0] = 0;
}

/* A ws_info as the Lua binding makes it: not zeroed. */
static void init_ws(ws_info *ws) {
  lua_ws_info(ws, NULL, on_connection, on_receive, on_failure);
}

/* ----------------------------------------------------------- frame helpers */

/* Unmasked server frame into out; returns its length. */
static size_t sframe(uint8_t *out, int fin, int op, const void *payload, size_t n) {
  size_t h = 2;
  out[0] = (uint8_t)((fin ? 0x80 : 0) | op);
  if (n < 126) {
    out[1] = (uint8_t)n;
  } else if (n < 65536) {
    out[1] = 126;
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    h = 4;
  } else {
    int i;
    out[1] = 127;
    for (i = 0; i < 8; i++) out[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    h = 10;
  }
  if (n) memcpy(out + h, payload, n);
  return h + n;
}

/* Parses the masked client frame at fk.sent[*off]; unmasks its payload into
 * payload (cap bytes). Returns the opcode, or -1 if there is none/invalid. */
static int cframe(size_t *off, int *fin, uint8_t *payload, size_t cap, size_t *n) {
  const uint8_t *b = fk.sent + *off;
  size_t avail = fk.sent_len - *off, h = 2, len, i;
  if (avail < 2 || !(b[1] & 0x80)) return -1;
  len = b[1] & 0x7F;
  if (len == 126) {
    len = ((size_t)b[2] << 8) | b[3];
    h = 4;
  } else if (len == 127) {
    len = 0;
    for (i = 0; i < 8; i++) len = (len << 8) | b[2 + i];
    h = 10;
  }
  if (avail < h + 4 + len || len > cap) return -1;
  for (i = 0; i < len; i++) payload[i] = b[h + 4 + i] ^ b[h + (i & 3)];
  *fin = (b[0] & 0x80) != 0;
  *n = len;
  *off += h + 4 + len;
  return b[0] & 0x0F;
}

static size_t request_end(void) {
  size_t i;
  for (i = 3; i < fk.sent_len; i++)
    if (memcmp(fk.sent + i - 3, "\r\n\r\n", 4) == 0) return i + 1;
  return 0;
}

static int sent_contains(const char *needle) {
  size_t n = strlen(needle), i;
  for (i = 0; i + n <= fk.sent_len; i++)
    if (memcmp(fk.sent + i, needle, n) == 0) return 1;
  return 0;
}

static const char RESPONSE_HEAD[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: ";

/* Connects ws to url with the fake resolving at once and TCP up. */
static void connect_tcp(ws_info *ws, const char *url) {
  fake_reset();
  reset_callbacks();
  ws_connect(ws, url);
  CHECK(ws->connectionState == 2);
  CHECK(fk.timer_ms == 10000);
  CHECK(fk.sent_len == 0);
  ws_event_connected(ws);
  ack_all(ws);
  CHECK(ws->connectionState == 3);
}

/* Answers the handshake in one segment. */
static void open_ws(ws_info *ws, const char *url) {
  char resp[256];
  connect_tcp(ws, url);
  snprintf(resp, sizeof resp, "%s%s\r\n\r\n", RESPONSE_HEAD, ACCEPT);
  feed(ws, resp, strlen(resp));
  CHECK(opened == 1);
  CHECK(fk.sha1_calls == 1 && fk.sha1_other == 0); /* once, over KEY + GUID */
}

/* ------------------------------------------------------------------ tests */

static void test_url_errors(void) {
  static const struct {
    const char *url;
    int status;
  } cases[] = {
      {"http://example.com/", WS_ERR_BAD_SCHEME},
      {"ws://:80/", WS_ERR_NO_HOST},
      {"ws://", WS_ERR_NO_HOST},
      {"ws://example.com:0/", WS_ERR_BAD_PORT},
      {"ws://example.com:70000/", WS_ERR_BAD_PORT},
  };
  char longurl[400];
  ws_info ws;
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fake_reset();
    reset_callbacks();
    init_ws(&ws);
    ws_connect(&ws, cases[i].url);
    CHECK(failures == 1 && last_status == cases[i].status);
    CHECK(ws.connectionState == 4);
    CHECK(fk.resolves == 0 && fk.closes == 0);
  }
  strcpy(longurl, "ws://");
  memset(longurl + 5, 'a', 256);
  strcpy(longurl + 5 + 256, "/");
  reset_callbacks();
  init_ws(&ws);
  ws_connect(&ws, longurl);
  CHECK(failures == 1 && last_status == WS_ERR_HOST_TOO_LONG);
  reset_callbacks();
  ws_connect(&ws, NULL);
  CHECK(failures == 1 && last_status == WS_ERR_BAD_SCHEME);
  /* NULLs never crash. */
  ws_connect(NULL, "ws://x/");
  ws_send(NULL, 1, "x", 1);
  ws_close(NULL);
  ws_release(NULL);
  /* Not connected: ignored, -30 from ws_send_long. */
  init_ws(&ws);
  CHECK(ws_send_long(&ws, 1, "x", 1) == WS_ERR_NOT_CONNECTED);
  ws_close(&ws);
  CHECK(ws.connectionState == 0);
}

static void test_dns_failure(void) {
  ws_info ws;
  init_ws(&ws);
  fake_reset();
  reset_callbacks();
  fk.resolve_ret = WS_PORT_PENDING;
  ws_connect(&ws, "ws://nowhere.invalid/");
  CHECK(ws.connectionState == 1);
  CHECK(strcmp(fk.host, "nowhere.invalid") == 0);
  ws_event_resolved(&ws, 0);
  CHECK(failures == 1 && last_status == WS_ERR_DNS);
  CHECK(fk.closes == 1 && closes_at_failure == 1 && state_at_failure == 4);
  CHECK(ws.engine == NULL);
}

static void test_session(ws_info *ws) {
  char resp[256];
  uint8_t seg[512], pl[256];
  size_t n = 0, off, req, plen, rlen;
  int fin, op;

  /* Handshake request. */
  connect_tcp(ws, "ws://Example.COM:8080/chat?room=1");
  CHECK(strcmp(fk.host, "Example.COM") == 0);
  CHECK(fk.port == 8080 && fk.secure == 0);
  req = request_end();
  CHECK(req > 0 && req == fk.sent_len);
  CHECK(memcmp(fk.sent, "GET /chat?room=1 HTTP/1.1\r\n", 27) == 0);
  CHECK(sent_contains(KEY));
  CHECK(sent_contains("\r\nHost: Example.COM:8080\r\n"));

  /* ws_send during the handshake: held until the 101. */
  ws_send(ws, 1, "early", 5);
  CHECK(fk.sent_len == req);

  /* 101 split over three segments, a frame glued to the end of the last. */
  rlen = (size_t)snprintf(resp, sizeof resp, "%s%s\r\n\r\n", RESPONSE_HEAD, ACCEPT);
  feed(ws, resp, 10);
  feed(ws, resp + 10, 40);
  CHECK(opened == 0);
  memcpy(seg, resp + 50, rlen - 50);
  n = rlen - 50;
  n += sframe(seg + n, 1, 1, "hello", 5);
  feed(ws, seg, n);
  ack_all(ws);
  CHECK(opened == 1);
  CHECK(ws->connectionState == 3);
  CHECK(nmsgs == 1 && last_op == 1 && last_len == 5 && strcmp(last_msg, "hello") == 0);
  CHECK(fk.timer_ms == 30000);
  off = req;
  op = cframe(&off, &fin, pl, sizeof pl, &plen);
  CHECK(op == 1 && fin && plen == 5 && memcmp(pl, "early", 5) == 0);

  /* Fragmented binary message with a ping between the fragments, spread over
   * segments of 3 bytes. */
  n = sframe(seg, 0, 2, "frag", 4);
  n += sframe(seg + n, 1, 9, "ping!", 5);
  n += sframe(seg + n, 0, 0, "ment", 4);
  n += sframe(seg + n, 1, 0, "ed", 2);
  {
    size_t i;
    for (i = 0; i < n; i += 3) feed(ws, seg + i, n - i < 3 ? n - i : 3);
  }
  ack_all(ws);
  CHECK(nmsgs == 2 && last_op == 2 && last_len == 10 && memcmp(last_msg, "fragmented", 11) == 0);
  op = cframe(&off, &fin, pl, sizeof pl, &plen);
  CHECK(op == 10 && fin && plen == 5 && memcmp(pl, "ping!", 5) == 0);

  /* Long message from us: 70000 bytes, 64-bit length, pipelined chunks,
   * and one BUSY refusal on the way. */
  {
    static uint8_t big[70000], back[70000];
    size_t i;
    for (i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 31);
    fk.send_busy_once = 1;
    fk.pending_sent = 1; /* pretend one chunk is still in flight */
    CHECK(ws_send_long(ws, 2, (const char *)big, sizeof big) == 0);
    ack_all(ws);
    ack_all(ws);
    CHECK(fk.sent[off] == 0x82 && fk.sent[off + 1] == 0xFF);
    op = cframe(&off, &fin, back, sizeof back, &plen);
    CHECK(op == 2 && plen == sizeof big && memcmp(back, big, sizeof big) == 0);
  }

  /* Bad opcode: ignored. */
  CHECK(ws_send_long(ws, 3, "x", 1) == WS_ERR_BAD_OPCODE);
  CHECK(fk.sent_len == off);

  /* Server close 4000 -> our reply carries 4000, then -6 once it is sent. */
  {
    uint8_t code[2] = {0x0F, 0xA0};
    n = sframe(seg, 1, 8, code, 2);
    feed(ws, seg, n);
    CHECK(ws->connectionState == 3); /* closing handshake: 4 only at teardown */
    CHECK(failures == 0);
    op = cframe(&off, &fin, pl, sizeof pl, &plen);
    CHECK(op == 8 && plen == 2 && pl[0] == 0x0F && pl[1] == 0xA0);
    ack_all(ws);
    CHECK(failures == 1 && last_status == WS_ERR_SERVER_CLOSED);
    CHECK(closes_at_failure == 1 && state_at_failure == 4);
    CHECK(ws->engine == NULL);
  }
}

static void test_user_close(ws_info *ws) {
  uint8_t seg[16], pl[8], code[2] = {0x03, 0xE8};
  size_t off, plen, n;
  int fin, op;
  open_ws(ws, "ws://127.0.0.1/");
  off = request_end();
  ws_close(ws);
  CHECK(ws->connectionState == 3); /* as the old client: 3 until teardown */
  CHECK(fk.timer_ms == 5000);
  ws_close(ws); /* twice is fine */
  ack_all(ws);
  op = cframe(&off, &fin, pl, sizeof pl, &plen);
  CHECK(op == 8 && plen == 2 && pl[0] == 0x03 && pl[1] == 0xE8);
  CHECK(failures == 0);
  n = sframe(seg, 1, 8, code, 2);
  feed(ws, seg, n);
  CHECK(failures == 0 && ws->connectionState == 3);
  ws_event_disconnected(ws, 0);
  CHECK(failures == 1 && last_status == WS_OK);
  CHECK(fk.closes == 1 && state_at_failure == 4 && ws->connectionState == 4);
}

/* ws_connect on a ws_info whose connection is live is refused whatever a
 * caller wrote into connectionState (the original Lua module writes 0 before
 * every ws_connect): no callback, no port call, the true state written back,
 * and the live connection ends once. */
static void test_connect_refused_while_live(ws_info *ws) {
  static const int forged[] = {0, 4, 77};
  int phase;
  size_t k;
  for (phase = 1; phase <= 4; phase++) {
    for (k = 0; k < sizeof forged / sizeof forged[0]; k++) {
      int want, resolves, sent_len;
      void *engine;
      init_ws(ws);
      if (phase == 1) {
        fake_reset();
        reset_callbacks();
        fk.resolve_ret = WS_PORT_PENDING;
        ws_connect(ws, "ws://h/");
      } else if (phase == 2) {
        connect_tcp(ws, "ws://h/");
      } else {
        open_ws(ws, "ws://h/");
        if (phase == 4) ws_close(ws); /* a closing handshake the user started */
      }
      want = ws->connectionState;
      CHECK(want == (phase == 1 ? 1 : 3));
      engine = ws->engine;
      resolves = fk.resolves;
      sent_len = (int)fk.sent_len;
      ws->connectionState = forged[k];
      ws_connect(ws, "ws://other:81/");
      CHECK(ws->connectionState == want);
      CHECK(ws->engine == engine);
      CHECK(fk.resolves == resolves && fk.closes == 0 && (int)fk.sent_len == sent_len);
      CHECK(failures == 0);
      ws->connectionState = forged[k];
      ws_connect_with(ws, "ws://other:81/", NULL);
      CHECK(ws->connectionState == want && fk.resolves == resolves && failures == 0);
      /* The live connection goes on and ends once. */
      ws->connectionState = forged[k];
      if (phase == 1) {
        ws_event_resolved(ws, 0);
        CHECK(failures == 1 && last_status == WS_ERR_DNS);
      } else {
        ws_event_disconnected(ws, -9);
        CHECK(failures == 1 && last_status == -109);
      }
      CHECK(fk.closes == 1 && state_at_failure == 4 && ws->connectionState == 4 && ws->engine == NULL);
    }
  }
  /* Garbage in a never-used ws_info is never taken for a connection. */
  init_ws(ws);
  fake_reset();
  reset_callbacks();
  ws->connectionState = 3;
  CHECK(ws_send_long(ws, 1, "x", 1) == WS_ERR_NOT_CONNECTED);
  ws_close(ws);
  ws_event_timer(ws);
  ws_event_sent(ws);
  ws_event_disconnected(ws, 0);
  ws_release(ws);
  CHECK(ws_protocol(ws) == NULL);
  CHECK(ws->connectionState == 3 && failures == 0 && fk.resolves == 0 && fk.closes == 0);
  /* ... and it connects. */
  open_ws(ws, "ws://h/");
  ws_release(ws);
  CHECK(ws->connectionState == 4 && fk.closes == 1 && failures == 0);
}

static void test_handshake_errors(ws_info *ws) {
  char resp[256];
  /* Not 101 -> -17 */
  connect_tcp(ws, "ws://h/");
  feed(ws, "HTTP/1.1 404 Not Found\r\n\r\n", 26);
  CHECK(failures == 1 && last_status == WS_ERR_NOT_SWITCHING && opened == 0);
  /* Wrong accept -> -7 */
  connect_tcp(ws, "ws://h/");
  snprintf(resp, sizeof resp, "%s%s\r\n\r\n", RESPONSE_HEAD, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  feed(ws, resp, strlen(resp));
  CHECK(failures == 1 && last_status == WS_ERR_BAD_ACCEPT && opened == 0);
  /* The right accept, but the port's SHA-1 is wrong -> -7 as well. */
  fake_reset();
  reset_callbacks();
  fk.sha1_wrong = 1;
  ws_connect(ws, "ws://h/");
  ws_event_connected(ws);
  ack_all(ws);
  snprintf(resp, sizeof resp, "%s%s\r\n\r\n", RESPONSE_HEAD, ACCEPT);
  feed(ws, resp, strlen(resp));
  CHECK(failures == 1 && last_status == WS_ERR_BAD_ACCEPT && opened == 0);
  CHECK(fk.sha1_calls == 1 && fk.sha1_other == 0);
  /* No answer -> the connect timer fires -> -18 */
  connect_tcp(ws, "ws://h/");
  CHECK(fk.timer_ms == 10000);
  ws_event_timer(ws);
  CHECK(failures == 1 && last_status == WS_ERR_CONNECT_TIMEOUT);
  /* Peer resets TCP -> -109 */
  open_ws(ws, "ws://h/");
  ws_event_disconnected(ws, -9);
  CHECK(failures == 1 && last_status == -109);
  /* User close during the handshake: at once, status 0. */
  connect_tcp(ws, "ws://h/");
  ws_close(ws);
  CHECK(failures == 1 && last_status == 0 && fk.closes == 1);
  /* Keep-alive: two unanswered pings, then -19. */
  open_ws(ws, "ws://h/");
  ws_event_timer(ws);
  ws_event_timer(ws);
  ack_all(ws);
  CHECK(failures == 0);
  ws_event_timer(ws);
  CHECK(failures == 1 && last_status == WS_ERR_PING_TIMEOUT);
  /* Protocol violation: masked server frame -> close 1002, then -20. */
  open_ws(ws, "ws://h/");
  {
    const uint8_t masked[] = {0x81, 0x81, 1, 2, 3, 4, 'x'};
    uint8_t pl[8];
    size_t off = request_end(), plen;
    int fin;
    feed(ws, masked, sizeof masked);
    CHECK(cframe(&off, &fin, pl, sizeof pl, &plen) == 8 && plen == 2 && pl[0] == 0x03 && pl[1] == 0xEA);
    ack_all(ws);
    /* Then it reads and discards until the server closes TCP. */
    CHECK(failures == 0 && ws->connectionState == 3);
    feed(ws, "ignored", 7);
    ws_event_disconnected(ws, 0);
    CHECK(failures == 1 && last_status == WS_ERR_MASKED_FRAME);
  }
}

static void test_options(ws_info *ws) {
  ws_options o;
  ws_options_init(&o);
  CHECK(o.max_message == WS_DEFAULT_MAX_MESSAGE && o.connect_timeout_ms == 10000 &&
        o.ping_interval_ms == 30000 && o.pong_timeout_ms == 60000 && o.close_timeout_ms == 5000);
  o.max_message = 8;
  o.ping_interval_ms = 0;
  fake_reset();
  reset_callbacks();
  ws_connect_with(ws, "ws://h/", &o);
  ws_event_connected(ws);
  ack_all(ws);
  {
    char resp[256];
    uint8_t seg[32];
    size_t n;
    snprintf(resp, sizeof resp, "%s%s\r\n\r\n", RESPONSE_HEAD, ACCEPT);
    feed(ws, resp, strlen(resp));
    CHECK(opened == 1 && fk.timer_ms == -1);
    n = sframe(seg, 1, 2, "123456789", 9);
    feed(ws, seg, n);
    ack_all(ws);
    ws_event_disconnected(ws, 0); /* the server, having read our 1009 */
    CHECK(failures == 1 && last_status == WS_ERR_MESSAGE_TOO_BIG && nmsgs == 0);
  }
}

/* ------------------------------------------------ v2: protocols, close, streaming */

static const char *proto_at_connection;
static char proto_copy[80];
static int closes_cb, close_status, close_code, close_reason_len;
static char close_reason[130];
static int close_reason_null;
static int npieces, pieces_fin, piece_bad_op, piece_after_fin;
static size_t pieces_total;
static unsigned char pieces_data[70000];

static void on_connection_proto(struct ws_info *ws) {
  opened++;
  proto_at_connection = ws_protocol(ws);
  snprintf(proto_copy, sizeof proto_copy, "%s", proto_at_connection ? proto_at_connection : "(null)");
}

static void on_close_cb(struct ws_info *ws, int status, int code, const char *reason, int reason_len) {
  closes_cb++;
  close_status = status;
  close_code = code;
  close_reason_len = reason_len;
  close_reason_null = reason == NULL;
  CHECK(ws->engine == NULL && ws->connectionState == 4);
  CHECK(ws_protocol(ws) == NULL);
  if (reason && reason_len > 0 && (size_t)reason_len < sizeof close_reason) {
    memcpy(close_reason, reason, (size_t)reason_len);
    close_reason[reason_len] = '\0';
  } else {
    close_reason[0] = '\0';
  }
}

static void on_fragment_cb(struct ws_info *ws, const char *chunk, int len, int opCode, int fin) {
  (void)ws;
  if (pieces_fin) piece_after_fin++;
  npieces++;
  if (opCode != 2) piece_bad_op++;
  if (len > 0 && pieces_total + (size_t)len <= sizeof pieces_data) memcpy(pieces_data + pieces_total, chunk, (size_t)len);
  pieces_total += (size_t)len;
  pieces_fin = fin;
}

static void v2_reset(void) {
  proto_at_connection = NULL;
  strcpy(proto_copy, "-");
  closes_cb = close_status = close_code = close_reason_len = close_reason_null = 0;
  close_reason[0] = '\0';
  npieces = pieces_fin = piece_bad_op = piece_after_fin = 0;
  pieces_total = 0;
}

/* Connects with options and answers with `extra` response header lines. */
static void open_with(ws_info *ws, const ws_options *o, const char *extra) {
  char resp[512];
  fake_reset();
  reset_callbacks();
  v2_reset();
  ws_connect_with(ws, "ws://h/", o);
  ws_event_connected(ws);
  ack_all(ws);
  snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\n%sSec-WebSocket-Accept: %s\r\n\r\n", extra, ACCEPT);
  feed(ws, resp, strlen(resp));
}

static void test_protocols(ws_info *ws) {
  ws_options o;
  ws_options_init(&o);
  CHECK(o.protocols == NULL && o.onClose == NULL && o.onFragment == NULL);
  ws->onConnection = on_connection_proto;
  /* Offered a and b, the server picks b: readable from onConnection on. */
  o.protocols = "a, b";
  open_with(ws, &o, "Sec-WebSocket-Protocol: b\r\n");
  CHECK(sent_contains("\r\nSec-WebSocket-Protocol: a, b\r\n") && !sent_contains("chat"));
  CHECK(opened == 1 && strcmp(proto_copy, "b") == 0);
  CHECK(ws_protocol(ws) != NULL && strcmp(ws_protocol(ws), "b") == 0);
  ws_release(ws);
  CHECK(ws_protocol(ws) == NULL);
  /* A protocol that was not offered: -7, no connection event. */
  open_with(ws, &o, "Sec-WebSocket-Protocol: c\r\n");
  CHECK(opened == 0 && failures == 1 && last_status == WS_ERR_BAD_ACCEPT);
  /* Empty list: no header; a server that picks one anyway fails. */
  o.protocols = "";
  open_with(ws, &o, "Sec-WebSocket-Protocol: chat\r\n");
  CHECK(!sent_contains("Sec-WebSocket-Protocol") && failures == 1 && last_status == WS_ERR_BAD_ACCEPT);
  open_with(ws, &o, "");
  CHECK(opened == 1 && strcmp(proto_copy, "(null)") == 0 && ws_protocol(ws) == NULL);
  ws_release(ws);
  /* Default (NULL): chat offered, none chosen. */
  o.protocols = NULL;
  open_with(ws, &o, "");
  CHECK(sent_contains("\r\nSec-WebSocket-Protocol: chat\r\n") && opened == 1 && ws_protocol(ws) == NULL);
  ws_release(ws);
  /* Never connected: NULL. */
  {
    ws_info fresh;
    init_ws(&fresh);
    CHECK(ws_protocol(&fresh) == NULL);
    CHECK(ws_protocol(NULL) == NULL);
  }
  ws->onConnection = on_connection;
}

static void test_close_details(ws_info *ws) {
  ws_options o;
  uint8_t seg[200], pl[130];
  size_t n, off, plen;
  int fin;
  ws_options_init(&o);
  o.onClose = on_close_cb;
  /* Server closes with 4001 "bye": onClose instead of onFailure. */
  open_with(ws, &o, "");
  n = sframe(seg, 1, 8, "\x0f\xa1" "bye", 5);
  feed(ws, seg, n);
  ack_all(ws);
  CHECK(closes_cb == 1 && failures == 0 && close_status == WS_ERR_SERVER_CLOSED);
  CHECK(close_code == 4001 && close_reason_len == 3 && strcmp(close_reason, "bye") == 0);
  /* Empty close frame: 1005, no reason (but not NULL). */
  open_with(ws, &o, "");
  n = sframe(seg, 1, 8, "", 0);
  feed(ws, seg, n);
  ack_all(ws);
  CHECK(closes_cb == 1 && close_code == 1005 && close_reason_len == 0 && !close_reason_null);
  /* TCP closed without a close frame: code -1, reason NULL. */
  open_with(ws, &o, "");
  ws_event_disconnected(ws, 0);
  CHECK(closes_cb == 1 && close_status == -110 && close_code == -1 && close_reason_null && close_reason_len == 0);
  /* URL error: onClose at once. */
  fake_reset();
  reset_callbacks();
  v2_reset();
  ws_connect_with(ws, "http://h/", &o);
  CHECK(closes_cb == 1 && failures == 0 && close_status == WS_ERR_BAD_SCHEME && close_code == -1);
  /* ws_close_with: our code and reason, then the server's answer. */
  open_with(ws, &o, "");
  off = request_end();
  ws_close_with(ws, 4000, "going away now", 14);
  CHECK(cframe(&off, &fin, pl, sizeof pl, &plen) == 8 && plen == 16 && pl[0] == 0x0f && pl[1] == 0xa0 &&
        memcmp(pl + 2, "going away now", 14) == 0);
  CHECK(ws->connectionState == 3);
  ws_close_with(ws, 4000, "twice", 5); /* closing already: nothing */
  CHECK(cframe(&off, &fin, pl, sizeof pl, &plen) == -1);
  n = sframe(seg, 1, 8, "\x0f\xa0" "ok", 4);
  feed(ws, seg, n);
  ws_event_disconnected(ws, 0);
  CHECK(closes_cb == 1 && close_status == 0 && close_code == 4000 && strcmp(close_reason, "ok") == 0);
  /* Invalid code or reason: 1000 without a reason. */
  {
    static const struct {
      int code;
      const char *reason;
      size_t len;
    } bad[] = {{1005, "", 0}, {999, "", 0}, {70000, "", 0}, {1000, NULL, 3}, {4000, "\xff", 1},
               {4000, NULL, 124}};
    char longreason[124];
    size_t i;
    memset(longreason, 'r', sizeof longreason);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      open_with(ws, &o, "");
      off = request_end();
      ws_close_with(ws, bad[i].code, bad[i].reason ? bad[i].reason : (bad[i].len == 124 ? longreason : NULL),
                    bad[i].len);
      CHECK(cframe(&off, &fin, pl, sizeof pl, &plen) == 8 && plen == 2 && pl[0] == 0x03 && pl[1] == 0xE8);
      ws_release(ws);
    }
  }
  /* Without onClose, onFailure as before. */
  o.onClose = NULL;
  open_with(ws, &o, "");
  n = sframe(seg, 1, 8, "\x0f\xa1" "bye", 5);
  feed(ws, seg, n);
  ack_all(ws);
  CHECK(closes_cb == 0 && failures == 1 && last_status == WS_ERR_SERVER_CLOSED);
}

static void test_streaming(ws_info *ws) {
  ws_options o;
  static uint8_t seg[70100];
  static unsigned char msg[65000];
  size_t n, i;
  ws_options_init(&o);
  o.onFragment = on_fragment_cb;
  o.max_message = 100; /* does not apply when streaming */
  for (i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)(i * 7 + 3);
  open_with(ws, &o, "");
  /* One binary message in two frames, delivered in 1000-byte segments. */
  n = sframe(seg, 0, 2, msg, 30000);
  n += sframe(seg + n, 1, 0, msg + 30000, sizeof msg - 30000);
  for (i = 0; i < n; i += 1000) feed(ws, seg + i, n - i < 1000 ? n - i : 1000);
  CHECK(failures == 0 && nmsgs == 0);
  CHECK(pieces_total == sizeof msg && memcmp(pieces_data, msg, sizeof msg) == 0);
  CHECK(pieces_fin == 1 && piece_after_fin == 0 && piece_bad_op == 0 && npieces >= 66);
  ws_release(ws);
  /* Invalid UTF-8 in a streamed text message: -25 (close 1007). */
  open_with(ws, &o, "");
  n = sframe(seg, 1, 1, "ok\xff", 3);
  feed(ws, seg, n);
  ack_all(ws);
  ws_event_timer(ws); /* no TCP close from the server: the close timer */
  CHECK(failures == 1 && last_status == WS_ERR_INVALID_UTF8 && npieces == 0);
}

int main(void) {
  ws_info ws;
  test_url_errors();
  test_dns_failure();
  init_ws(&ws);
  test_session(&ws);      /* first connection on ws */
  test_user_close(&ws);   /* second connection on the same ws_info */
  test_connect_refused_while_live(&ws);
  test_handshake_errors(&ws);
  test_options(&ws);
  test_protocols(&ws);
  test_close_details(&ws);
  test_streaming(&ws);
  open_ws(&ws, "ws://h/"); /* and once more: release without callback */
  ws_release(&ws);
  CHECK(failures == 0 && ws.engine == NULL && fk.closes == 1);
  fake_reset();
  free(fk.sent);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
