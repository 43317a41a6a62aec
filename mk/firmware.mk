# mk/firmware.mk — our module in a real nodemcu-firmware tree (issue 10).
#   make firmware-check NODEMCU=<nodemcu-firmware tree> [NODEMCU_SDK=<unpacked NonOS SDK>]
#     copies the tree into build/firmware-check, installs our module with the
#     Xtensa archive, builds app/ and links eagle.app.v6.out with the
#     firmware's own Makefiles and flags and Debian's xtensa-lx106 GCC, for
#     Lua 5.1 and LUA=53, once with the tree's original module and once with
#     ours, checks our image and prints the sections side by side
#     (tools/firmware/firmware-check.sh). Part of `make test`.
#   First, and also on a tree without the SDK: the Xtensa archive alone (all
#   exported ws_* kept) linked under the tree's ld/nodemcu.ld: everything in
#   .irom0.text, nothing in IRAM, its RAM share printed.
#   Without NODEMCU it only says that it was skipped; with a tree that lacks
#   the SDK or app/include/user_config.h it says what is missing and skips
#   the full build (FIRMWARE_CHECK_REQUIRE_SDK=1 makes that an error).
NODEMCU ?=
XTENSA_ARCHIVE ?= $(BUILD)/cross/xtensa-lx106/libwebsocket.a
DEPS_APT += make python3 gcc gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf

.PHONY: firmware-check
TEST_TARGETS += firmware-check

ifeq ($(strip $(NODEMCU)),)
firmware-check:
	@echo "firmware-check: skipped: NODEMCU is not set (make firmware-check NODEMCU=<nodemcu-firmware tree>)"
else
firmware-check: $(XTENSA_ARCHIVE)
	tools/firmware/firmware-check.sh "$(NODEMCU)" $(BUILD) $(XTENSA_ARCHIVE)
endif
