/* Fake ESP8266 NonOS SDK, ROM: the SHA-1 routines the chip has in its mask
 * ROM (SHA1Init/SHA1Update/SHA1Final, declared in rom.h), written from FIPS
 * 180-4 (sections 5.1.1 padding, 6.1.2 computation) for host programs. On
 * the device they cost no flash. Needs no other part of the fake SDK (the
 * old-client benchmark links it alone). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rom.h"

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

/* One 64-byte block into the hash words; the message schedule W is kept in
 * a ring of 16 words (W[t] needs only W[t-3], W[t-8], W[t-14], W[t-16]). */
static void sha1_block(uint32_t h[5], const uint8_t *p) {
  uint32_t w[16];
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  int t;
  for (t = 0; t < 16; t++) {
    w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 |
           (uint32_t)p[4 * t + 3];
  }
  for (t = 0; t < 80; t++) {
    uint32_t f, k, tmp;
    if (t >= 16) {
      w[t & 15] = rotl(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
    }
    if (t < 20) {
      f = (b & c) ^ (~b & d); /* Ch */
      k = 0x5a827999u;
    } else if (t < 40) {
      f = b ^ c ^ d; /* Parity */
      k = 0x6ed9eba1u;
    } else if (t < 60) {
      f = (b & c) ^ (b & d) ^ (c & d); /* Maj */
      k = 0x8f1bbcdcu;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6u;
    }
    tmp = rotl(a, 5) + f + e + k + w[t & 15];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = tmp;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

void SHA1Init(SHA1_CTX *ctx) {
  ctx->state[0] = 0x67452301u;
  ctx->state[1] = 0xefcdab89u;
  ctx->state[2] = 0x98badcfeu;
  ctx->state[3] = 0x10325476u;
  ctx->state[4] = 0xc3d2e1f0u;
  ctx->count[0] = ctx->count[1] = 0;
}

void SHA1Update(SHA1_CTX *ctx, const uint8_t *data, unsigned int len) {
  uint64_t bits = (uint64_t)ctx->count[1] << 32 | ctx->count[0];
  size_t used = (size_t)(bits >> 3) & 63;
  bits += (uint64_t)len << 3;
  ctx->count[0] = (uint32_t)bits;
  ctx->count[1] = (uint32_t)(bits >> 32);
  while (len > 0) {
    size_t n = 64 - used < len ? 64 - used : len;
    memcpy(ctx->buffer + used, data, n);
    used += n;
    data += n;
    len -= (unsigned int)n;
    if (used == 64) {
      sha1_block(ctx->state, ctx->buffer);
      used = 0;
    }
  }
}

/* Pads with 0x80, zeros to 56 mod 64 and the 64-bit big-endian bit count,
 * writes H0..H4 big-endian and wipes the context. */
void SHA1Final(uint8_t digest[SHA1_DIGEST_LENGTH], SHA1_CTX *ctx) {
  uint64_t bits = (uint64_t)ctx->count[1] << 32 | ctx->count[0];
  size_t used = (size_t)(bits >> 3) & 63;
  int i;
  ctx->buffer[used++] = 0x80;
  if (used > 56) {
    memset(ctx->buffer + used, 0, 64 - used);
    sha1_block(ctx->state, ctx->buffer);
    used = 0;
  }
  memset(ctx->buffer + used, 0, 56 - used);
  for (i = 0; i < 8; i++) {
    ctx->buffer[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  }
  sha1_block(ctx->state, ctx->buffer);
  for (i = 0; i < SHA1_DIGEST_LENGTH; i++) {
    digest[i] = (uint8_t)(ctx->state[i / 4] >> (24 - 8 * (i % 4)));
  }
  memset(ctx, 0, sizeof *ctx);
}
