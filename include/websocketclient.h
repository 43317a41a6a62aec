/* CONTRACT DRAFT (hand-written by the lead). The core helper replaces this file
 * with the cbindgen-generated header; names, types and semantics below are fixed. */
#ifndef WEBSOCKETCLIENT_H
#define WEBSOCKETCLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ws_info;

typedef void (*ws_onConnectionCallback)(struct ws_info *ws);
typedef void (*ws_onReceiveCallback)(struct ws_info *ws, int len, char *message, int opCode);
typedef void (*ws_onFailureCallback)(struct ws_info *ws, int errorCode);

typedef struct {
  char *key;
  char *value;
} header_t; /* array ends with {NULL, NULL} */

typedef struct ws_info {
  int connectionState;          /* 0 idle, 1 resolving, 2 TCP connecting, 3 connected, 4 closing/closed */
  header_t *extraHeaders;
  void *reservedData;           /* caller's */
  ws_onConnectionCallback onConnection;
  ws_onReceiveCallback onReceive;
  ws_onFailureCallback onFailure;
  void *engine;                 /* library private: set by ws_connect */
  void *port;                   /* port private: set by the port from ws_port_resolve on */
} ws_info;

/* ---- the original API ---- */
void ws_connect(ws_info *ws, const char *url);
void ws_send(ws_info *ws, int opCode, const char *message, unsigned short length);
void ws_close(ws_info *ws);

/* ---- new API ---- */
typedef struct ws_options {
  uint32_t max_message;         /* largest received message in bytes (default WS_DEFAULT_MAX_MESSAGE) */
  uint32_t connect_timeout_ms;  /* end of DNS -> handshake done (default 10000) */
  uint32_t ping_interval_ms;    /* silence before a ping (default 30000); 0 disables keep-alive */
  uint32_t pong_timeout_ms;     /* silence after the first unanswered ping before -19 (default 60000) */
  uint32_t close_timeout_ms;    /* closing handshake deadline (default 5000) */
} ws_options;

#define WS_DEFAULT_MAX_MESSAGE 1048576u

void ws_options_init(ws_options *options);                 /* fills the defaults */
void ws_connect_with(ws_info *ws, const char *url, const ws_options *options); /* NULL = defaults */
/* Send a message of any length. Returns 0, or WS_ERR_NOT_CONNECTED / WS_ERR_BAD_OPCODE
 * (nothing sent, connection unaffected) or WS_ERR_NO_MEMORY_SEND (connection fails with -16). */
int  ws_send_long(ws_info *ws, int opCode, const char *message, size_t length);
/* Tear down at once without any callback (for a client being freed, e.g. Lua __gc).
 * Afterwards neither the library nor the port touches *ws again. */
void ws_release(ws_info *ws);

/* ---- the port: implemented by the platform (nodemcu-glue/ or the host runtime) ----
 * Rules: a port function never calls a ws_event_* function before it returns; events
 * come from the platform's event loop only. For one connection the first port call is
 * ws_port_resolve and the last is ws_port_close; no event may follow ws_port_close. */
#define WS_PORT_PENDING 0     /* ws_port_resolve: ws_event_resolved will follow */
#define WS_PORT_DONE    1     /* ws_port_resolve: resolved at once, no event follows */
#define WS_PORT_BUSY    1     /* ws_port_send: refused for now, retry after the next ws_event_sent */
int  ws_port_resolve(ws_info *ws, const char *host);       /* PENDING, DONE, or <0 failed (-5) */
int  ws_port_connect(ws_info *ws, uint16_t port, int secure); /* 0, or an espconn error (<0) */
int  ws_port_send(ws_info *ws, const uint8_t *data, uint16_t len); /* 0 accepted (one ws_event_sent
                                                    follows), WS_PORT_BUSY, or an espconn error (<0) */
void ws_port_close(ws_info *ws);    /* drop TCP (deferred as the platform needs), stop the timer,
                                       free port state; no event for ws afterwards */
void ws_port_timer_arm(ws_info *ws, uint32_t ms);   /* one-shot; re-arming replaces */
void ws_port_timer_disarm(ws_info *ws);
void ws_port_random(uint8_t *buf, size_t len);

/* ---- events: called by the port, from its event loop ---- */
void ws_event_resolved(ws_info *ws, int ok);
void ws_event_connected(ws_info *ws);
void ws_event_received(ws_info *ws, uint8_t *data, size_t len); /* library may modify data[0..len) */
void ws_event_sent(ws_info *ws);
void ws_event_disconnected(ws_info *ws, int err); /* 0 peer closed; <0 espconn error code */
void ws_event_timer(ws_info *ws);

/* ---- status codes passed to onFailure ---- */
#define WS_OK                      0
#define WS_ERR_BAD_SCHEME         -1
#define WS_ERR_HOST_TOO_LONG      -2
#define WS_ERR_BAD_PORT           -3
#define WS_ERR_NO_HOST            -4
#define WS_ERR_DNS                -5
#define WS_ERR_SERVER_CLOSED      -6
#define WS_ERR_BAD_ACCEPT         -7
#define WS_ERR_NO_MEMORY_MESSAGE  -8   /* reassembly buffer */
#define WS_ERR_NO_MEMORY_CONTROL  -9   /* control frame split across segments */
#define WS_ERR_NO_MEMORY_HANDSHAKE -10 /* handshake response parser */
/* -11 .. -14 reserved (out of memory while receiving) */
#define WS_ERR_FRAGMENTATION     -15  /* continuation without a message, or new message inside one */
#define WS_ERR_NO_MEMORY_SEND    -16
#define WS_ERR_NOT_SWITCHING     -17
#define WS_ERR_CONNECT_TIMEOUT   -18
#define WS_ERR_PING_TIMEOUT      -19
#define WS_ERR_MASKED_FRAME      -20  /* new: server frame masked (close 1002) */
#define WS_ERR_RESERVED_BITS     -21  /* new: RSV1-3 set (1002) */
#define WS_ERR_RESERVED_OPCODE   -22  /* new: opcode 3-7 or 11-15 (1002) */
#define WS_ERR_BAD_CONTROL_FRAME -23  /* new: control frame > 125 bytes or not FIN (1002) */
#define WS_ERR_BAD_CLOSE_PAYLOAD -24  /* new: 1-byte close, invalid code (1002) or reason not UTF-8 (1007) */
#define WS_ERR_INVALID_UTF8      -25  /* new: text message not UTF-8 (1007) */
#define WS_ERR_MESSAGE_TOO_BIG   -26  /* new: over max_message (1009) */
#define WS_ERR_BAD_HANDSHAKE     -27  /* new: response header block too large or malformed */
#define WS_ERR_NOT_CONNECTED     -30  /* ws_send_long return only */
#define WS_ERR_BAD_OPCODE        -31  /* ws_send_long return only */
/* espconn error e (<0) is reported as e - 100; anything else -99 */
#define WS_ERR_OTHER             -99

#ifdef __cplusplus
}
#endif
#endif
