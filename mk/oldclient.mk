# mk/oldclient.mk — the firmware's OLD C WebSocket client measured beside ours
# (issue 12), only when NODEMCU=<nodemcu-firmware tree> is given:
#   make size NODEMCU=...    flash of the old client + old Lua module for
#                            thumbv7em and the LX106 (mk/bench.mk, tools/size)
#   make bench NODEMCU=...   bench-oldclient: callgrind instructions per
#                            message of the old client (tools/oldclient), and
#                            the idle-connection heap of both modules on a
#                            32-bit host runner
# The old files are copied from the tree into $(OLDCLIENT_SRC) at build time
# (tools/oldclient/fetch.sh) and compiled unchanged with host shims of our own
# (tools/oldclient/shim); they are never committed.
OLDCLIENT_DIR := $(BUILD)/oldclient
OLDCLIENT_SRC := $(OLDCLIENT_DIR)/src
DEPS_APT += gcc-arm-none-eabi binutils-arm-none-eabi picolibc-arm-none-eabi gcc-multilib valgrind

.PHONY: oldclient-src

oldclient-src:
	@test -n "$(NODEMCU)" || { echo "oldclient: NODEMCU is not set"; exit 2; }
	@tools/oldclient/fetch.sh $(NODEMCU) $(OLDCLIENT_DIR)
