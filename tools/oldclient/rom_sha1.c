/* The ESP8266 ROM's SHA-1 interface (SHA1Init/SHA1Update/SHA1Final, NetBSD
 * sha1.h context), which the old client calls, for host programs: on the
 * device it is in ROM. Built on the block function of
 * tools/callgrind/workloads.h. */
#include <stdint.h>
#include <string.h>

#include "oldclient_sdk.h"
#define CG_SHA1_BLOCK_ONLY
#include "workloads.h"

void SHA1Init(SHA1_CTX *c) {
  static const uint32_t h0[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  memcpy(c->state, h0, sizeof h0);
  c->count[0] = c->count[1] = 0;
}

void SHA1Update(SHA1_CTX *c, const uint8_t *data, unsigned int len) {
  uint64_t bits = (uint64_t)c->count[1] << 32 | c->count[0];
  size_t used = (size_t)(bits / 8 % 64);
  bits += (uint64_t)len * 8;
  c->count[0] = (uint32_t)bits;
  c->count[1] = (uint32_t)(bits >> 32);
  while (len > 0) {
    size_t n = 64 - used < len ? 64 - used : len;
    memcpy(c->buffer + used, data, n);
    used += n;
    data += n;
    len -= (unsigned)n;
    if (used == 64) {
      sha1_block(c->state, c->buffer);
      used = 0;
    }
  }
}

void SHA1Final(uint8_t digest[20], SHA1_CTX *c) {
  uint64_t bits = (uint64_t)c->count[1] << 32 | c->count[0];
  uint8_t pad[72] = {0x80};
  size_t used = (size_t)(bits / 8 % 64);
  size_t padlen = used < 56 ? 56 - used : 120 - used;
  uint8_t lenbe[8];
  for (int i = 0; i < 8; i++) lenbe[i] = (uint8_t)(bits >> (56 - 8 * i));
  SHA1Update(c, pad, (unsigned)padlen);
  SHA1Update(c, lenbe, 8);
  for (int i = 0; i < 5; i++) {
    digest[4 * i] = (uint8_t)(c->state[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(c->state[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(c->state[i] >> 8);
    digest[4 * i + 3] = (uint8_t)c->state[i];
  }
}
