# mk/emu.mk — the core C test on emulated 32-bit CPUs, and LX106 instruction counts.
#   make emu-test     (part of `make test`) tests/c/test_core.c, linked with the
#                     library built for each CPU, on
#                       Cortex-M4  thumbv7em archive, qemu-system-arm -M mps2-an386,
#                                  picolibc with semihosting
#                       RV32IMC    riscv32imc archive, qemu-system-riscv32 -M virt -bios none,
#                                  picolibc (rv32im) with semihosting
#                       LX106      $(XTENSA_ARCHIVE) (mk/xtensa.mk), qemu-system-xtensa
#                                  -M sim -cpu lx106, start-up code, vectors, linker
#                                  script, simcall console and the integer helpers of
#                                  tests/emu/xtensa (plus a check of those helpers)
#                     one line per run with its "N passed, N failed"; fails on any
#                     failure, fault or timeout (tests/emu/run.sh, README there)
#   make bench-lx106  (not in `make test`) tools/callgrind/cg_bench.c's workloads
#                     on the LX106 under -icount shift=0: instructions per message
#                     from CCOUNT, beside the host callgrind counts when
#                     $(BENCH_DIR)/callgrind holds them (tools/callgrind/run-lx106.sh)
# EMU_XTENSA_LIB overrides the LX106 archive (default $(XTENSA_ARCHIVE)).

EMU_DIR := $(BUILD)/emu
EMU_ARM_LIB := $(EMU_DIR)/cross/thumbv7em-none-eabi/libwebsocket.a
EMU_RV_LIB := $(EMU_DIR)/cross/riscv32imc-unknown-none-elf/libwebsocket.a
EMU_XTENSA_LIB ?= $(XTENSA_ARCHIVE)
EMU_TEST_SRC := tests/c/test_core.c tests/c/lua_ws_info.h include/websocketclient.h
EMU_CFLAGS := -std=c99 -O1 -g -Wall -Wextra -Werror -Iinclude

EMU_ARM_CC := arm-none-eabi-gcc --specs=picolibc.specs --oslib=semihost --crt0=semihost \
  -mcpu=cortex-m4 -mthumb
# mps2-an386: 4 MiB SSRAM for code at 0, 4 MiB SRAM at 0x20000000
EMU_ARM_LDFLAGS := -Wl,--defsym=__flash=0x0,--defsym=__flash_size=0x400000 \
  -Wl,--defsym=__ram=0x20000000,--defsym=__ram_size=0x400000,--defsym=__stack_size=0x10000 \
  -Wl,-z,noexecstack

EMU_RV_CC := riscv64-unknown-elf-gcc --specs=picolibc.specs --oslib=semihost --crt0=semihost \
  -march=rv32imc -mabi=ilp32
# virt: RAM at 0x80000000 (qemu -m 64M), loaded there directly with -bios none
EMU_RV_LDFLAGS := -Wl,--defsym=__flash=0x80000000,--defsym=__flash_size=0x200000 \
  -Wl,--defsym=__ram=0x80200000,--defsym=__ram_size=0x1000000,--defsym=__stack_size=0x10000

LX106_DIR := tests/emu/xtensa
LX106_SPECS ?= /usr/lib/xtensa-lx106-elf/picolibc.specs
LX106_CC := xtensa-lx106-elf-gcc --specs=$(LX106_SPECS) -nostartfiles -T $(LX106_DIR)/lx106.ld -mlongcalls
LX106_RT := $(LX106_DIR)/start.S $(LX106_DIR)/semihost.c $(LX106_DIR)/lx106_libgcc.c
LX106_LDFLAGS := -Wl,--gc-sections,-z,noexecstack,--no-warn-rwx-segments

DEPS_APT += qemu-system-arm qemu-system-misc gcc-arm-none-eabi binutils-arm-none-eabi \
  picolibc-arm-none-eabi gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
  picolibc-riscv64-unknown-elf gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf
DEPS_RUSTUP += thumbv7em-none-eabi riscv32imc-unknown-none-elf

.PHONY: emu-test bench-lx106
TEST_TARGETS += emu-test

