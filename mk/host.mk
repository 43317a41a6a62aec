# mk/host.mk — host runtime: fake ESP8266 SDK, Lua 5.1/5.3 from source,
# NodeMCU module shim, and the runner build/nodemcu-lua (see
# nodemcu-glue/host/README.md).
#
# Targets:  host            build/nodemcu-lua{,51,53}
#           host-asan       the same under ASan+UBSan in build/asan/
#           host-sdk-test   the fake SDK's own answers (NodeMCU espconn rules, faults,
#                           timer suspension), plain and ASan (in TEST_TARGETS)
#           host-runner-test  tmr/node/errors/exit codes/websocket registration
#                           of build/nodemcu-lua on Lua 5.1 and 5.3 (in TEST_TARGETS)
# For other fragments (C programs on the glue port + fake SDK):
#   $(CC) $(HOST_CFLAGS) prog.c $(HOST_SDK_OBJS) $(HOST_PORT_OBJ) $(HOST_LIBWS_LINK) $(HOST_LDFLAGS)
#   tests/c/host_NAME.c  ->  make $(BUILD)/host_NAME
#   (links fake SDK + nodemcu-glue/ws_port_espconn.c + libwebsocket.a)
# $(HOST_SDK_OBJS) is one object: the files of nodemcu-glue/host/fake/ joined
# with ld -r (build/host/fake_sdk.o, build/asan/host/fake_sdk.o).

HOST_DIR := nodemcu-glue/host
HOST_BUILD := $(BUILD)/host
HOST_HEADER := $(HOST_BUILD)/include/websocket/websocketclient.h
HOST_LIBWS := $(BUILD)/libwebsocket.a
HOST_GLUE_MOD := nodemcu-glue/websocket.c
HOST_GLUE_PORT := nodemcu-glue/ws_port_espconn.c

# TLS for espconn_secure_* comes from OpenSSL (libssl-dev, installed by
# `make deps`); the fake SDK is always built with it.
DEPS_APT += libssl-dev

HOST_WARN := -Wall -Wextra
HOST_INC := -I$(HOST_DIR)/sdk -I$(HOST_BUILD)/include
# The firmware's include rules: -D_C_TYPES_H_ switches the SDK's c_types.h off
# (the fake one is an #error, as NodeMCU's sdk-overrides copy); timer
# suspension on, so SWTIMER_REG_CB registrations reach the fake SDK.
HOST_CFLAGS := -std=c99 $(HOST_WARN) -O2 -g -D_C_TYPES_H_ -DTIMER_SUSPEND_ENABLE $(HOST_INC)
HOST_WRAP := -Wl,--wrap=malloc,--wrap=free,--wrap=realloc,--wrap=calloc
HOST_LDFLAGS := $(HOST_WRAP) -lssl -lcrypto -lpthread -ldl -lm
# libm/libc go before the Rust archive, or its compiler_builtins would supply
# sqrt/fmod/floor to Lua (and drag in an unresolved rust_eh_personality).
HOST_LIBWS_LINK := -lm -lc $(HOST_LIBWS)
HOST_SDK_OBJS := $(HOST_BUILD)/fake_sdk.o
HOST_PORT_OBJ := $(HOST_BUILD)/ws_port_espconn.o

HOST_ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
HOST_LUA_SRC := $(HOST_BUILD)/lua-src
HOST_LUA_STAMP := $(HOST_LUA_SRC)/.stamp
HOST_LUA51_CFLAGS := -std=gnu99 -O2 -g -DLUA_USE_LINUX -w
HOST_LUA53_CFLAGS := -std=gnu99 -O2 -g -DLUA_USE_LINUX -DLUA_COMPAT_5_2 -w

.PHONY: host host-asan host-sdk-test host-runner-test
ALL_TARGETS += host
TEST_TARGETS += host-sdk-test host-runner-test

$(HOST_LUA_STAMP): $(HOST_DIR)/luasrc/Cargo.toml $(HOST_DIR)/luasrc/Cargo.lock $(HOST_DIR)/fetch-lua.sh
	$(HOST_DIR)/fetch-lua.sh $(HOST_LUA_SRC)
	touch $@

$(HOST_HEADER): include/websocketclient.h
	mkdir -p $(@D)
	cp $< $@

