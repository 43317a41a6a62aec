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

OLDCLIENT_CFLAGS := -std=gnu11 -O2 -g -funsigned-char -D_C_TYPES_H_ \
  -include tools/oldclient/shim/oldclient_sdk.h -Inodemcu-glue/host/sdk -Itools/oldclient/shim \
  -I$(OLDCLIENT_SRC) -Itools/callgrind
OLDCLIENT_CG := $(OLDCLIENT_DIR)/cg/cg_old

.PHONY: bench-oldclient

# The old client compiled as on the device (char is unsigned on the LX106),
# its own warnings silenced (it is not ours to fix).
$(OLDCLIENT_DIR)/cg/websocketclient.o: $(OLDCLIENT_SRC)/websocket/websocketclient.c tools/oldclient/shim/oldclient_sdk.h
	@mkdir -p $(@D)
	$(CC) $(OLDCLIENT_CFLAGS) -w -c $< -o $@

# The ROM's SHA-1 (SHA1Init/Update/Final) from the fake SDK's rom.c.
$(OLDCLIENT_CG): tools/oldclient/cg_old.c nodemcu-glue/host/fake/rom.c tools/callgrind/workloads.h \
  tools/callgrind/harness.h $(OLDCLIENT_DIR)/cg/websocketclient.o
	$(CC) $(OLDCLIENT_CFLAGS) -Wall -Wextra -Werror tools/oldclient/cg_old.c nodemcu-glue/host/fake/rom.c \
	  $(OLDCLIENT_DIR)/cg/websocketclient.o -o $@

OLDCLIENT_HEAP32 := $(OLDCLIENT_DIR)/heap32
OLDCLIENT_HEAP32_LIB := target/$(HEAP32_TARGET)/release/libwebsocket.a

# Part of `make bench`: without NODEMCU the old columns say so.
bench-oldclient: $(CG_BIN) $(HOST_LUA_STAMP) venv $(if $(NODEMCU),oldclient-src)
	@$(if $(NODEMCU),$(MAKE) --no-print-directory $(OLDCLIENT_CG))
	@echo "== old C client vs libwebsocket (callgrind, same workloads and harness shape) =="
	@mkdir -p $(OLDCLIENT_DIR)/cgout
	@tools/oldclient/cg-compare.sh $(CG_BIN) "$(if $(NODEMCU),$(OLDCLIENT_CG))" $(OLDCLIENT_DIR)/cgout
	@echo "== old module vs new module: heap per idle open connection on a 32-bit runner =="
	@$(CARGO) rustc -q --release --lib --crate-type staticlib --target $(HEAP32_TARGET)
	@rm -rf $(OLDCLIENT_HEAP32)/old $(OLDCLIENT_HEAP32)/new
	@tools/oldclient/heap32-build.sh $(OLDCLIENT_HEAP32) $(OLDCLIENT_HEAP32_LIB) $(if $(NODEMCU),$(OLDCLIENT_SRC))
	@tools/oldclient/heap32-run.sh $(TESTS_PY) $(OLDCLIENT_HEAP32) | tee $(OLDCLIENT_HEAP32)/result.txt
	@python3 tools/oldclient/issue12-table.py $(OLDCLIENT_DIR)/cgout $(OLDCLIENT_HEAP32)/result.txt $(BUILD)/size/feature
