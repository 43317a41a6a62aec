# mk/core.mk — the Rust library, its generated header, core tests, cross builds.
#   make lib           build/libwebsocket.a (+ include/websocketclient.h via build.rs)
#   make header-check  the committed header equals what cbindgen generates, and
#                      compiles with gcc -std=c99 -Wall -Wextra -Werror -pedantic
#   make core-test     cargo unit/property tests, tests/c/test_core.c (plain and
#                      under valgrind), no-core::fmt check of the archive
#   make cross         thumbv7em-none-eabi + riscv32imc-unknown-none-elf archives
#                      and the ESP8266 (Xtensa LX106) archive through Debian's
#                      llvm-22 (mk/xtensa.mk, docs/xtensa.md); no-fmt check and
#                      .text size of each. With the esp Rust toolchain (espup):
#                      make cross XTENSA_TARGET=xtensa-esp8266-none-elf XTENSA_TOOLCHAIN=esp
#                      takes that route for the Xtensa archive instead
#   make cross-check   the no-fmt check on the thumbv7em build only (fast)
#
# The staticlib is built with `cargo rustc --crate-type staticlib` so that LTO
# applies (with crate-type = [staticlib, rlib] cargo skips it and the archive
# would carry all of libcore).

CARGO ?= cargo
CORE_LIB := $(BUILD)/libwebsocket.a
CORE_SRCS := $(shell find src -name '*.rs') Cargo.toml Cargo.lock build.rs cbindgen.toml
CORE_CFLAGS := -std=c99 -Wall -Wextra -Werror -O1 -g
CROSS_TARGETS := thumbv7em-none-eabi riscv32imc-unknown-none-elf
XTENSA_TARGET ?=
XTENSA_TOOLCHAIN ?= esp
VALGRIND ?= valgrind

DEPS_APT += valgrind
DEPS_RUSTUP += $(CROSS_TARGETS)

.PHONY: doc-check lib header-check core-test core-cargo-test core-c-test cross cross-check
ALL_TARGETS += lib
TEST_TARGETS += header-check core-test doc-check cross-check

lib: $(CORE_LIB)

$(CORE_LIB): $(CORE_SRCS)
	$(CARGO) rustc --release --lib --crate-type staticlib
	@mkdir -p $(@D)
	cp target/release/libwebsocket.a $@

include/websocketclient.h: $(CORE_LIB)

header-check:
	@mkdir -p $(BUILD)
	WS_HEADER_OUT=$(abspath $(BUILD))/websocketclient.gen.h $(CARGO) check --lib -q
	@if ! cmp -s $(BUILD)/websocketclient.gen.h include/websocketclient.h; then \
	  echo "header-check: include/websocketclient.h differs from the cbindgen output:"; \
	  diff -u include/websocketclient.h $(BUILD)/websocketclient.gen.h | head -40; exit 1; fi
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && \
	   git cat-file -e HEAD:include/websocketclient.h 2>/dev/null; then \
	  git show HEAD:include/websocketclient.h | cmp -s - $(BUILD)/websocketclient.gen.h || { \
	    echo "header-check: the committed include/websocketclient.h is out of date"; exit 1; }; fi
	printf '#include "websocketclient.h"\nint main(void) { ws_info w; struct ws_info *p = &w; (void)p; return 0; }\n' \
	  > $(BUILD)/header_c99.c
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c $(BUILD)/header_c99.c -o $(BUILD)/header_c99.o
	@echo "header-check: OK"

core-test: core-cargo-test core-c-test
	tools/check-no-fmt.sh $(CORE_LIB)

core-cargo-test:
	$(CARGO) test --features std --lib -q

$(BUILD)/test_core: tests/c/test_core.c tests/c/lua_ws_info.h include/websocketclient.h $(CORE_LIB)
	$(CC) $(CORE_CFLAGS) -Iinclude $< $(CORE_LIB) -o $@

core-c-test: $(BUILD)/test_core
	$(BUILD)/test_core
	$(VALGRIND) -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all $(BUILD)/test_core

cross:
	@for t in $(CROSS_TARGETS); do tools/cross-build.sh $(BUILD) $$t || exit 1; done
ifeq ($(XTENSA_TARGET),)
	@$(MAKE) --no-print-directory xtensa
	tools/check-no-fmt.sh $(XTENSA_ARCHIVE)
	tools/text-size.sh $(XTENSA_ARCHIVE)
else
	tools/cross-build.sh $(BUILD) $(XTENSA_TARGET) $(CARGO) +$(XTENSA_TOOLCHAIN)
endif

cross-check:
	tools/cross-build.sh $(BUILD) thumbv7em-none-eabi

# The Rust API documentation builds without a warning (broken links etc.).
doc-check:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --features std -q
	@echo "doc-check: OK (target/doc/websocket/index.html)"
