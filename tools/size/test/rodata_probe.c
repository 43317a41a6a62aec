/* Probe for tools/size/rodata-loads.py (rodata-loads-test.sh): one function
 * that must be flagged (a byte table in .rodata read in a per-byte loop) and
 * three that must not (bytes read from the caller's buffer; a word table;
 * a byte table read once, outside any loop). */
#include <stdint.h>

static const uint8_t class_of[256] = {1, 2, 3, 4, 5, 6, 7, 8, [200] = 9, [255] = 10};
static const uint32_t weight_of[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

unsigned probe_decode_table(const uint8_t *p, unsigned n) {
  unsigned s = 0;
  for (unsigned i = 0; i < n; i++) s += class_of[p[i]];
  return s;
}

unsigned probe_decode_plain(const uint8_t *p, unsigned n) {
  unsigned s = 0;
  for (unsigned i = 0; i < n; i++) s += p[i] ^ 0x5a;
  return s;
}

unsigned probe_decode_words(const uint8_t *p, unsigned n) {
  unsigned s = 0;
  for (unsigned i = 0; i < n; i++) s += weight_of[p[i] & 15];
  return s;
}

unsigned probe_decode_once(unsigned c) { return class_of[c & 255]; }
