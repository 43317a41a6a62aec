/* What tools/callgrind/cg_bench.c (our client) and tools/oldclient/cg_old.c
 * (the firmware's old C client) share: SHA-1 and base64 for the server's
 * Sec-WebSocket-Accept, and the server streams of the receive workloads,
 * byte for byte the same for both clients.
 *   recv_16B_x100k     100 000 text messages of 16 bytes
 *   recv_16B_x100k_framed  the same bytes, one frame per TCP segment (the old
 *                      client mishandles segments holding the end of one
 *                      frame and further frames: see tools/oldclient/cg_old.c)
 *   recv_65531B        one binary message of 65 531 bytes (the old client's
 *                      largest: its frame must fit an unsigned short)
 *   recv_64KiB         one binary message of 65 536 bytes
 *   recv_64KiB_16frag  the same in 16 fragments of 4 KiB
 * Include once per program (static functions). */
#ifndef CG_WORKLOADS_H
#define CG_WORKLOADS_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- SHA-1 and base64 ---------------- */
/* SHA-1 from the fake SDK's ROM routines (nodemcu-glue/host/fake/rom.c,
 * linked into every program that includes this file). */
#include "rom.h"

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20]) {
  SHA1_CTX c;
  SHA1Init(&c);
  SHA1Update(&c, msg, (unsigned int)len);
  SHA1Final(out, &c);
}

static void base64(const uint8_t *in, size_t len, char *out) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < len) v |= in[i + 2];
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? tab[v & 63] : '=';
  }
  out[o] = '\0';
}

/* ---------------- workloads (same bytes as bench/src/workloads.rs shapes) ---------------- */
static size_t put_header(uint8_t *p, int fin, int op, size_t len) {
  size_t n = 0;
  p[n++] = (uint8_t)((fin ? 0x80 : 0) | op);
  if (len < 126) {
    p[n++] = (uint8_t)len;
  } else if (len <= 0xFFFF) {
    p[n++] = 126;
    p[n++] = (uint8_t)(len >> 8);
    p[n++] = (uint8_t)len;
  } else {
    p[n++] = 127;
    for (int i = 7; i >= 0; i--) p[n++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  return n;
}

static uint8_t next_byte(void) {
  static uint64_t lcg = 42;
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (uint8_t)(lcg >> 56);
}

/* Bytes per TCP segment handed to the client for a workload. */
static size_t segment_of(const char *name, size_t dflt) {
  return strcmp(name, "recv_16B_x100k_framed") == 0 ? 18 : dflt;
}

static uint8_t *build(const char *name, size_t *len, unsigned long long *msgs,
                      unsigned long long *bytes) {
  uint8_t *s;
  size_t n = 0;
  if (strcmp(name, "recv_16B_x100k") == 0 || strcmp(name, "recv_16B_x100k_framed") == 0) {
    s = malloc(100000u * 18u);
    if (!s) return NULL;
    for (int m = 0; m < 100000; m++) {
      n += put_header(s + n, 1, 1, 16);
      for (int i = 0; i < 16; i++) s[n++] = (uint8_t)('a' + (m + i) % 26);
    }
    *msgs = 100000;
    *bytes = 1600000;
  } else if (strcmp(name, "recv_65531B") == 0) {
    /* The largest message the old C client can take (its frame, 4-byte
     * header included, must fit its unsigned short length): the workload of
     * issue 12's comparison, run on both clients. */
    s = malloc(4 + 65531);
    if (!s) return NULL;
    n += put_header(s, 1, 2, 65531);
    for (size_t i = 0; i < 65531; i++) s[n++] = next_byte();
    *msgs = 1;
    *bytes = 65531;
  } else if (strcmp(name, "recv_64KiB") == 0 || strcmp(name, "recv_64KiB_16frag") == 0) {
    int frags = strcmp(name, "recv_64KiB") == 0 ? 1 : 16;
    size_t step = 65536 / (size_t)frags;
    s = malloc(65536 + 16 * 14);
    if (!s) return NULL;
    for (int f = 0; f < frags; f++) {
      n += put_header(s + n, f == frags - 1, f == 0 ? 2 : 0, step);
      for (size_t i = 0; i < step; i++) s[n++] = next_byte();
    }
    *msgs = 1;
    *bytes = 65536;
  } else {
    return NULL;
  }
  *len = n;
  return s;
}

#endif
