# libwebsocket — top-level Makefile.
#   make        packages, library + header + host runtime, then the bundled example
#   make test   packages, then the whole test suite
#   make deps   only the package step (Debian packages, rustup targets and
#               toolchains, cargo tools), idempotent; `make` and `make test` run it
# Each concern lives in its own fragment under mk/ (see docs/DESIGN.md); a
# missing fragment is an error, never a silently smaller test suite.
.DEFAULT_GOAL := all
SHELL := /bin/bash
BUILD := build
ALL_TARGETS :=
TEST_TARGETS :=

include mk/deps.mk
include mk/core.mk
include mk/xtensa.mk
include mk/host.mk
include mk/tests.mk
include mk/conformance.mk
include mk/nodemcu.mk
include mk/firmware.mk
include mk/oldmodule.mk
include mk/emu.mk
include mk/layout.mk
include mk/fuzz.mk
include mk/bench.mk
include mk/oldclient.mk

.PHONY: all test clean
all: deps
	@$(MAKE) --no-print-directory $(ALL_TARGETS)

test: deps
	@$(MAKE) --no-print-directory $(TEST_TARGETS)
	@echo "make test: all suites passed"

clean:
	cargo clean
	rm -rf $(BUILD)
