/* Host stand-in for NodeMCU's espconn.h (app/include/lwip/app/espconn.h; TCP
 * client subset), implemented over non-blocking POSIX sockets by
 * fake/espconn.c and fake/secure.c. Same types, field names and error codes;
 * includes what the real header includes (lwip/err.h, lwip/dns.h, os_type.h),
 * so the SDK integer names come from <stdint.h> as in the firmware. */
#ifndef FAKE_SDK_ESPCONN_H
#define FAKE_SDK_ESPCONN_H

#include "lwip/err.h"
#include "lwip/dns.h"
#include "os_type.h"
#include "lwip/ip_addr.h"

typedef sint8 err_t_espconn;

typedef void *espconn_handle;
typedef void (*espconn_connect_callback)(void *arg);
typedef void (*espconn_reconnect_callback)(void *arg, sint8 err);
typedef void (*espconn_recv_callback)(void *arg, char *pdata, unsigned short len);
typedef void (*espconn_sent_callback)(void *arg);

#define ESPCONN_OK 0
#define ESPCONN_MEM -1
#define ESPCONN_TIMEOUT -3
#define ESPCONN_RTE -4
#define ESPCONN_INPROGRESS -5
#define ESPCONN_MAXNUM -7
#define ESPCONN_ABRT -8
#define ESPCONN_RST -9
#define ESPCONN_CLSD -10
#define ESPCONN_CONN -11
#define ESPCONN_ARG -12
#define ESPCONN_IF -14
#define ESPCONN_ISCONN -15
#define ESPCONN_TIME -16
#define ESPCONN_NODATA -17
#define ESPCONN_HANDSHAKE -28
#define ESPCONN_SSL_INVALID_DATA -61

enum espconn_type {
  ESPCONN_INVALID = 0,
  ESPCONN_TCP = 0x10,
  ESPCONN_UDP = 0x20,
};

enum espconn_state {
  ESPCONN_NONE,
  ESPCONN_WAIT,
  ESPCONN_LISTEN,
  ESPCONN_CONNECT,
  ESPCONN_WRITE,
  ESPCONN_READ,
  ESPCONN_CLOSE
};

typedef struct _esp_tcp {
  int remote_port;
  int local_port;
  uint8 local_ip[4];
  uint8 remote_ip[4];
  espconn_connect_callback connect_callback;
  espconn_reconnect_callback reconnect_callback;
  espconn_connect_callback disconnect_callback;
  espconn_connect_callback write_finish_fn;
} esp_tcp;

typedef struct _esp_udp {
  int remote_port;
  int local_port;
  uint8 local_ip[4];
  uint8 remote_ip[4];
} esp_udp;

struct espconn {
  enum espconn_type type;
  enum espconn_state state;
  union {
    esp_tcp *tcp;
    esp_udp *udp;
  } proto;
  espconn_recv_callback recv_callback;
  espconn_sent_callback sent_callback;
  uint8 link_cnt;
  void *reverse;
};

enum espconn_option {
  ESPCONN_START = 0x00,
  ESPCONN_REUSEADDR = 0x01,
  ESPCONN_NODELAY = 0x02,
  ESPCONN_COPY = 0x04,
  ESPCONN_KEEPALIVE = 0x08,
  ESPCONN_END
};

enum espconn_level { ESPCONN_CLIENT = 0x01, ESPCONN_SERVER = 0x02, ESPCONN_BOTH = 0x03 };

uint32 espconn_port(void);
sint8 espconn_connect(struct espconn *espconn);
sint8 espconn_disconnect(struct espconn *espconn);
sint8 espconn_delete(struct espconn *espconn);
sint8 espconn_abort(struct espconn *espconn);
sint8 espconn_send(struct espconn *espconn, uint8 *psent, uint16 length);
sint8 espconn_sent(struct espconn *espconn, uint8 *psent, uint16 length);
sint8 espconn_regist_connectcb(struct espconn *espconn, espconn_connect_callback connect_cb);
sint8 espconn_regist_reconcb(struct espconn *espconn, espconn_reconnect_callback recon_cb);
sint8 espconn_regist_disconcb(struct espconn *espconn, espconn_connect_callback discon_cb);
sint8 espconn_regist_recvcb(struct espconn *espconn, espconn_recv_callback recv_cb);
sint8 espconn_regist_sentcb(struct espconn *espconn, espconn_sent_callback sent_cb);
sint8 espconn_set_opt(struct espconn *espconn, uint8 opt);
sint8 espconn_clear_opt(struct espconn *espconn, uint8 opt);

/* TLS over OpenSSL (fake/secure.c: one write in flight, ESPCONN_INPROGRESS
 * otherwise, as NodeMCU's espconn_secure.c). The server certificate is
 * checked only after espconn_secure_ca_enable(ESPCONN_CLIENT or ESPCONN_BOTH,
 * sector): the chain (not the name, as on the device) against the PEM
 * "sector" set with fake_sdk_set_ca_pem (fake_sdk.h); failure ->
 * reconcb(ESPCONN_HANDSHAKE). Levels outside 1..3 answer false. */
sint8 espconn_secure_connect(struct espconn *espconn);
sint8 espconn_secure_disconnect(struct espconn *espconn);
sint8 espconn_secure_send(struct espconn *espconn, uint8 *psent, uint16 length);
sint8 espconn_secure_sent(struct espconn *espconn, uint8 *psent, uint16 length);
bool espconn_secure_set_size(uint8 level, uint16 size);
sint16 espconn_secure_get_size(uint8 level);
bool espconn_secure_ca_enable(uint8 level, uint32 flash_sector);
bool espconn_secure_ca_disable(uint8 level);
bool espconn_secure_cert_req_enable(uint8 level, uint32 flash_sector);
bool espconn_secure_cert_req_disable(uint8 level);

#endif
