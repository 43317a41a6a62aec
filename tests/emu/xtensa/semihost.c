/* The C runtime's link to the outside world on QEMU's LX106 sim machine:
 * QEMU's Xtensa semihosting (`simcall` with the call number in a2 and the
 * arguments in a3..a5; enabled by -semihosting) gives write and exit.
 * picolibc's stdio writes through the FILE below; exit() ends in _exit().
 * emu_fault() is called by the vectors of start.S on any exception. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SIMCALL_EXIT 1
#define SIMCALL_WRITE 4

static int simcall(int nr, int a, int b, int c) {
  register int a2 __asm__("a2") = nr;
  register int a3 __asm__("a3") = a;
  register int a4 __asm__("a4") = b;
  register int a5 __asm__("a5") = c;
  __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
  return a2;
}

static void host_write(int fd, const char *p, size_t n) {
  while (n > 0) {
    int w = simcall(SIMCALL_WRITE, fd, (int)(intptr_t)p, (int)n);
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

/* Line-buffered console: one simcall per line instead of per character. */
static char line[128];
static size_t line_len;

static int console_flush(FILE *f) {
  (void)f;
  host_write(1, line, line_len);
  line_len = 0;
  return 0;
}

static int console_put(char c, FILE *f) {
  line[line_len++] = c;
  if (c == '\n' || line_len == sizeof line) console_flush(f);
  return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(console_put, NULL, console_flush, _FDEV_SETUP_WRITE);
FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;

/* exit() ends here: flush what is left of a line, then stop QEMU. */
void _exit(int status) {
  console_flush(&console);
  for (;;) simcall(SIMCALL_EXIT, status, 0, 0);
}

static void put_hex(const char *label, uint32_t v) {
  char buf[24];
  size_t n = 0;
  while (*label) buf[n++] = *label++;
  for (int i = 28; i >= 0; i -= 4) buf[n++] = "0123456789abcdef"[(v >> i) & 15];
  host_write(2, buf, n);
}

/* vector: 2 debug, 3 NMI, 4 kernel, 5 user, 6 double exception. */
void emu_fault(uint32_t vector, uint32_t cause, uint32_t pc) {
  host_write(2, "\nlx106 fault:", 13);
  put_hex(" vector=", vector);
  put_hex(" exccause=", cause);
  put_hex(" pc=", pc);
  host_write(2, "\n", 1);
  _exit(128 + (int)(cause & 63));
}
