# fhirwall audit: the verifier CLI, $(BUILD)/tools/fw-audit-verify

# this file is included before "all:" in the top Makefile: keep "all" the
# default goal
.DEFAULT_GOAL := all

AUDIT_CORE   := $(filter-out modules/audit/ngx_%,$(wildcard modules/audit/*.c))
AUDIT_VERIFY := $(BUILD)/tools/fw-audit-verify

$(AUDIT_VERIFY): tools/audit/fw-audit-verify.c $(AUDIT_CORE) \
                 $(wildcard modules/audit/*.h) $(CORE_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) $(UNIT_SAN) -Icommon -Imodules/audit -o $@ \
	    tools/audit/fw-audit-verify.c $(AUDIT_CORE) \
	    $(filter-out common/ngx_%,$(wildcard common/*.c)) -lcrypto

TOOLS += $(AUDIT_VERIFY)

# the verifier's fuzz harness: an explicit rule, because the generic one in
# the top Makefile filters with "modules/%/ngx_%" (two "%": nothing is
# filtered) and would link the nginx glue
$(BUILD)/fuzz/audit_verify_fuzz: fuzz/audit_verify_fuzz.c $(AUDIT_CORE) \
                                 $(wildcard modules/audit/*.h) $(CORE_COMMON)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
	    -Imodules/audit -o $@ $< $(AUDIT_CORE) $(CORE_COMMON) \
	    -lcrypto -ljansson -lm
