# mk/layout.mk — the C edge: the header's memory layout against the Rust
# definitions, and the C code shown in the README.
#   make layout-test   tests/layout/run.sh: layout_check.c (_Static_assert on
#                      sizeof/_Alignof/offsetof, _Generic on every field,
#                      callback and function type) with host gcc, gcc -m32,
#                      arm-none-eabi, riscv32 and xtensa-lx106 gcc; then the
#                      bindgen crate tests/layout checked for x86_64, i686 and
#                      thumbv7em (every struct, field offset and type,
#                      typedef and function of include/websocketclient.h
#                      against the library's definition); then a self-test
#                      of 14 mutants that must each be caught (~2.5 min the
#                      first time for bindgen, ~15 s after)
#   make readme-check  tools/check-readme-code.sh: every ```c block of
#                      README.md compiles (gcc -std=c99 -Wall -Wextra
#                      -Werror; a block with main() is also linked with the
#                      library), after the checker's own self-test
LAYOUT_RUST_TARGETS := i686-unknown-linux-gnu thumbv7em-none-eabi

# libclang (loaded by bindgen at run time, with clang's own stddef.h and
# stdint.h); the C compilers of the ILP32 targets; picolibc's headers for
# the API header's <stdlib.h> on bare metal (bindgen for thumbv7em, gcc for
# riscv32); perl for the mutants.
DEPS_APT += libclang-dev gcc-multilib gcc-arm-none-eabi gcc-riscv64-unknown-elf \
  picolibc-riscv64-unknown-elf picolibc-arm-none-eabi gcc-xtensa-lx106 perl
DEPS_RUSTUP += $(LAYOUT_RUST_TARGETS)

.PHONY: layout-test readme-check
TEST_TARGETS += layout-test readme-check

layout-test:
	CARGO="$(CARGO)" tests/layout/run.sh $(BUILD)

readme-check: $(CORE_LIB)
	CC="$(CC)" tools/check-readme-code.sh --self-test --lib $(CORE_LIB) --out $(BUILD)/readme-check
	CC="$(CC)" tools/check-readme-code.sh --lib $(CORE_LIB) --out $(BUILD)/readme-check README.md
