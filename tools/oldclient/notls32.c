/* Stands in for nodemcu-glue/host/fake/secure.c in the 32-bit heap runner
 * (no 32-bit OpenSSL): every TLS entry point stops the program with a
 * message; the heap measurement uses ws:// only. The CA-sector calls the
 * runner's tls module makes answer "nothing stored / off". */
#include "internal.h"

static void no_tls(void) { fsdk_die("TLS is not built into the 32-bit heap runner"); }

sint8 espconn_secure_connect(struct espconn *ec) { (void)ec; no_tls(); }
sint8 espconn_secure_disconnect(struct espconn *ec) { (void)ec; no_tls(); }
sint8 espconn_secure_send(struct espconn *ec, uint8 *d, uint16 n) { (void)ec; (void)d; (void)n; no_tls(); }
sint8 espconn_secure_sent(struct espconn *ec, uint8 *d, uint16 n) { (void)ec; (void)d; (void)n; no_tls(); }
void fsdk_tls_record_done(fconn_t *fc) { (void)fc; no_tls(); }
void fsdk_tls_free(fconn_t *fc, int graceful) { (void)fc; (void)graceful; }
int fsdk_tls_buffered(fconn_t *fc) { (void)fc; return 0; }
int fsdk_tls_step(fconn_t *fc) { (void)fc; no_tls(); }
int fsdk_tls_start(fconn_t *fc) { (void)fc; no_tls(); }
ssize_t fsdk_tls_io(fconn_t *fc, void *buf, size_t len, int writing) {
  (void)fc; (void)buf; (void)len; (void)writing; no_tls();
}
bool espconn_secure_set_size(uint8 level, uint16 size) { (void)level; (void)size; return 1; }
sint16 espconn_secure_get_size(uint8 level) { (void)level; return 4096; }
int fake_sdk_set_ca_pem(const char *pem, size_t len) { (void)pem; (void)len; return -1; }
const char *fake_sdk_get_ca_pem(size_t *len) { if (len) *len = 0; return NULL; }
void fake_sdk_set_ca_source(fake_sdk_ca_source fn, void *arg) { (void)fn; (void)arg; }
int fake_sdk_ca_enabled(void) { return 0; }
bool espconn_secure_ca_enable(uint8 level, uint32 sector) { (void)level; (void)sector; return 0; }
bool espconn_secure_ca_disable(uint8 level) { (void)level; return 1; }
bool espconn_secure_cert_req_enable(uint8 level, uint32 sector) { (void)level; (void)sector; return 0; }
bool espconn_secure_cert_req_disable(uint8 level) { (void)level; return 1; }