# The archives of `make cross` (tools/cross-build.sh), copied under $(EMU_DIR):
# cross-check rewrites $(BUILD)/cross/thumbv7em-none-eabi on every run, and
# under make -j a link must not read an archive another recipe is copying.
$(EMU_ARM_LIB): $(CORE_SRCS)
	tools/cross-build.sh $(EMU_DIR) thumbv7em-none-eabi
$(EMU_RV_LIB): $(CORE_SRCS)
	tools/cross-build.sh $(EMU_DIR) riscv32imc-unknown-none-elf

$(EMU_DIR)/test_core-cortex-m4.elf: $(EMU_TEST_SRC) $(EMU_ARM_LIB)
	@mkdir -p $(@D)
	$(EMU_ARM_CC) $(EMU_CFLAGS) $< $(EMU_ARM_LIB) $(EMU_ARM_LDFLAGS) -o $@

$(EMU_DIR)/test_core-rv32imc.elf: $(EMU_TEST_SRC) $(EMU_RV_LIB)
	@mkdir -p $(@D)
	$(EMU_RV_CC) $(EMU_CFLAGS) $< $(EMU_RV_LIB) $(EMU_RV_LDFLAGS) -o $@

$(EMU_DIR)/test_core-lx106.elf: $(EMU_TEST_SRC) $(EMU_XTENSA_LIB) $(LX106_RT) $(LX106_DIR)/lx106.ld
	@mkdir -p $(@D)
	$(LX106_CC) $(EMU_CFLAGS) $(LX106_RT) $< $(EMU_XTENSA_LIB) $(LX106_LDFLAGS) -o $@

$(EMU_DIR)/helpers-lx106.elf: $(LX106_DIR)/helpers_test.c $(LX106_RT) $(LX106_DIR)/lx106.ld
	@mkdir -p $(@D)
	$(LX106_CC) $(EMU_CFLAGS) $(LX106_RT) $< $(LX106_LDFLAGS) -o $@

emu-test: $(EMU_DIR)/test_core-cortex-m4.elf $(EMU_DIR)/test_core-rv32imc.elf \
  $(EMU_DIR)/helpers-lx106.elf $(EMU_DIR)/test_core-lx106.elf
	tests/emu/run.sh cortex-m4:$(EMU_DIR)/test_core-cortex-m4.elf:test_core \
	  rv32imc:$(EMU_DIR)/test_core-rv32imc.elf:test_core \
	  lx106:$(EMU_DIR)/helpers-lx106.elf:integer-helpers \
	  lx106:$(EMU_DIR)/test_core-lx106.elf:test_core

# One program per workload: the bare-metal program has no command line.
CG_WORKLOADS := recv_16B_x100k recv_64KiB recv_64KiB_16frag send_16B send_1000B
CG_LX106_ELFS := $(CG_WORKLOADS:%=$(EMU_DIR)/cg_bench-lx106-%.elf)

$(EMU_DIR)/cg_bench-lx106-%.elf: tools/callgrind/lx106_bench.c tools/callgrind/cg_bench.c \
  tools/callgrind/workloads.h tools/callgrind/harness.h nodemcu-glue/host/fake/rom.c \
  include/websocketclient.h $(EMU_XTENSA_LIB) $(LX106_RT) $(LX106_DIR)/lx106.ld
	@mkdir -p $(@D)
	$(LX106_CC) -std=c99 -O2 -g -Wall -Wextra -Werror -Iinclude -Itools/callgrind -Inodemcu-glue/host/sdk \
	  '-DCG_WORKLOAD="$*"' $(LX106_RT) $< nodemcu-glue/host/fake/rom.c $(EMU_XTENSA_LIB) $(LX106_LDFLAGS) -o $@

bench-lx106: $(CG_LX106_ELFS)
	@echo "== LX106 (qemu-system-xtensa -cpu lx106 -icount shift=0, CCOUNT around run_workload) =="
	tools/callgrind/run-lx106.sh $(EMU_DIR) $(BENCH_DIR)/callgrind $(CG_WORKLOADS)
