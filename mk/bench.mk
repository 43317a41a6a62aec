# mk/bench.mk — benchmarks and footprint (not part of `make` or `make test`).
#   make bench       criterion: libwebsocket vs tungstenite vs embedded-websocket
#                    (receive 100k x 16 B, 64 KiB, 64 KiB in 16 fragments; send
#                    16 B / 1000 B; mask_into vs copy), medians table; heap
#                    figures + checks (counting allocator); callgrind
#                    instructions per message against build/libwebsocket.a, then
#                    the same workloads on the emulated LX106 (bench-lx106, mk/emu.mk)
#   make bench-heap  only the heap figures and checks
#   make bench-callgrind  only the callgrind counts
#   make bench-flash whole-feature flash (library + port + Lua module), as in
#                    `make size`; with NODEMCU=<tree> the old client beside it
#   make bench-oldclient  (mk/oldclient.mk) with NODEMCU=<tree>: the old C
#                    client's instructions per message and both modules' heap
#                    per idle connection on a 32-bit runner, beside ours
#   make size        minimal images for thumbv7em-none-eabi and
#                    riscv32imc-unknown-none-elf linked with --gc-sections
#                    against the release archive of each target: one
#                    `size <target> text= rodata= data= bss=` line each (mem*
#                    from the platform C library, as in a firmware link), the
#                    compiler_builtins-mem* variant, the library's own share
#                    (image minus a stubs-only baseline), the costliest
#                    symbols and modules, and the 12 KiB budget check; then
#                    the whole feature (library + port + Lua module, every
#                    entry point the glue uses) on thumbv7em and xtensa-lx106
#                    with its 12 KiB budget (printed: OVER does not fail),
#                    the old C client + old module beside it when NODEMCU=<tree>
#                    is given (mk/oldclient.mk), and the byte/half-word loads
#                    from .rodata in the LX106 archive's per-byte loops
#                    (tools/size/feature.sh, feature-report.sh, rodata-loads.py)

BENCH_DIR := $(BUILD)/bench
BENCH_CARGO := CARGO_TARGET_DIR=$(abspath $(BENCH_DIR))/target $(CARGO) --quiet
BENCH_MANIFEST := --manifest-path bench/Cargo.toml
SIZE_TARGETS := thumbv7em-none-eabi riscv32imc-unknown-none-elf
CG_BIN := $(BENCH_DIR)/cg_bench
HEAP32_TARGET := i686-unknown-linux-gnu
HEAP32_BIN := $(BENCH_DIR)/cg_heap32

.PHONY: bench bench-criterion bench-heap bench-heap32 bench-callgrind bench-flash size size-tools

# Packages (make deps): valgrind for callgrind; gcc-multilib and the i686
# Rust target for the heap figures at the device's pointer width.
DEPS_APT += valgrind gcc-multilib
DEPS_RUSTUP += $(HEAP32_TARGET)

size-tools:
	@for c in clang llvm-nm xtensa-lx106-elf-gcc xtensa-lx106-elf-ld xtensa-lx106-elf-objdump arm-none-eabi-gcc arm-none-eabi-ld; do command -v $$c >/dev/null 2>&1 || { \
	  echo "size: $$c is missing (make deps installs it)"; exit 1; }; done
	@for t in $(SIZE_TARGETS); do rustup target list --installed | grep -qx $$t || { \
	  echo "size: rustup target $$t is missing (make deps installs it)"; exit 1; }; done

# Every part runs even when an earlier one fails; the exit status says whether all passed.
bench:
	@st=0; for part in bench-criterion bench-heap bench-heap32 bench-callgrind bench-lx106 bench-flash bench-oldclient; do \
	  $(MAKE) --no-print-directory $$part || { echo "bench: $$part FAILED"; st=1; }; done; exit $$st

bench-criterion:
	@rm -rf $(BENCH_DIR)/criterion && mkdir -p $(BENCH_DIR)/criterion
	CRITERION_HOME=$(abspath $(BENCH_DIR))/criterion $(BENCH_CARGO) bench $(BENCH_MANIFEST) \
	  --bench throughput -- --noplot
	@echo "== criterion medians =="
	$(BENCH_CARGO) run --release $(BENCH_MANIFEST) --bin summary -- $(BENCH_DIR)/criterion

bench-heap:
	@echo "== heap (counting allocator) =="
	$(BENCH_CARGO) run --release $(BENCH_MANIFEST) --bin heap

