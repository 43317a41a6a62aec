# mk/bench.mk — benchmarks and footprint (not part of `make` or `make test`).
#   make bench       criterion: libwebsocket vs tungstenite vs embedded-websocket
#                    (receive 100k x 16 B, 64 KiB, 64 KiB in 16 fragments; send
#                    16 B / 1000 B; mask_into vs copy), medians table; heap
#                    figures + checks (counting allocator); callgrind
#                    instructions per message against build/libwebsocket.a
#   make bench-heap  only the heap figures and checks
#   make bench-callgrind  only the callgrind counts
#   make size        minimal images for thumbv7em-none-eabi and
#                    riscv32imc-unknown-none-elf linked with --gc-sections
#                    against the release archive of each target: one
#                    `size <target> text= rodata= data= bss=` line each, then
#                    the costliest symbols and modules

BENCH_DIR := $(BUILD)/bench
BENCH_CARGO := CARGO_TARGET_DIR=$(abspath $(BENCH_DIR))/target $(CARGO) --quiet
BENCH_MANIFEST := --manifest-path bench/Cargo.toml
SIZE_TARGETS := thumbv7em-none-eabi riscv32imc-unknown-none-elf
CG_BIN := $(BENCH_DIR)/cg_bench

.PHONY: bench bench-criterion bench-heap bench-callgrind size size-tools bench-tools

# valgrind for callgrind; clang for the bare-metal C of the size images
# (the linker is rustup's rust-lld).
bench-tools:
	@command -v valgrind >/dev/null 2>&1 || { apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null; }

size-tools:
	@{ command -v clang >/dev/null 2>&1 && command -v llvm-nm >/dev/null 2>&1; } || { \
	  apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang llvm >/dev/null; }
	@for t in $(SIZE_TARGETS); do \
	  rustup target list --installed | grep -qx $$t || rustup target add $$t; done

bench: bench-criterion bench-heap bench-callgrind

bench-criterion:
	@mkdir -p $(BENCH_DIR)/criterion
	CRITERION_HOME=$(abspath $(BENCH_DIR))/criterion $(BENCH_CARGO) bench $(BENCH_MANIFEST) \
	  --bench throughput -- --noplot
	@echo "== criterion medians =="
	$(BENCH_CARGO) run --release $(BENCH_MANIFEST) --bin summary -- $(BENCH_DIR)/criterion

bench-heap:
	@echo "== heap (counting allocator) =="
	$(BENCH_CARGO) run --release $(BENCH_MANIFEST) --bin heap

$(CG_BIN): tools/callgrind/cg_bench.c include/websocketclient.h $(BUILD)/libwebsocket.a
	@mkdir -p $(@D)
	$(CC) -std=c99 -O2 -g -Wall -Wextra -Werror -Iinclude $< $(BUILD)/libwebsocket.a -o $@

bench-callgrind: bench-tools $(CG_BIN)
	@echo "== callgrind (release archive, instructions in run_workload) =="
	tools/callgrind/run.sh $(CG_BIN) $(BENCH_DIR)/callgrind

size: size-tools
	@for t in $(SIZE_TARGETS); do \
	  $(CARGO) rustc -q --release --lib --crate-type staticlib --target $$t || exit 1; \
	  mkdir -p $(BUILD)/size/$$t && cp target/$$t/release/libwebsocket.a $(BUILD)/size/$$t/; \
	done
	@for t in $(SIZE_TARGETS); do \
	  tools/size/build.sh $$t $(BUILD)/size/$$t/libwebsocket.a $(BUILD)/size/$$t || exit 1; done
	@for t in $(SIZE_TARGETS); do cat $(BUILD)/size/$$t/bloat.txt; done
	@for v in image image_libcmem; do \
	  python3 tools/size/elfsize.py thumbv7em-none-eabi $(BUILD)/size/thumbv7em-none-eabi/$$v.elf \
	  | awk -v v=$$v '{ split($$3,t,"="); split($$4,r,"="); n=t[2]+r[2]; \
	      printf "size budget thumbv7em-none-eabi (%s): text+rodata=%d B, target < 12288: %s\n", \
	      v, n, (n < 12288 ? "OK" : "OVER") }'; done
