/* cg_bench's workloads on the ESP8266's LX106 core, counted with the CCOUNT
 * special register instead of callgrind.
 *
 * Built once per workload (-DCG_WORKLOAD="send_16B" etc.: the bare-metal
 * program has no command line) with xtensa-lx106-elf-gcc and the Xtensa
 * archive, linked with the start-up code of tests/emu/xtensa, and run under
 * `qemu-system-xtensa -M sim -cpu lx106 -icount shift=0`. With -icount QEMU's
 * virtual clock advances by a fixed amount per executed guest instruction,
 * and the emulated CCOUNT follows that clock at the core's configured
 * frequency, so CCOUNT differences are proportional to instruction counts.
 * The factor is measured first on a loop whose instruction count is known
 * (two instructions per turn), so no assumption about QEMU's clock is
 * built in.
 *
 * Prints cg_bench's own "messages=<n> bytes=<n> ..." line, then
 * "region_ccount=<c> calib_ccount=<c> calib_instructions=<n>";
 * tools/callgrind/run-lx106.sh turns them into instructions per message. */
#include <stdint.h>

static inline uint32_t ccount(void) {
  uint32_t c;
  __asm__ volatile("rsr %0, ccount" : "=a"(c));
  return c;
}

static uint32_t region_start, region_ccount;
#define CG_REGION_BEGIN() (region_start = ccount())
#define CG_REGION_END() (region_ccount = ccount() - region_start)

#define main cg_bench_main
#include "cg_bench.c"
#undef main

#ifndef CG_WORKLOAD
#error "build with -DCG_WORKLOAD=\"<workload name>\""
#endif

#define CALIB_TURNS 5000000u

/* CCOUNT ticks for 2 * turns + 1 instructions: the loop body (addi, bnez)
 * and the second rsr. */
static uint32_t calibrate(uint32_t turns) {
  uint32_t t0, t1;
  __asm__ volatile(
      "rsr %0, ccount\n"
      "1: addi %2, %2, -1\n"
      "bnez %2, 1b\n"
      "rsr %1, ccount\n"
      : "=&a"(t0), "=&a"(t1), "+a"(turns));
  return t1 - t0;
}

int main(void) {
  char prog[] = "cg_bench", work[] = CG_WORKLOAD;
  char *argv[] = {prog, work, NULL};
  uint32_t calib = calibrate(CALIB_TURNS);
  int rc = cg_bench_main(2, argv);
  printf("region_ccount=%lu calib_ccount=%lu calib_instructions=%lu\n",
         (unsigned long)region_ccount, (unsigned long)calib,
         (unsigned long)(2u * CALIB_TURNS + 1u));
  return rc;
}
