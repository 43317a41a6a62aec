# mk/conformance.mk — Autobahn|Testsuite conformance of the WebSocket client.
#   make conformance         full run: Autobahn wstest (Python 2.7) fuzzingserver,
#                            sections 1-7, 9, 10, against tests/conformance/client.lua
#                            on build/nodemcu-lua, over ws:// and then over wss://
#                            (both always run; prints both per-section tallies)
#   make conformance-ws / conformance-wss   only one of the two
#   make conformance-quick   the same cases with kosoku (Python 3 + Rust replay of
#                            Autobahn's case files), ~10 s; part of `make test`
#   make conformance-quick-wss  the same over wss:// (kosoku has no TLS: it sits
#                            behind tests/conformance/tls_proxy.py), ~12 s; in `make test`
# wss:// runs use a throw-away self-signed certificate made with `openssl req`
# in build/conformance/<run>/tls/; the client verifies the server against it.
#   make conformance-asan / conformance-quick-asan   the same on the ASan+UBSan
#                            runner build/asan/nodemcu-lua (quick one in `make test`)
#   make conformance-selftest  the harness itself, with a Python stand-in testee:
#                            a correct one must pass, a broken one must fail
# Variables: CONF_LUA_FLAGS=--lua51|--lua53 (runner flavour), CONF_CASES='1.*,9.*'
# (override the case list), CONF_ENGINE=wstest|kosoku (for `conformance`).
# Reports: build/conformance/<run>/reports/index.html (+ index.json, server.log).
# Installs (idempotent, under build/ only): build/venv (python3 -m venv) with
# tests/conformance/requirements-py3.txt; build/conformance/wstest-venv made by
# virtualenv<20.22 for CPython 2.7 with tests/conformance/requirements-py27.txt.

CONF_DIR := $(BUILD)/conformance
CONF_SRC := tests/conformance
CONF_PY3 ?= python3
CONF_PY27 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/2.7*/bin/python2.7) \
                         $(shell command -v python2.7 2>/dev/null))
CONF_RUNNER ?= $(BUILD)/nodemcu-lua
CONF_RUNNER_DEP ?= host
CONF_LUA_FLAGS ?=
CONF_ENGINE ?= wstest
CONF_CASES ?=
CONF_QUICK_CASES ?= 1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*
# Cases to leave out of the ASan pass (none: since reassembly grows
# geometrically, 9.3.x/9.4.x run there in seconds).
CONF_QUICK_ASAN_EXCLUDE ?=
CONF_TIMEOUT ?= 3600
CONF_VENV := $(BUILD)/venv
CONF_WSTEST_VENV := $(CONF_DIR)/wstest-venv
CONF_RUN = $(CONF_VENV)/bin/python $(CONF_SRC)/run.py

.PHONY: conformance conformance-ws conformance-wss conformance-quick conformance-quick-wss \
        conformance-selftest conformance-install conformance-asan conformance-quick-asan
TEST_TARGETS += conformance-selftest conformance-quick conformance-quick-wss conformance-quick-asan

# Python 3 tools (shared build/venv: create it only if missing).
$(CONF_DIR)/py3.stamp: $(CONF_SRC)/requirements-py3.txt tests/peers/requirements.txt
	@mkdir -p $(CONF_DIR)
	@test -x $(CONF_VENV)/bin/python || $(CONF_PY3) -m venv $(CONF_VENV)
	$(CONF_VENV)/bin/python -m pip install -q -r $(CONF_SRC)/requirements-py3.txt
	@touch $@

# Autobahn|Testsuite in its own Python 2.7 virtualenv.
$(CONF_DIR)/wstest.stamp: $(CONF_SRC)/requirements-py27.txt $(CONF_DIR)/py3.stamp
	@test -n "$(CONF_PY27)" || { echo "conformance: no CPython 2.7 found (set CONF_PY27=/path/to/python2.7)"; exit 2; }
	@test -x $(CONF_WSTEST_VENV)/bin/python || \
	  $(CONF_VENV)/bin/virtualenv -q -p $(CONF_PY27) $(CONF_WSTEST_VENV)
	PIP_NO_PYTHON_VERSION_WARNING=1 $(CONF_WSTEST_VENV)/bin/python -m pip install -q \
	  --no-warn-script-location -r $(CONF_SRC)/requirements-py27.txt
	$(CONF_WSTEST_VENV)/bin/python -c 'import autobahntestsuite.fuzzing'
	@touch $@

conformance-install: $(CONF_DIR)/py3.stamp $(CONF_DIR)/wstest.stamp

