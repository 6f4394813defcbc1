# fhirwall: build, test, fuzz, bench and demo.
#
#   make               build every module (.so) against Debian's nginx-dev
#   make test          everything the CI runs: modules, unit tests, t/ suite
#   make demo          build, then start the demo gateway on localhost
#   make NGINX_SRC=/path/to/nginx-1.x.y      build against another nginx
#   make static NGINX_SRC=/path/to/nginx-1.x.y   nginx with the modules in
#   make SANITIZE=1 test                     ASan + UBSan build and run
#   make WERROR=1      warnings are errors (the CI does this)

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
SANITIZE    ?= 0
WERROR      ?= 0
CC          ?= cc

ROOT        := $(abspath .)
BUILD       ?= $(ROOT)/build$(if $(filter 1,$(SANITIZE)),-asan,)
NGX_BUILD   := $(BUILD)/nginx
MODDIR      := $(BUILD)/modules
MODULES     ?= jwt fhir webhook ratelimit audit minimise lockout metrics
PRESENT     := $(foreach m,$(MODULES),$(if $(wildcard modules/$(m)/config),$(m)))
SO          := $(foreach m,$(PRESENT),$(MODDIR)/ngx_http_fw_$(m)_module.so)

# the t/ suite's build: the same modules compiled with -DFW_TEST, which
# adds the test-only directives (fw_webhook_test_now); never shipped
TEST_NGX_BUILD := $(BUILD)/nginx-test
TEST_MODDIR := $(BUILD)/modules-test
TEST_SO     := $(foreach m,$(PRESENT),$(TEST_MODDIR)/ngx_http_fw_$(m)_module.so)

FW_CFLAGS   := -g -O2 -Wall -Wextra -Wno-unused-parameter \
               -Wpointer-arith -Wshadow -Wstrict-prototypes
ifeq ($(WERROR),1)
FW_CFLAGS   += -Werror
endif
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
NGX_CC_OPT  := $(SAN_FLAGS) -DNGX_DEBUG_PALLOC=1
NGX_LD_OPT  := $(SAN_FLAGS)
UNIT_SAN    := $(SAN_FLAGS)
endif

SRC_DEPS    := config build-aux/fw_module $(wildcard common/*.[ch]) \
               $(wildcard modules/*/config modules/*/*.[ch])

.DEFAULT_GOAL := all

# the plain-C sources of common/, for unit tests, fuzzers and tools
CORE_COMMON := $(filter-out common/ngx_%,$(wildcard common/*.c))

# modules/<m>/module.mk may add build rules (tools, generated tables) and
# append what the tests need to TOOLS
TOOLS       :=
-include $(wildcard modules/*/module.mk)

.PHONY: all modules test-modules unit test t check-load runner-selftest deploy-check \
        prometheus-check \
        testssl demo-check deps demo demo-stop bench \
        fuzz fuzz-smoke fuzz-long static clean lint valgrind drills \
        drills-long

all: modules $(TOOLS)

modules: $(SO)

$(NGX_BUILD)/.configured: $(SRC_DEPS)
	@tools/build-modules configure "$(NGINX_SRC)" "$(NGX_BUILD)" \
	    "$(PRESENT)" "$(NGX_CC_OPT)" "$(NGX_LD_OPT)" "$(WERROR)"

# one nginx make for all the .so files (grouped targets, GNU make 4.3:
# with -j, one recipe per .so would run several makes in one tree at once)
$(SO) &: $(NGX_BUILD)/.configured $(SRC_DEPS)
	@tools/build-modules make "$(NGINX_SRC)" "$(NGX_BUILD)" "$(PRESENT)"
	@mkdir -p $(MODDIR)
	@cp $(NGX_BUILD)/objs/ngx_http_fw_*_module.so $(MODDIR)/

$(TEST_NGX_BUILD)/.configured: $(SRC_DEPS)
	@tools/build-modules configure "$(NGINX_SRC)" "$(TEST_NGX_BUILD)" \
	    "$(PRESENT)" "$(NGX_CC_OPT) -DFW_TEST=1" "$(NGX_LD_OPT)" "$(WERROR)"

