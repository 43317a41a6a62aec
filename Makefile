# libwebsocket — top-level Makefile.
#   make        library + header + host runtime, then the bundled example
#   make test   the whole test suite
# Each concern lives in its own fragment under mk/ (see docs/DESIGN.md).
.DEFAULT_GOAL := all
SHELL := /bin/bash
BUILD := build
TEST_TARGETS :=

-include mk/core.mk
-include mk/host.mk
-include mk/tests.mk
-include mk/conformance.mk
-include mk/nodemcu.mk
-include mk/fuzz.mk
-include mk/bench.mk

.PHONY: all test clean
all: $(ALL_TARGETS)

test: $(TEST_TARGETS)
	@echo "make test: all suites passed"

clean:
	cargo clean
	rm -rf $(BUILD)
