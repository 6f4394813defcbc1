# FHIR module: the resource type table is generated from the shared type
# lists when they are there (CI: ../shared beside the checkout) and the
# generated file is committed, so that a build without them works too.

# the top Makefile includes this before its first target: keep "all" the
# default goal
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

FHIR_DATA ?= $(firstword $(wildcard $(ROOT)/../shared/data/fhir \
                                    $(ROOT)/../../shared/data/fhir))

ifneq ($(wildcard $(FHIR_DATA)/r4-resource-types.txt),)
modules/fhir/fw_fhir_types.c: modules/fhir/gen-types.sh \
        $(wildcard $(FHIR_DATA)/*-resource-types.txt)
	sh modules/fhir/gen-types.sh $(FHIR_DATA) > $@.tmp && mv $@.tmp $@
endif

.PHONY: fhir-types
fhir-types: modules/fhir/fw_fhir_types.c

# libFuzzer harnesses of the FHIR core.  The generic rule of the top
# Makefile links modules/fhir/ngx_*.c too ("filter-out modules/%/ngx_%"
# has two wildcards, so it removes nothing); this more specific pattern
# takes precedence and links the plain-C core only.
FHIR_CORE := $(filter-out modules/fhir/ngx_%,$(wildcard modules/fhir/*.c))

$(BUILD)/fuzz/fhir_%_fuzz: fuzz/fhir_%_fuzz.c $(FHIR_CORE) \
        $(wildcard modules/fhir/*.h common/*.[ch])
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
	    -Imodules/fhir -o $@ $< \
	    $(filter-out common/ngx_%,$(wildcard common/*.c)) $(FHIR_CORE) \
	    -lcrypto -ljansson -lm
