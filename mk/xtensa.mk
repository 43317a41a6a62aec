# mk/xtensa.mk — the library for the ESP8266's Xtensa LX106 core, from
# registry packages only (stable rustc, Debian llvm-22, binutils-xtensa-lx106).
#   make xtensa        $(XTENSA_ARCHIVE): whole-program IR for a 32-bit proxy
#                      target, retargeted to xtensa, llc-22 -mcpu=esp8266, GNU
#                      as; refuses (fails) whenever that could give a wrong
#                      archive (tools/xtensa/build.sh, docs/xtensa.md)
#   make xtensa-check  (part of `make test`) the C boundary of the archive
#                      against include/websocketclient.h: prototypes, callback
#                      signatures, struct layout, sub-word extension, ELF
#                      machine, undefined symbols (tools/xtensa/abi_check.py);
#                      then each refusal of the build is provoked once
#                      (tools/xtensa/refusal-test.sh)
# `make cross` builds it too. Other fragments depend on $(XTENSA_ARCHIVE).
XTENSA_DIR := $(BUILD)/cross/xtensa-lx106
XTENSA_ARCHIVE := $(XTENSA_DIR)/libwebsocket.a
XTENSA_PROXY := riscv32imc-unknown-none-elf
XTENSA_SCRIPTS := $(addprefix tools/xtensa/,build.sh retarget.py layout-check.sh place-literals.py \
  direct-calls.py allowed-undefined.txt)

DEPS_APT += llvm-22 binutils-xtensa-lx106 gcc-xtensa-lx106 gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf \
  binutils-riscv64-unknown-elf python3
# `make size` (mk/bench.mk, tools/size): clang and llvm-nm for the thumbv7em and
# riscv32 images, picolibc's mem*/strlen for the xtensa-lx106 one.
DEPS_APT += clang llvm picolibc-xtensa-lx106-elf
DEPS_RUSTUP += $(XTENSA_PROXY)

.PHONY: xtensa xtensa-check
TEST_TARGETS += xtensa-check

xtensa: $(XTENSA_ARCHIVE)

$(XTENSA_ARCHIVE): $(shell find src -name "*.rs") Cargo.toml Cargo.lock build.rs $(XTENSA_SCRIPTS)
	PROXY_TARGET=$(XTENSA_PROXY) tools/xtensa/build.sh $@

xtensa-check: $(XTENSA_ARCHIVE)
	python3 tools/xtensa/abi_check.py $(XTENSA_DIR) include/websocketclient.h tools/xtensa/allowed-undefined.txt
	tools/xtensa/refusal-test.sh $(XTENSA_DIR)
