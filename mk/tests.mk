# mk/tests.mk — test peers, the end-to-end suite and the bundled example.
#   make venv       build/venv with the peers' Python packages (idempotent)
#   make example    examples/echo.lua against a local echo server (part of `make`)
#   make e2e-test   tests/e2e/run.py: every Lua test under --lua51 and --lua53
#                   plus the C host programs, against real peers on 127.0.0.1
#   make e2e-asan   the same on the ASan/UBSan build (build/asan/)
#   make e2e-heaplimit  the Lua tests once more (plain build, both Lua
#                   versions) under a device heap of E2E_HEAP_LIMIT bytes
#                   (FAKE_SDK_HEAP_LIMIT, default 40960: what an ESP8266
#                   running NodeMCU has free); about 30 s. Tests that need
#                   more on purpose are skipped by name (HEAP_LIMIT_EXCLUDED
#                   in tests/e2e/run.py, with the reason)
# Options: E2E_ARGS='-k echo -v' is passed to the driver.

TESTS_VENV := $(BUILD)/venv
TESTS_PY := $(TESTS_VENV)/bin/python
TESTS_VENV_STAMP := $(TESTS_VENV)/.tests-requirements.stamp
E2E_ARGS ?=
EXAMPLE_TIMEOUT ?= 30

.PHONY: venv example e2e-test e2e-asan e2e-heaplimit
ALL_TARGETS += example
TEST_TARGETS += e2e-test e2e-asan e2e-heaplimit
E2E_HEAP_LIMIT ?= 40960

venv: $(TESTS_VENV_STAMP)

$(TESTS_VENV_STAMP): tests/peers/requirements.txt
	@mkdir -p $(BUILD)
	@test -x $(TESTS_PY) || python3 -m venv $(TESTS_VENV)
	$(TESTS_PY) -m pip install -q --disable-pip-version-check -r tests/peers/requirements.txt
	@touch $@

# Start the echo server on a free port (it prints the port), run the example,
# stop the server whatever happens.
example: host venv
	@rm -f $(BUILD)/example-echo.port; \
	$(TESTS_PY) tests/peers/echo_server.py >$(BUILD)/example-echo.port 2>$(BUILD)/example-echo.log & \
	pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT; \
	for i in $$(seq 100); do test -s $(BUILD)/example-echo.port && break; sleep 0.1; done; \
	port=$$(head -n1 $(BUILD)/example-echo.port); \
	test -n "$$port" || { echo "echo server did not start"; cat $(BUILD)/example-echo.log; exit 1; }; \
	echo "== echo server (python websockets) listening on ws://127.0.0.1:$$port/"; \
	echo "== $(BUILD)/nodemcu-lua examples/echo.lua ws://127.0.0.1:$$port/"; \
	timeout $(EXAMPLE_TIMEOUT) $(BUILD)/nodemcu-lua examples/echo.lua ws://127.0.0.1:$$port/

# C programs on the glue port + fake SDK: build/host_NAME comes from
# mk/host.mk; the ASan twin is built here from the ASan objects.
E2E_C_PROGRAMS := $(patsubst tests/c/%.c,%,$(wildcard tests/c/host_*.c))
TESTS_ASAN_OBJS := $(BUILD)/asan/host/fake_sdk.o $(BUILD)/asan/host/ws_port_espconn.o

$(BUILD)/asan/host_%: tests/c/host_%.c $(TESTS_ASAN_OBJS) $(HOST_LIBWS) $(HOST_HEADER) \
  nodemcu-glue/host/tests/testkit.h tests/c/lua_ws_info.h
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) $(HOST_ASAN_FLAGS) -o $@ $< $(TESTS_ASAN_OBJS) $(HOST_LIBWS) $(HOST_LDFLAGS)

e2e-test: host venv $(E2E_C_PROGRAMS:%=$(BUILD)/%)
	$(TESTS_PY) tests/e2e/run.py $(E2E_ARGS)

e2e-asan: host-asan venv $(E2E_C_PROGRAMS:%=$(BUILD)/asan/%)
	$(TESTS_PY) tests/e2e/run.py --asan $(E2E_ARGS)

e2e-heaplimit: host venv
	$(TESTS_PY) tests/e2e/run.py --heap-limit $(E2E_HEAP_LIMIT) $(E2E_ARGS)
