# mk/nodemcu.mk — install libwebsocket into a nodemcu-firmware checkout, and test that.
#   make nodemcu-install NODEMCU=<checkout> [WS_ARCHIVE=<xtensa archive>]
#     WS_ARCHIVE defaults to the host build; for a firmware use
#     build/cross/xtensa-esp8266-none-elf/libwebsocket.a (see nodemcu-glue/README.md)
#   make nodemcu-install-test   (part of `make test`)
NODEMCU ?=
WS_ARCHIVE ?= $(BUILD)/libwebsocket.a
NODEMCU_FIXTURE := nodemcu-glue/firmware/test-fixture
NODEMCU_TEST_DIR := $(BUILD)/nodemcu-install-test

.PHONY: nodemcu-install nodemcu-install-test
TEST_TARGETS += nodemcu-install-test

# Only the default (host) archive is built here; another WS_ARCHIVE must exist.
nodemcu-install: $(filter $(BUILD)/libwebsocket.a,$(WS_ARCHIVE))
	@test -n "$(NODEMCU)" || { echo "usage: make nodemcu-install NODEMCU=<nodemcu-firmware checkout> [WS_ARCHIVE=<archive>]"; exit 2; }
	tools/nodemcu-install.sh --archive "$(WS_ARCHIVE)" "$(NODEMCU)"

# Installs into a copy of the fixture tree, checks every file, checks that a
# second run changes nothing, checks the app/Makefile patch on a tree that
# lacks the websocket lines, and builds the merged app/websocket archive with
# the installed Makefile (host gcc, fake SDK headers) to check it holds both
# the port and the Rust core.
nodemcu-install-test: $(BUILD)/libwebsocket.a
	@set -euo pipefail; \
	t="$(NODEMCU_TEST_DIR)"; rm -rf "$$t"; mkdir -p "$$t"; \
	snap() { (cd "$$1" && find . -type f ! -path '*/.output/*' -print0 | sort -z | xargs -0 sha256sum); }; \
	fail() { echo "nodemcu-install-test: FAIL: $$*"; exit 1; }; \
	cp -R $(NODEMCU_FIXTURE) "$$t/fw"; \
	tools/nodemcu-install.sh --archive $(BUILD)/libwebsocket.a "$$t/fw" > "$$t/run1.log"; \
	a="$$t/fw/app"; \
	cmp -s include/websocketclient.h "$$a/websocket/websocketclient.h" || fail header; \
	cmp -s $(BUILD)/libwebsocket.a "$$a/websocket/rust/libwebsocket.a" || fail archive; \
	cmp -s nodemcu-glue/ws_port_espconn.c "$$a/websocket/ws_port_espconn.c" || fail port; \
	cmp -s nodemcu-glue/websocket.c "$$a/modules/websocket.c" || fail module; \
	cmp -s nodemcu-glue/firmware/app-websocket-Makefile "$$a/websocket/Makefile" || fail Makefile; \
	grep -q '^#include "../../websocket/websocketclient.h"' "$$a/include/websocket/websocketclient.h" || fail forwarder; \
	grep -q '^#define LUA_USE_MODULES_WEBSOCKET' "$$a/include/user_modules.h" || fail "module switch"; \
	cmp -s $(NODEMCU_FIXTURE)/app/Makefile "$$a/Makefile" || fail "stock app/Makefile was modified"; \
	snap "$$t/fw" > "$$t/snap1"; \
	tools/nodemcu-install.sh --archive $(BUILD)/libwebsocket.a "$$t/fw" > "$$t/run2.log"; \
	snap "$$t/fw" > "$$t/snap2"; \
	cmp -s "$$t/snap1" "$$t/snap2" || fail "second run changed files"; \
	grep -q 'up to date' "$$t/run2.log" || fail "second run reported changes"; \
	cp -R $(NODEMCU_FIXTURE) "$$t/bare"; \
	sed -i -e '/websocket\/libwebsocket\.a/d' -e 's/^\tmodules \t\t\t\t\\$$/\tmodules/' -e '/^\twebsocket$$/d' "$$t/bare/app/Makefile"; \
	! grep -q websocket "$$t/bare/app/Makefile" || fail "bare fixture still mentions websocket"; \
	tools/nodemcu-install.sh --no-enable --archive $(BUILD)/libwebsocket.a "$$t/bare" > /dev/null; \
	test "$$(grep -c '^COMPONENTS_eagle.app.v6 += websocket/libwebsocket.a' "$$t/bare/app/Makefile")" = 1 || fail "app/Makefile patch"; \
	grep -q '^//#define LUA_USE_MODULES_WEBSOCKET' "$$t/bare/app/include/user_modules.h" || fail "--no-enable"; \
	snap "$$t/bare" > "$$t/snap3"; \
	tools/nodemcu-install.sh --no-enable --archive $(BUILD)/libwebsocket.a "$$t/bare" > /dev/null; \
	snap "$$t/bare" > "$$t/snap4"; \
	cmp -s "$$t/snap3" "$$t/snap4" || fail "second run on the patched tree changed files"; \
	$(MAKE) --no-print-directory -s -C "$$t/bare/app" -pn > "$$t/bare-db.txt" 2>/dev/null || true; \
	grep -q '^COMPONENTS_eagle.app.v6 = .*websocket/libwebsocket.a' "$$t/bare-db.txt" || fail "patched app/Makefile does not list the archive"; \
	$(MAKE) --no-print-directory -s -C "$$a/websocket" FIXTURE_CFLAGS="-I$(CURDIR)/nodemcu-glue/host/sdk" > "$$t/build.log" 2>&1 || { cat "$$t/build.log"; fail "app/websocket build"; }; \
	lib="$$a/websocket/.output/eagle/debug/lib/libwebsocket.a"; \
	nm "$$lib" > "$$t/nm.txt" 2>/dev/null || fail "nm on the merged archive"; \
	grep -q ' T ws_port_resolve$$' "$$t/nm.txt" || fail "merged archive lacks the port"; \
	grep -q ' T ws_connect$$' "$$t/nm.txt" || fail "merged archive lacks the core"; \
	echo "nodemcu-install-test: passed (install, idempotence, app/Makefile patch, merged archive)"
