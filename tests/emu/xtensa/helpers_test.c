/* Checks the integer helpers of lx106_libgcc.c on the LX106 itself, against
 * results computed another way: division by q * d + r == n with r < d
 * (multiplying with the core's MULL, or for 64 bits with a shift-and-add
 * product that needs no helper of ours), multiplication against that
 * shift-and-add product. Prints "N passed, N failed" like test_core. */
#include <stdint.h>
#include <stdio.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* a * b mod 2^64 by shifts and adds only. */
static uint64_t slow_mul(uint64_t a, uint64_t b) {
  uint64_t p = 0;
  while (b) {
    if (b & 1) p += a;
    a <<= 1;
    b >>= 1;
  }
  return p;
}

/* volatile operands: keep GCC from folding the helper calls away */
static volatile uint32_t v32a, v32b;
static volatile uint64_t v64a, v64b;
static volatile int32_t s32a, s32b;
static volatile int64_t s64a, s64b;

int main(void) {
  unsigned passed = 0, failed = 0;
  for (int i = 0; i < 20000; i++) {
    uint64_t x = next(), y = next();
    int shift = (int)(next() & 31);
    v32a = (uint32_t)x;
    v32b = ((uint32_t)y >> shift) | 1u;
    uint32_t n = v32a, d = v32b, q = v32a / v32b, r = v32a % v32b;
    if (q * d + r == n && r < d) passed++; else failed++;

    s32a = (int32_t)x;
    s32b = (int32_t)(((uint32_t)y >> shift) | 1u) * ((x >> 40) & 1 ? -1 : 1);
    int32_t sq = s32a / s32b, sn = s32a, sd = s32b;
    int32_t sr = (int32_t)((uint32_t)sn - (uint32_t)sq * (uint32_t)sd);
    uint32_t asr = sr < 0 ? 0u - (uint32_t)sr : (uint32_t)sr;
    uint32_t asd = sd < 0 ? 0u - (uint32_t)sd : (uint32_t)sd;
    if (asr < asd && (sr == 0 || (sr < 0) == (sn < 0))) passed++; else failed++;

    v64a = x;
    v64b = (y >> (shift * 2)) | 1u;
    uint64_t prod = v64a * v64b;
    if (prod == slow_mul(x, (y >> (shift * 2)) | 1u)) passed++; else failed++;
    uint64_t q64 = v64a / v64b, r64 = v64a % v64b;
    if (slow_mul(q64, v64b) + r64 == x && r64 < v64b) passed++; else failed++;

    s64a = (int64_t)x;
    s64b = (int64_t)((y >> (shift * 2)) | 1u) * ((x >> 20) & 1 ? -1 : 1);
    int64_t sq64 = s64a / s64b, sd64 = s64b;
    uint64_t sr64 = (uint64_t)s64a - slow_mul((uint64_t)sq64, (uint64_t)sd64);
    uint64_t asr64 = (int64_t)sr64 < 0 ? 0u - sr64 : sr64;
    uint64_t asd64 = sd64 < 0 ? 0u - (uint64_t)sd64 : (uint64_t)sd64;
    if (asr64 < asd64 && (sr64 == 0 || ((int64_t)sr64 < 0) == ((int64_t)x < 0))) passed++; else failed++;
  }
  if (failed) fprintf(stderr, "lx106 integer helpers: %u wrong results\n", failed);
  printf("%u passed, %u failed\n", passed, failed);
  return failed != 0;
}
