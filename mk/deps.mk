# mk/deps.mk — the one package step. Every fragment lists what it needs:
#   DEPS_APT        Debian packages (binary names as `dpkg -s` knows them)
#   DEPS_RUSTUP     rustup targets for the stable toolchain
#   DEPS_TOOLCHAINS extra rustup toolchains (e.g. nightly)
#   DEPS_CARGO      cargo tools, as `crate:binary`
# `make deps` installs what is missing (tools/install-deps.sh), idempotently
# and without network access when nothing is missing; `make` and `make test`
# run it first. Python packages live in build/venv and are installed by the
# stamps of mk/tests.mk and mk/conformance.mk (project-local, not system-wide).
DEPS_APT := gcc make
DEPS_RUSTUP :=
DEPS_TOOLCHAINS :=
DEPS_CARGO :=

.PHONY: deps
deps:
	@tools/install-deps.sh --apt "$(sort $(DEPS_APT))" --rustup "$(sort $(DEPS_RUSTUP))" \
	  --toolchains "$(sort $(DEPS_TOOLCHAINS))" --cargo "$(sort $(DEPS_CARGO))"