$(TEST_SO) &: $(TEST_NGX_BUILD)/.configured $(SRC_DEPS)
	@tools/build-modules make "$(NGINX_SRC)" "$(TEST_NGX_BUILD)" "$(PRESENT)"
	@mkdir -p $(TEST_MODDIR)
	@cp $(TEST_NGX_BUILD)/objs/ngx_http_fw_*_module.so $(TEST_MODDIR)/

test-modules: $(TEST_SO)

static:
	@tools/build-modules static "$(NGINX_SRC)" "$(BUILD)/static" \
	    "$(PRESENT)" "$(NGX_CC_OPT)" "$(NGX_LD_OPT)" "$(WERROR)"

# ---------------------------------------------------------------- unit tests
# modules/<m>/unit/test_*.c link with the plain-C cores of <m> (every
# modules/<m>/*.c that is not nginx glue) and of common/.

UNIT_LIBS   := -lcmocka -lcrypto -ljansson -lm
UNIT_SRCS   := $(wildcard common/unit/test_*.c modules/*/unit/test_*.c)
UNIT_BINS   := $(patsubst %.c,$(BUILD)/unit/%,$(UNIT_SRCS))

core_of = $(if $(filter common/%,$(1)),,$(filter-out \
    $(dir $(patsubst %/,%,$(dir $(1))))ngx_%,\
    $(wildcard $(dir $(patsubst %/,%,$(dir $(1))))*.c)))

# common/unit/test_vocab.c also checks the JWT core's status names
VOCAB_CORES := $(filter-out modules/jwt/ngx_%,$(wildcard modules/jwt/*.c))
$(BUILD)/unit/common/unit/test_vocab: UNIT_EXTRA = -Imodules/jwt $(VOCAB_CORES)
$(BUILD)/unit/common/unit/test_vocab: $(VOCAB_CORES)

.SECONDEXPANSION:
$(BUILD)/unit/%: %.c $$(call core_of,%.c) $(CORE_COMMON) \
                 $(wildcard common/*.h modules/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) $(UNIT_SAN) -Icommon -I$(dir $(patsubst %/,%,$(dir $<))) \
	    -o $@ $< $(call core_of,$<) $(CORE_COMMON) $(UNIT_EXTRA) $(UNIT_LIBS)

unit: $(UNIT_BINS)
	@tools/run-unit $(UNIT_BINS)

# ------------------------------------------------------------------ t/ suite

# the suite runs the test build (fw_webhook_test_now); check-load, the
# demo and the container images use the shipped one
t: test-modules $(TOOLS)
	@FW_MODDIR=$(TEST_MODDIR) FW_SANITIZE=$(SANITIZE) tools/run-tests

# deployment files: manifests and Dockerfile lint, the module build the
# Dockerfiles run (against the installed nginx), testssl.sh on the examples
deploy-check: modules
	@tools/check-manifests
	@tools/check-manifests --self-test
	@tools/check-manifests-schema --self-test || [ $$? = 77 ]
	@tools/check-manifests-schema || [ $$? = 77 ]
	@tools/docker-build-modules $(if $(filter 1,$(WERROR)),--werror,) \
	    --nginx $(NGINX_BIN) --check-conf conf-examples $(NGINX_SRC) \
	    $(BUILD)/docker

testssl: modules
	@FW_MODDIR=$(MODDIR) tools/run-testssl

# the compatible runner's own tests
runner-selftest:
	@if [ -d tools/test-nginx/t ]; then \
	    prove -I tools/test-nginx/lib tools/test-nginx/t; fi

check-load: modules
	@FW_MODDIR=$(MODDIR) tools/check-load $(PRESENT)

# the metrics read by promtool and by a real Prometheus server (loopback)
prometheus-check: modules
	@FW_MODDIR=$(MODDIR) tools/check-prometheus

test: lint modules $(TOOLS) unit check-load deploy-check runner-selftest \
      prometheus-check demo-check t

deps:
	@tools/install-deps

# ------------------------------------------------------------------- fuzzing

FUZZ_SRCS   := $(wildcard fuzz/*_fuzz.c)
FUZZ_BINS   := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_TIME   ?= 20

# the plain-C sources of module $(1): every .c that is not nginx glue
core_srcs = $(foreach f,$(wildcard modules/$(1)/*.c),\
    $(if $(filter ngx_%,$(notdir $(f))),,$(f)))
fuzz_mod = $(firstword $(subst _, ,$(1)))

$(BUILD)/fuzz/%_fuzz: fuzz/%_fuzz.c $(CORE_COMMON) \
                      $$(call core_srcs,$$(call fuzz_mod,$$*))
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
	    -Imodules/$(call fuzz_mod,$*) -o $@ $< $(CORE_COMMON) \
	    $(call core_srcs,$(call fuzz_mod,$*)) -lcrypto -ljansson -lm

fuzz: $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	@tools/run-fuzz $(FUZZ_TIME) $(FUZZ_BINS)

# the long campaign (docs/reliability.md): FUZZ_LONG seconds per harness,
# the committed corpus minimised back into fuzz/corpus/<name>/
FUZZ_LONG   ?= 600
fuzz-long: $(FUZZ_BINS)
	@tools/drill.d/fuzz-campaign $(FUZZ_LONG) $(FUZZ_BINS)

# ------------------------------------------------------------- valgrind
# the t/ suite under memcheck: the stock nginx binary, the test build of
# the modules (-DFW_TEST, as "make t") and the tools built -O1 -g into
# $(VG_BUILD); VG_FILES="t/jwt.t ..." for a subset

VG_BUILD    ?= $(ROOT)/build/valgrind
VG_FILES    ?=
VG_TIMEOUT  ?= 20

valgrind:
	@$(MAKE) --no-print-directory BUILD=$(VG_BUILD) WERROR=$(WERROR) \
	    NGX_CC_OPT="-O1 -g -fno-omit-frame-pointer" all test-modules
	@FW_MODDIR=$(VG_BUILD)/modules-test TEST_NGINX_USE_VALGRIND=1 \
	    TEST_NGINX_TIMEOUT=$${TEST_NGINX_TIMEOUT:-$(VG_TIMEOUT)} \
	    tools/run-tests $(VG_FILES)

# ---------------------------------------------------------- bench and demo

# the webhook cases pin the clock (fw_webhook_test_now): the test build,
# the same code apart from that directive
bench: test-modules $(TOOLS)
	@FW_MODDIR=$(TEST_MODDIR) bench/run

demo: deps modules $(TOOLS)
	@FW_MODDIR=$(MODDIR) tools/demo start

demo-stop:
	@tools/demo stop

# the demo, started on other ports, answers every printed command as it says
demo-check: modules $(TOOLS)
	@FW_MODDIR=$(MODDIR) FW_DEMO_DIR=/tmp/fhirwall-demo-check \
	    DEMO_HTTPS_PORT=3943 DEMO_HTTP_PORT=3980 DEMO_UPSTREAM_PORT=3981 \
	    DEMO_REDIS_PORT=6398 DEMO_METRICS_PORT=3989 tools/demo check

# ---------------------------------------------------------------- drills
# operational drills (docs/reliability.md): the example gateway under load
# while it is reloaded, its workers killed, Redis and the identity provider
# fail, the audit disk fills.  `make drills` runs the short forms (CI),
# `make drills-long` the issue's numbers; DRILLS="reload soak" for some.

DRILLS      ?=

drills: modules $(TOOLS)
	@FW_MODDIR=$(MODDIR) tools/drill --short $(DRILLS)

drills-long: modules $(TOOLS)
	@FW_MODDIR=$(MODDIR) tools/drill --long $(DRILLS)

lint:
	@tools/check-style

clean:
	rm -rf build build-asan t/servroot*
