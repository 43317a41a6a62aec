/* Host stand-in for lwIP 1.4's lwip/dns.h (fake SDK).
 * dns_gethostbyname: a dotted quad answers ERR_OK at once with *addr filled;
 * any other name answers ERR_INPROGRESS and `found` is called later from the
 * event loop (ipaddr NULL on failure); ERR_ARG for bad arguments. */
#ifndef FAKE_SDK_LWIP_DNS_H
#define FAKE_SDK_LWIP_DNS_H
#include "lwip/arch.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"

#define DNS_MAX_NAME_LENGTH 256

typedef void (*dns_found_callback)(const char *name, ip_addr_t *ipaddr,
                                   void *callback_arg);

err_t dns_gethostbyname(const char *hostname, ip_addr_t *addr,
                        dns_found_callback found, void *callback_arg);

#endif
