/* Fake ESP8266 NonOS SDK, fault injection: makes the return codes of
 * espconn_connect / espconn_send that need a condition the host cannot
 * produce on demand (a failed allocation inside lwIP, no IP address, a
 * station not yet on an access point) reachable in tests.
 *
 * A plan is a comma-separated list of NAME@N (the N-th call, counted from 1
 * since the start or the last fake_sdk_fault_reset) or NAME@N+ (the N-th and
 * every later call), from FAKE_SDK_FAULTS at the first call or from
 * fake_sdk_fault(). Calls of espconn_connect and espconn_secure_connect are
 * counted together; the send faults count espconn_send calls. The names and
 * what the real code (NodeMCU app/lwip/app/espconn*.c) does in that case:
 *
 *   connect_mem       ESPCONN_MEM: os_zalloc or tcp_new failed; nothing kept
 *   connect_mem_kept  ESPCONN_MEM: tcp_connect could not queue the SYN after
 *                     the connection was listed; espconn keeps it (and the
 *                     espconn pointer) until espconn_disconnect, which then
 *                     gives the disconnect callback (plain TCP only; on a
 *                     secure connect it acts as connect_mem)
 *   connect_isconn    ESPCONN_ISCONN: the local port is used by another active
 *                     connection (plain TCP only)
 *   connect_rte       ESPCONN_RTE: the interface has no IP address
 *   connect_station   3 (STATION_NO_AP_FOUND, > 0): station+AP mode, the
 *                     station is not connected; the SDK returns the status
 *   send_mem          ESPCONN_MEM: no memory for the espconn_buf; nothing queued
 *   send_mem_kept     ESPCONN_MEM: tcp_write found no memory; the data stays
 *                     on espconn's list (write_flag off) and goes out only
 *                     when something earlier is acknowledged
 *   send_rte          ESPCONN_RTE: tcp_output found no route; the data is
 *                     inside lwIP already and goes out later
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name;
  enum fsdk_fault fault;
  enum fsdk_fault_api api;
} names[] = {
    {"connect_mem", FSDK_CONNECT_MEM, FSDK_API_CONNECT},
    {"connect_mem_kept", FSDK_CONNECT_MEM_KEPT, FSDK_API_CONNECT},
    {"connect_isconn", FSDK_CONNECT_ISCONN, FSDK_API_CONNECT},
    {"connect_rte", FSDK_CONNECT_RTE, FSDK_API_CONNECT},
    {"connect_station", FSDK_CONNECT_STATION, FSDK_API_CONNECT},
    {"send_mem", FSDK_SEND_MEM, FSDK_API_SEND},
    {"send_mem_kept", FSDK_SEND_MEM_KEPT, FSDK_API_SEND},
    {"send_rte", FSDK_SEND_RTE, FSDK_API_SEND},
};

#define MAX_PLANS 32

typedef struct {
  enum fsdk_fault fault;
  enum fsdk_fault_api api;
  unsigned long call;
  int onwards;
} plan_t;

static plan_t plans[MAX_PLANS];
static size_t nplans;
static unsigned long calls[FSDK_API_COUNT];
static int env_loaded;

static int parse(const char *spec) {
  char buf[512];
  size_t len = strlen(spec);
  if (len >= sizeof buf)
    return -1;
  memcpy(buf, spec, len + 1);
  char *save = NULL;
  for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
    char *at = strchr(tok, '@');
    if (at == NULL || nplans == MAX_PLANS)
      return -1;
    *at++ = '\0';
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
      if (strcmp(names[i].name, tok) == 0)
        break;
    if (i == sizeof names / sizeof names[0])
      return -1;
    char *end = NULL;
    unsigned long n = strtoul(at, &end, 10);
    if (end == at || n == 0 || (*end != '\0' && strcmp(end, "+") != 0))
      return -1;
    plans[nplans].fault = names[i].fault;
    plans[nplans].api = names[i].api;
    plans[nplans].call = n;
    plans[nplans].onwards = *end == '+';
    nplans++;
  }
  return 0;
}

static void load_env(void) {
  if (env_loaded)
    return;
  env_loaded = 1;
  const char *v = getenv("FAKE_SDK_FAULTS");
  if (v != NULL && *v != '\0' && parse(v) != 0) {
    fprintf(stderr, "fake-sdk: bad FAKE_SDK_FAULTS=%s\n", v);
    fsdk_die("FAKE_SDK_FAULTS does not parse");
  }
}

int fake_sdk_fault(const char *spec) {
  load_env();
  size_t before = nplans;
  if (spec == NULL || parse(spec) != 0) {
    nplans = before;
    return -1;
  }
  return 0;
}

void fake_sdk_fault_reset(void) {
  env_loaded = 1; /* an explicit reset also drops the environment's plan */
  nplans = 0;
  memset(calls, 0, sizeof calls);
}

enum fsdk_fault fsdk_fault_next(enum fsdk_fault_api api) {
  load_env();
  unsigned long n = ++calls[api];
  for (size_t i = 0; i < nplans; i++) {
    if (plans[i].api == api && (plans[i].call == n || (plans[i].onwards && n > plans[i].call))) {
      FSDK_TRACE("fault: call %lu of %s fails (plan %zu)\n", n,
                 api == FSDK_API_CONNECT ? "connect" : "send", i);
      return plans[i].fault;
    }
  }
  return FSDK_FAULT_NONE;
}
