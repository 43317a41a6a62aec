/* Integer helpers that GCC and LLVM call on the LX106 but that Debian's
 * xtensa-lx106 libgcc.a does not carry (on the ESP8266 they live in the mask
 * ROM). The core has a 32-bit MULL but no divide and no high multiply, so
 * everything here is built from shifts, adds and 32-bit multiplies only;
 * no '/' or '%' on 32-bit values and no 64-bit '*' (each would call the
 * very function being defined). 64-bit division uses libgcc's own
 * __udivmoddi4/__divmoddi4, which are present. */
#include <stdint.h>

typedef int64_t di;
typedef uint64_t udi;

uint32_t __udivsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
udi __muldi3(udi a, udi b);
udi __umulsidi3(uint32_t a, uint32_t b);
udi __udivdi3(udi n, udi d);
udi __umoddi3(udi n, udi d);
di __divdi3(di n, di d);
udi __udivmoddi4(udi n, udi d, udi *rem);
di __divmoddi4(di n, di d, di *rem);

/* Restoring division, one quotient bit per step; d == 0 gives all ones,
 * as the hardware-less ROM routine does not trap either. */
static uint32_t udivmod32(uint32_t n, uint32_t d, uint32_t *rem) {
  uint32_t q = 0, r = 0;
  if (d == 0) {
    if (rem) *rem = n;
    return 0xFFFFFFFFu;
  }
  for (int i = 31; i >= 0; i--) {
    r = (r << 1) | ((n >> i) & 1u);
    if (r >= d) {
      r -= d;
      q |= 1u << i;
    }
  }
  if (rem) *rem = r;
  return q;
}

/* Unsigned quotient and remainder of one width, both from its divmod core
 * (udivmod32 here, libgcc's __udivmoddi4 for 64 bits). */
#define UDIV_UMOD(T, udiv, umod, divmod)       \
  T udiv(T n, T d) { return divmod(n, d, 0); } \
  T umod(T n, T d) {                           \
    T r;                                       \
    divmod(n, d, &r);                          \
    return r;                                  \
  }

UDIV_UMOD(uint32_t, __udivsi3, __umodsi3, udivmod32)
UDIV_UMOD(udi, __udivdi3, __umoddi3, __udivmoddi4)

int32_t __divsi3(int32_t n, int32_t d) {
  uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
  uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
  uint32_t q = udivmod32(un, ud, 0);
  return (int32_t)((n < 0) != (d < 0) ? 0u - q : q);
}

/* 32x32 -> 64 from four 16x16 products (MULL gives only the low word);
 * libgcc's own 64-bit division calls it. */
udi __umulsidi3(uint32_t a, uint32_t b) {
  uint32_t al = a & 0xFFFFu, ah = a >> 16, bl = b & 0xFFFFu, bh = b >> 16;
  uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  uint32_t mid = (ll >> 16) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
  uint32_t lo = (ll & 0xFFFFu) | (mid << 16);
  uint32_t hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
  return ((udi)hi << 32) | lo;
}

udi __muldi3(udi a, udi b) {
  uint32_t alo = (uint32_t)a, ahi = (uint32_t)(a >> 32);
  uint32_t blo = (uint32_t)b, bhi = (uint32_t)(b >> 32);
  udi p = __umulsidi3(alo, blo);
  uint32_t hi = (uint32_t)(p >> 32) + alo * bhi + ahi * blo;
  return ((udi)hi << 32) | (uint32_t)p;
}

di __divdi3(di n, di d) {
  di r;
  return __divmoddi4(n, d, &r);
}
