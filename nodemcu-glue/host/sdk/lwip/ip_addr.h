/* Host stand-in for lwIP 1.4's lwip/ip_addr.h (IPv4 only), fake SDK. */
#ifndef FAKE_SDK_LWIP_IP_ADDR_H
#define FAKE_SDK_LWIP_IP_ADDR_H
#include "lwip/arch.h"

/* addr is in network byte order, as in lwIP. */
typedef struct ip_addr {
  u32_t addr;
} ip_addr_t;
typedef struct ip_addr ip4_addr_t;

/* Build the address a.b.c.d in network order on a little-endian host. */
#define IP4_ADDR(ipaddr, a, b, c, d)                                           \
  (ipaddr)->addr = ((u32_t)((d)&0xff) << 24) | ((u32_t)((c)&0xff) << 16) |    \
                   ((u32_t)((b)&0xff) << 8) | (u32_t)((a)&0xff)

#define ip4_addr1(ipaddr) (((const u8_t *)(ipaddr))[0])
#define ip4_addr2(ipaddr) (((const u8_t *)(ipaddr))[1])
#define ip4_addr3(ipaddr) (((const u8_t *)(ipaddr))[2])
#define ip4_addr4(ipaddr) (((const u8_t *)(ipaddr))[3])
#define ip4_addr1_16(ipaddr) ((u16_t)ip4_addr1(ipaddr))
#define ip4_addr2_16(ipaddr) ((u16_t)ip4_addr2(ipaddr))
#define ip4_addr3_16(ipaddr) ((u16_t)ip4_addr3(ipaddr))
#define ip4_addr4_16(ipaddr) ((u16_t)ip4_addr4(ipaddr))

#define IP2STR(ipaddr)                                                          \
  ip4_addr1_16(ipaddr), ip4_addr2_16(ipaddr), ip4_addr3_16(ipaddr),            \
      ip4_addr4_16(ipaddr)
#define IPSTR "%d.%d.%d.%d"

#define IPADDR_NONE ((u32_t)0xffffffffUL)
#define IPADDR_ANY ((u32_t)0x00000000UL)

u32_t ipaddr_addr(const char *cp); /* IPADDR_NONE if not a dotted quad */

#endif
