# mk/oldmodule.mk — the firmware's ORIGINAL Lua module on our library.
#
#   make oldmodule-test NODEMCU=<nodemcu-firmware tree>
#
# Copies <tree>/app/modules/websocket.c (unchanged, never committed) to
# build/oldmodule/src/, compiles it for Lua 5.1 and 5.3 against
# include/websocketclient.h with the host shims of tests/oldmodule/shim/,
# links it with the host runner main, the glue port, the fake SDK and
# build/libwebsocket.a (objects from mk/host.mk), and runs the scenario set
# of tests/oldmodule/ (Lua scripts on both versions + the old-API C program)
# against real peers on 127.0.0.1; then the same on the ASan/UBSan build
# (OLDMODULE_ASAN=0 skips that part). See tests/oldmodule/README.md.
# With NODEMCU empty it prints one line saying it was skipped, and succeeds.
# Options: OLDMODULE_ARGS='-k reuse -v' is passed to the driver.

OLDMOD_DIR := tests/oldmodule
OLDMOD_BUILD := $(BUILD)/oldmodule
OLDMOD_SRC := $(OLDMOD_BUILD)/src/websocket.c
OLDMOD_SHIM := $(OLDMOD_DIR)/shim/platform.h $(OLDMOD_DIR)/shim/oldmod_host.h
OLDMODULE_ASAN ?= 1
OLDMODULE_ARGS ?=
# The module is firmware C (gnu11, like the firmware's own flags). Three
# warnings are the module's own and harmless here, so they are not shown:
# unused locals `data`, and malloc/free called without <stdlib.h> (the old
# header pulled it in through mem.h; GCC uses the built-in prototypes).
OLDMOD_CFLAGS := $(HOST_CFLAGS) -std=gnu11 -I$(OLDMOD_DIR)/shim -include $(OLDMOD_DIR)/shim/oldmod_host.h \
  -Wno-unused-variable -Wno-implicit-function-declaration -Wno-builtin-declaration-mismatch

DEPS_APT += python3 gcc

.PHONY: oldmodule-test oldmodule-bins oldmodule-asan-bins
TEST_TARGETS += oldmodule-test

# $(call oldmod_runner,OUTDIR,HOSTOBJDIR,EXTRA_CFLAGS,51|53,LUA_VERSION,COMPAT)
define oldmod_runner
$(1)/lua$(4)/websocket.o: $(OLDMOD_SRC) $(OLDMOD_SHIM) $(HOST_HEADER) $(HOST_DIR)/lua/module.h $(2)/lua$(4)/liblua.a
	@mkdir -p $$(@D)
	$$(CC) $$(OLDMOD_CFLAGS) $(3) $(6) -I$(HOST_LUA_SRC)/lua-$(5) -I$(HOST_DIR)/lua -c $$< -o $$@

$(1)/nodemcu-lua$(4): $(2)/lua$(4)/nodemcu_main.o $(1)/lua$(4)/websocket.o $(2)/ws_port_espconn.o $(2)/fake_sdk.o $(2)/lua$(4)/liblua.a $(HOST_LIBWS)
	$$(CC) $(3) -o $$@ $$(filter-out $(HOST_LIBWS),$$^) $$(HOST_LIBWS_LINK) $$(HOST_LDFLAGS)
endef

# Lua 5.3 without LUA_COMPAT_5_2 has no luaL_checkint, which the module uses
# (NodeMCU's own Lua 5.3 keeps it).
$(eval $(call oldmod_runner,$(OLDMOD_BUILD),$(HOST_BUILD),,51,5.1.5,))
$(eval $(call oldmod_runner,$(OLDMOD_BUILD),$(HOST_BUILD),,53,5.3.6,-DLUA_COMPAT_5_2))
$(eval $(call oldmod_runner,$(OLDMOD_BUILD)/asan,$(BUILD)/asan/host,$(HOST_ASAN_FLAGS),51,5.1.5,))
$(eval $(call oldmod_runner,$(OLDMOD_BUILD)/asan,$(BUILD)/asan/host,$(HOST_ASAN_FLAGS),53,5.3.6,-DLUA_COMPAT_5_2))

# A C program written against the old header's semantics.
$(OLDMOD_BUILD)/old_api: $(OLDMOD_DIR)/old_api.c $(HOST_SDK_OBJS) $(HOST_PORT_OBJ) $(HOST_LIBWS) $(HOST_HEADER)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(HOST_SDK_OBJS) $(HOST_PORT_OBJ) $(HOST_LIBWS_LINK) $(HOST_LDFLAGS)

$(OLDMOD_BUILD)/asan/old_api: $(OLDMOD_DIR)/old_api.c $(BUILD)/asan/host/fake_sdk.o $(BUILD)/asan/host/ws_port_espconn.o $(HOST_LIBWS) $(HOST_HEADER)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(HOST_ASAN_FLAGS) -o $@ $< $(BUILD)/asan/host/fake_sdk.o $(BUILD)/asan/host/ws_port_espconn.o $(HOST_LIBWS_LINK) $(HOST_LDFLAGS)

oldmodule-bins: $(OLDMOD_BUILD)/nodemcu-lua51 $(OLDMOD_BUILD)/nodemcu-lua53 $(OLDMOD_BUILD)/old_api
oldmodule-asan-bins: $(OLDMOD_BUILD)/asan/nodemcu-lua51 $(OLDMOD_BUILD)/asan/nodemcu-lua53 $(OLDMOD_BUILD)/asan/old_api

ifeq ($(strip $(NODEMCU)),)
oldmodule-test:
	@echo "oldmodule-test: SKIPPED: NODEMCU is empty, so there is no firmware tree to take the original app/modules/websocket.c from (run: make oldmodule-test NODEMCU=<nodemcu-firmware tree>)"
else
oldmodule-test:
	@$(OLDMOD_DIR)/fetch-module.sh "$(NODEMCU)" $(OLDMOD_SRC)
	@$(MAKE) --no-print-directory oldmodule-bins venv $(if $(filter 1,$(OLDMODULE_ASAN)),oldmodule-asan-bins)
	$(TESTS_PY) $(OLDMOD_DIR)/run.py $(OLDMODULE_ARGS)
	$(if $(filter 1,$(OLDMODULE_ASAN)),$(TESTS_PY) $(OLDMOD_DIR)/run.py --asan $(OLDMODULE_ARGS))
endif
