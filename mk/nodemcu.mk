# mk/nodemcu.mk — install libwebsocket into a nodemcu-firmware checkout, and test that.
#   make nodemcu-install NODEMCU=<checkout> [WS_ARCHIVE=<archive>]
#     WS_ARCHIVE defaults to the Xtensa LX106 archive $(XTENSA_ARCHIVE)
#     (mk/xtensa.mk), built first; the installer refuses an archive whose ELF
#     machine is not Xtensa (tools/nodemcu-install.sh --force overrides).
#   make nodemcu-install-test   (part of `make test`; tools/nodemcu-install-test.sh)
#     on the fixture tree nodemcu-glue/firmware/test-fixture, and also on a
#     copy of NODEMCU when that is set.
NODEMCU ?=
XTENSA_ARCHIVE ?= $(BUILD)/cross/xtensa-lx106/libwebsocket.a
WS_ARCHIVE ?= $(XTENSA_ARCHIVE)
DEPS_APT += gcc make python3 gcc-xtensa-lx106 binutils-xtensa-lx106

.PHONY: nodemcu-install nodemcu-install-test
TEST_TARGETS += nodemcu-install-test

# Only the default (Xtensa) archive is built here; another WS_ARCHIVE must exist.
nodemcu-install: $(filter $(XTENSA_ARCHIVE),$(WS_ARCHIVE))
	@test -n "$(NODEMCU)" || { echo "usage: make nodemcu-install NODEMCU=<nodemcu-firmware checkout> [WS_ARCHIVE=<archive>]"; exit 2; }
	tools/nodemcu-install.sh --archive "$(WS_ARCHIVE)" "$(NODEMCU)"

nodemcu-install-test: $(BUILD)/libwebsocket.a
	tools/nodemcu-install-test.sh $(BUILD) $(BUILD)/libwebsocket.a $(NODEMCU)
