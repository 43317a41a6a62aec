/* Fake ESP8266 NonOS SDK, DNS: lwIP's dns_gethostbyname (lwip/dns.h) and
 * ipaddr_addr (lwip/ip_addr.h). A dotted quad answers at once; any other name
 * is looked up on a worker thread (/etc/hosts first, then getaddrinfo unless
 * FAKE_SDK_DNS_HOSTS_ONLY=1; names under .invalid never resolve) and the
 * answer is delivered from the loop. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct dnsreq {
  struct dnsreq *self;
  dns_found_callback found;
  void *arg;
  int ok;
  uint32_t addr; /* network order */
  int hosts_only;
  char name[DNS_MAX_NAME_LENGTH + 1];
} dnsreq_t;

static int dns_pipe[2] = {-1, -1};
static int dns_pending;

u32_t ipaddr_addr(const char *cp) {
  struct in_addr a;
  if (cp == NULL || inet_pton(AF_INET, cp, &a) != 1)
    return IPADDR_NONE;
  return a.s_addr;
}

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
  return *a == *b;
}

static int hosts_lookup(const char *name, uint32_t *addr) {
  FILE *f = fopen("/etc/hosts", "re");
  int found = 0;
  if (f != NULL) {
    char line[512];
    while (!found && fgets(line, sizeof line, f) != NULL) {
      char *hash = strchr(line, '#');
      if (hash)
        *hash = '\0';
      char *save = NULL;
      char *tok = strtok_r(line, " \t\r\n", &save);
      struct in_addr a;
      if (tok == NULL || inet_pton(AF_INET, tok, &a) != 1)
        continue;
      while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
        if (name_eq(tok, name)) {
          *addr = a.s_addr;
          found = 1;
          break;
        }
      }
    }
    fclose(f);
  }
  if (!found && name_eq(name, "localhost")) {
    *addr = htonl(INADDR_LOOPBACK);
    found = 1;
  }
  return found;
}

static int is_invalid_tld(const char *name) {
  size_t n = strlen(name);
  while (n > 0 && name[n - 1] == '.')
    n--;
  if (n == 7 && strncasecmp(name, "invalid", 7) == 0)
    return 1;
  return n > 8 && strncasecmp(name + n - 8, ".invalid", 8) == 0;
}

static void *dns_worker(void *p) {
  dnsreq_t *r = p;
  r->ok = 0;
  if (is_invalid_tld(r->name)) {
    /* RFC 6761: never resolves */
  } else if (hosts_lookup(r->name, &r->addr)) {
    r->ok = 1;
  } else if (!r->hosts_only) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(r->name, NULL, &hints, &res) == 0 && res != NULL) {
      r->addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
      r->ok = 1;
    }
    if (res)
      freeaddrinfo(res);
  }
  /* Once written, the request belongs to the loop thread again: write a local
   * copy of the pointer and never touch *r afterwards. */
  dnsreq_t *self = r->self;
  ssize_t w;
  do {
    w = write(dns_pipe[1], &self, sizeof self);
  } while (w < 0 && errno == EINTR);
  if (w != (ssize_t)sizeof self)
    fsdk_die("DNS worker could not report back");
  return NULL;
}

err_t dns_gethostbyname(const char *name, ip_addr_t *addr, dns_found_callback found,
                        void *arg) {
  fsdk_load_config();
  if (name == NULL || addr == NULL || found == NULL || name[0] == '\0' ||
      strlen(name) >= DNS_MAX_NAME_LENGTH)
    return ERR_ARG;
  struct in_addr lit;
  if (inet_pton(AF_INET, name, &lit) == 1) {
    addr->addr = lit.s_addr;
    return ERR_OK;
  }
  if (dns_pipe[0] < 0 && pipe2(dns_pipe, O_CLOEXEC) != 0)
    return ERR_MEM;
  dnsreq_t *r = malloc(sizeof *r); /* lwIP's table entry: counts as heap */
  if (r == NULL)
    return ERR_MEM;
  memset(r, 0, sizeof *r);
  r->self = r;
  r->found = found;
  r->arg = arg;
  r->hosts_only = fsdk_cfg.hosts_only;
  memcpy(r->name, name, strlen(name) + 1);
  pthread_t th;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&th, &at, dns_worker, r);
  pthread_attr_destroy(&at);
  if (rc != 0) {
    free(r);
    return ERR_MEM;
  }
  dns_pending++;
  FSDK_TRACE("dns lookup of %s started\n", name);
  return ERR_INPROGRESS;
}

int fsdk_dns_pending(void) { return dns_pending; }

int fsdk_dns_fd(void) { return dns_pending > 0 ? dns_pipe[0] : -1; }

void fsdk_dns_ready(void) {
  dnsreq_t *r = NULL;
  ssize_t n = read(dns_pipe[0], &r, sizeof r);
  if (n != (ssize_t)sizeof r || r == NULL)
    return;
  dns_pending--;
  ip_addr_t ip;
  ip.addr = r->addr;
  FSDK_TRACE("dns lookup of %s: %s\n", r->name, r->ok ? "ok" : "failed");
  r->found(r->name, r->ok ? &ip : NULL, r->arg);
  free(r);
}