# The openssl command line tool makes the wss:// runs' certificate.
DEPS_APT += openssl

# $(call conf_client,RUNNER): the client command; run.py fills in {url} {agent}.
# Section 9 sends messages of up to 16 MiB, which the Lua state holds (and
# collects late); the fake SDK's nominal heap (NODEMCU_HEAP, 40 MiB by
# default) would then look exhausted and TLS connects of the later cases fail
# with ESPCONN_MEM as on a device, so these runs get a 1 GiB nominal heap.
conf_client = env WS_BASE_URL={url} WS_AGENT={agent} NODEMCU_HEAP=1073741824 \
  $(1) $(CONF_LUA_FLAGS) $(CONF_SRC)/client.lua {url} {agent}
CONF_FULL_DEPS = $(CONF_DIR)/py3.stamp $(if $(filter wstest,$(CONF_ENGINE)),$(CONF_DIR)/wstest.stamp)
# $(call conf_full,RUN,RUNNER[,--tls]), $(call conf_quick,RUN,RUNNER,EXCLUDE[,--tls])
conf_full = $(CONF_RUN) --engine $(CONF_ENGINE) --out $(CONF_DIR)/$(1) --timeout $(CONF_TIMEOUT) \
  $(if $(CONF_CASES),--cases '$(CONF_CASES)') $(3) -- $(call conf_client,$(2))
conf_quick = $(CONF_RUN) --engine kosoku --out $(CONF_DIR)/$(1) --timeout 600 \
  --cases '$(or $(CONF_CASES),$(CONF_QUICK_CASES))' $(if $(3),--exclude '$(3)') $(4) \
  -- $(call conf_client,$(2))

# ws:// then wss://; the second runs even when the first fails, either fails the target.
conformance: $(CONF_FULL_DEPS) $(CONF_RUNNER_DEP)
	@st=0; \
	$(call conf_full,full,$(CONF_RUNNER)) || { echo "conformance: ws:// FAILED"; st=1; }; \
	$(call conf_full,full-wss,$(CONF_RUNNER),--tls) || { echo "conformance: wss:// FAILED"; st=1; }; \
	exit $$st

conformance-ws: $(CONF_FULL_DEPS) $(CONF_RUNNER_DEP)
	$(call conf_full,full,$(CONF_RUNNER))

conformance-wss: $(CONF_FULL_DEPS) $(CONF_RUNNER_DEP)
	$(call conf_full,full-wss,$(CONF_RUNNER),--tls)

conformance-quick: $(CONF_DIR)/py3.stamp $(CONF_RUNNER_DEP)
	$(call conf_quick,quick,$(CONF_RUNNER))

conformance-quick-wss: $(CONF_DIR)/py3.stamp $(CONF_RUNNER_DEP)
	$(call conf_quick,quick-wss,$(CONF_RUNNER),,--tls)

# The same under AddressSanitizer + UBSan (build/asan/nodemcu-lua): any memory
# error, leak or UB report makes the client exit non-zero, which fails the run.
conformance-asan: $(CONF_FULL_DEPS) host-asan
	$(call conf_full,full-asan,$(BUILD)/asan/nodemcu-lua)

conformance-quick-asan: $(CONF_DIR)/py3.stamp host-asan
	$(call conf_quick,quick-asan,$(BUILD)/asan/nodemcu-lua,$(CONF_QUICK_ASAN_EXCLUDE))

# The harness must pass a correct testee and fail a broken one.
conformance-selftest: $(CONF_DIR)/py3.stamp
	$(CONF_RUN) --engine kosoku --out $(CONF_DIR)/selftest-good --agent standin \
	  --cases '1.*,2.*,3.*' --timeout 300 -- \
	  $(CONF_VENV)/bin/python $(CONF_SRC)/standin_client.py {url} {agent}
	@if $(CONF_RUN) --engine kosoku --out $(CONF_DIR)/selftest-bad --agent standin-mangled \
	  --cases '1.1.2,1.2.2' --timeout 300 -- \
	  $(CONF_VENV)/bin/python $(CONF_SRC)/standin_client.py --mangle {url} {agent} \
	  > $(CONF_DIR)/selftest-bad.log 2>&1; then \
	  echo "conformance-selftest: a client echoing corrupted messages passed"; exit 1; \
	fi; \
	grep -q '^  1.1.2 .*FAILED' $(CONF_DIR)/selftest-bad.log || \
	  { echo "conformance-selftest: corrupted echo not reported as FAILED"; exit 1; }
	@echo "conformance-selftest: broken client detected as FAILED (ok)"
