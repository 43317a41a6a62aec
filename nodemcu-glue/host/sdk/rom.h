/* Host stand-in for the firmware's rom.h (NodeMCU's app/include): routines
 * the ESP8266 has in its mask ROM, as far as the fake SDK provides them (in
 * fake/rom.c): SHA-1 with a NetBSD-style context. The firmware's osapi.h
 * includes its rom.h, and so does the fake osapi.h. */
#ifndef FAKE_SDK_ROM_H
#define FAKE_SDK_ROM_H

#include <stdint.h>

#define SHA1_DIGEST_LENGTH 20

typedef struct {
  uint32_t state[5];  /* the hash words H0..H4 */
  uint32_t count[2];  /* message length so far in bits: [0] low, [1] high word */
  uint8_t buffer[64]; /* the block being filled */
} SHA1_CTX;

void SHA1Init(SHA1_CTX *ctx);
void SHA1Update(SHA1_CTX *ctx, const uint8_t *data, unsigned int len);
void SHA1Final(uint8_t digest[SHA1_DIGEST_LENGTH], SHA1_CTX *ctx);

#endif