# The fake SDK is split like the SDK's headers (nodemcu-glue/host/fake/:
# core, heap, timer, dns, espconn, secure, fault); its objects are joined into
# one relocatable fake_sdk.o (ld -r) so that programs link a single object.
HOST_SDK_SRCS := $(sort $(wildcard $(HOST_DIR)/fake/*.c))
HOST_SDK_HDRS := $(wildcard $(HOST_DIR)/fake/*.h $(HOST_DIR)/sdk/*.h $(HOST_DIR)/sdk/*/*.h)

# $(call host_objs,OUTDIR,EXTRA_CFLAGS): Lua-independent objects
define host_objs
$(1)/fake/%.o: $(HOST_DIR)/fake/%.c $(HOST_SDK_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(HOST_CFLAGS) $(2) -c $$< -o $$@

$(1)/fake_sdk.o: $(patsubst $(HOST_DIR)/fake/%.c,$(1)/fake/%.o,$(HOST_SDK_SRCS))
	$$(CC) -r -nostdlib -o $$@ $$^

$(1)/ws_port_espconn.o: $(HOST_GLUE_PORT) $(HOST_HEADER) $(HOST_SDK_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $$(HOST_CFLAGS) $(2) -c $$< -o $$@
endef

# $(call host_lua,OUTDIR,BINDIR,EXTRA_CFLAGS,51|53,LUA_VERSION): one runner binary
define host_lua
$(1)/lua$(4)/liblua.a: $(HOST_LUA_STAMP)
	rm -rf $$(@D) && mkdir -p $$(@D)
	for f in $(HOST_LUA_SRC)/lua-$(5)/*.c; do \
	  $$(CC) $$(HOST_LUA$(4)_CFLAGS) $(3) -c $$$$f -o $$(@D)/$$$$(basename $$$$f .c).o || exit 1; \
	done
	$$(AR) rcs $$@ $$(@D)/*.o

$(1)/lua$(4)/nodemcu_main.o: $(HOST_DIR)/nodemcu_main.c $(HOST_DIR)/lua/module.h $(HOST_SDK_HDRS) $(1)/lua$(4)/liblua.a
	$$(CC) $$(HOST_CFLAGS) $(3) -I$(HOST_LUA_SRC)/lua-$(5) -I$(HOST_DIR)/lua -c $$< -o $$@

$(1)/lua$(4)/websocket.o: $(HOST_GLUE_MOD) $(HOST_DIR)/lua/module.h $(HOST_HEADER) $(1)/lua$(4)/liblua.a
	$$(CC) $$(HOST_CFLAGS) $(3) -I$(HOST_LUA_SRC)/lua-$(5) -I$(HOST_DIR)/lua -c $$< -o $$@

$(2)/nodemcu-lua$(4): $(1)/lua$(4)/nodemcu_main.o $(1)/lua$(4)/websocket.o $(1)/ws_port_espconn.o $(1)/fake_sdk.o $(1)/lua$(4)/liblua.a $(HOST_LIBWS)
	mkdir -p $$(@D)
	$$(CC) $(3) -o $$@ $$(filter-out $(HOST_LIBWS),$$^) $$(HOST_LIBWS_LINK) $$(HOST_LDFLAGS)
endef

$(eval $(call host_objs,$(HOST_BUILD),))
$(eval $(call host_objs,$(BUILD)/asan/host,$(HOST_ASAN_FLAGS)))
$(eval $(call host_lua,$(HOST_BUILD),$(BUILD),,51,5.1.5))
$(eval $(call host_lua,$(HOST_BUILD),$(BUILD),,53,5.3.6))
$(eval $(call host_lua,$(BUILD)/asan/host,$(BUILD)/asan,$(HOST_ASAN_FLAGS),51,5.1.5))
$(eval $(call host_lua,$(BUILD)/asan/host,$(BUILD)/asan,$(HOST_ASAN_FLAGS),53,5.3.6))

$(BUILD)/nodemcu-lua $(BUILD)/asan/nodemcu-lua: $(HOST_DIR)/nodemcu-lua.sh
	mkdir -p $(@D)
	cp $< $@
	chmod +x $@

host: $(BUILD)/nodemcu-lua $(BUILD)/nodemcu-lua51 $(BUILD)/nodemcu-lua53

host-asan: $(BUILD)/asan/nodemcu-lua $(BUILD)/asan/nodemcu-lua51 $(BUILD)/asan/nodemcu-lua53

# C programs on the glue port over the fake SDK: tests/c/host_NAME.c -> build/host_NAME
$(BUILD)/host_%: tests/c/host_%.c $(HOST_SDK_OBJS) $(HOST_PORT_OBJ) $(HOST_LIBWS) $(HOST_HEADER) $(HOST_DIR)/tests/testkit.h tests/c/lua_ws_info.h
	$(CC) $(HOST_CFLAGS) -o $@ $< $(HOST_SDK_OBJS) $(HOST_PORT_OBJ) $(HOST_LIBWS_LINK) $(HOST_LDFLAGS)

# Smoke test of the fake SDK alone (needs neither the library nor the glue).
$(HOST_BUILD)/sdk_test: $(HOST_DIR)/tests/sdk_test.c $(HOST_DIR)/tests/testkit.h $(HOST_SDK_OBJS)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(HOST_SDK_OBJS) $(HOST_LDFLAGS)

$(HOST_BUILD)/sdk_test_asan: $(HOST_DIR)/tests/sdk_test.c $(HOST_DIR)/tests/testkit.h $(BUILD)/asan/host/fake_sdk.o
	mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(HOST_ASAN_FLAGS) -o $@ $< $(BUILD)/asan/host/fake_sdk.o $(HOST_LDFLAGS)

host-sdk-test: $(HOST_BUILD)/sdk_test $(HOST_BUILD)/sdk_test_asan
	FAKE_SDK_DNS_HOSTS_ONLY=1 $(HOST_BUILD)/sdk_test
	FAKE_SDK_DNS_HOSTS_ONLY=1 $(HOST_BUILD)/sdk_test_asan

host-runner-test: host
	$(HOST_DIR)/tests/runner_test.sh $(BUILD)