bench-heap32: | $(BENCH_DIR)
	$(CARGO) rustc -q --release --lib --crate-type staticlib --target $(HEAP32_TARGET)
	$(CC) -m32 -std=c99 -O2 -Wall -Wextra -Werror -DCOUNT_HEAP -Iinclude -Inodemcu-glue/host/sdk \
	  tools/callgrind/cg_bench.c nodemcu-glue/host/fake/rom.c target/$(HEAP32_TARGET)/release/libwebsocket.a -Wl,--wrap=malloc,--wrap=realloc,--wrap=free \
	  -o $(HEAP32_BIN)
	@echo "== heap on 32-bit ($(HEAP32_TARGET), release archive) =="
	tools/callgrind/heap32.sh $(HEAP32_BIN)

$(BENCH_DIR):
	@mkdir -p $@

$(CG_BIN): tools/callgrind/cg_bench.c tools/callgrind/harness.h tools/callgrind/workloads.h \
  nodemcu-glue/host/fake/rom.c include/websocketclient.h $(BUILD)/libwebsocket.a
	@mkdir -p $(@D)
	$(CC) -std=c99 -O2 -g -Wall -Wextra -Werror -Iinclude -Inodemcu-glue/host/sdk $< \
	  nodemcu-glue/host/fake/rom.c $(BUILD)/libwebsocket.a -o $@

bench-callgrind: $(CG_BIN)
	@echo "== callgrind (release archive, instructions in run_workload) =="
	tools/callgrind/run.sh $(CG_BIN) $(BENCH_DIR)/callgrind

# The whole-feature flash lines of `make size` alone (old client beside it
# with NODEMCU=), for the old-client column of `make bench`.
bench-flash: size-tools $(HOST_LUA_STAMP) $(if $(NODEMCU),oldclient-src)
	@$(CARGO) rustc -q --release --lib --crate-type staticlib --target thumbv7em-none-eabi
	@mkdir -p $(BUILD)/size/thumbv7em-none-eabi && cp target/thumbv7em-none-eabi/release/libwebsocket.a \
	  $(BUILD)/size/thumbv7em-none-eabi/
	@$(MAKE) --no-print-directory -s xtensa >/dev/null
	@echo "== flash of the whole feature: library + port + Lua module (old client + old module with NODEMCU=) =="
	@tools/size/feature-report.sh $(BUILD)/size/feature $(BUILD)/size/thumbv7em-none-eabi/libwebsocket.a \
	  $(XTENSA_ARCHIVE) $(if $(NODEMCU),$(OLDCLIENT_SRC))

size: size-tools $(HOST_LUA_STAMP) $(if $(NODEMCU),oldclient-src)
	@for t in $(SIZE_TARGETS); do \
	  $(CARGO) rustc -q --release --lib --crate-type staticlib --target $$t || exit 1; \
	  mkdir -p $(BUILD)/size/$$t && cp target/$$t/release/libwebsocket.a $(BUILD)/size/$$t/; \
	done
	@for t in $(SIZE_TARGETS); do \
	  tools/size/build.sh $$t $(BUILD)/size/$$t/libwebsocket.a $(BUILD)/size/$$t || exit 1; done
	@$(MAKE) --no-print-directory -s xtensa >/dev/null
	@tools/size/build.sh xtensa-lx106 $(XTENSA_ARCHIVE) $(BUILD)/size/xtensa-lx106
	@for t in $(SIZE_TARGETS) xtensa-lx106; do cat $(BUILD)/size/$$t/bloat.txt; done
	@n=$$(sed -n 's/^library thumbv7em-none-eabi: text+rodata=\([0-9]*\) .*/\1/p' \
	  $(BUILD)/size/thumbv7em-none-eabi/library.txt); \
	  if [ "$$n" -lt 12288 ]; then v=OK; else v=OVER; fi; \
	  echo "size budget thumbv7em-none-eabi: library (every entry point of the header) text+rodata=$$n B, target < 12288: $$v"
	@echo "== whole feature: library + port + Lua module (old client + old module beside it with NODEMCU=) =="
	@tools/size/feature-report.sh $(BUILD)/size/feature $(BUILD)/size/thumbv7em-none-eabi/libwebsocket.a \
	  $(XTENSA_ARCHIVE) $(if $(NODEMCU),$(OLDCLIENT_SRC))
	@echo "== byte/half-word loads from .rodata (flash on the ESP8266) in per-byte loops =="
	@tools/size/rodata-loads-test.sh $(BUILD)/size/rodata-test
	@python3 tools/size/rodata-loads.py $(XTENSA_ARCHIVE) "xtensa-lx106 library"
	@$(if $(NODEMCU),python3 tools/size/rodata-loads.py $(BUILD)/size/feature/xtensa-lx106-old/client.o \
	  "xtensa-lx106 old client (for comparison)",echo "rodata-loads old client: skipped (NODEMCU not set)")
