# mk/fuzz.mk — cargo-fuzz targets for the parsers and the engine (fuzz/).
#   make fuzz-quick                ~10 s per target (part of `make test`)
#   make fuzz-smoke                30 s per target
#   make fuzz-long FUZZ_SECONDS=N  N s per target (default 600)
#   make fuzz-corpus               regenerate the committed seeds (fuzz/make_corpus.py)
# Restrict to some targets with FUZZ_TARGETS="url engine".  Each run prints
# stat::number_of_executed_units, coverage and corpus size per target and fails
# if a target crashes; artifacts land in $(BUILD)/fuzz/artifacts/<target>/.
FUZZ_TARGETS ?= url utf8 handshake_request handshake_response frame_decoder engine
FUZZ_SECONDS ?= 600
FUZZ_PYTHON ?= python3

.PHONY: fuzz-build fuzz-lib-test fuzz-corpus fuzz-quick fuzz-smoke fuzz-long

# The nightly toolchain and cargo-fuzz come from the package step (make deps).
DEPS_TOOLCHAINS += nightly
DEPS_CARGO += cargo-fuzz:cargo-fuzz

fuzz-build:
	cd fuzz && cargo +nightly fuzz build --debug-assertions

# Unit tests of the reference decoders the targets compare against.
fuzz-lib-test:
	cd fuzz && cargo +nightly test --lib --quiet

fuzz-corpus:
	$(FUZZ_PYTHON) fuzz/make_corpus.py

fuzz-quick: fuzz-build fuzz-lib-test
	fuzz/run.sh 10 $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	fuzz/run.sh 30 $(FUZZ_TARGETS)

fuzz-long: fuzz-build
	fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

TEST_TARGETS += fuzz-quick
