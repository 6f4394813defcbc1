# fhirwall audit: the verifier CLI, $(BUILD)/tools/fw-audit-verify

AUDIT_CORE   := $(filter-out modules/audit/ngx_%,$(wildcard modules/audit/*.c))
AUDIT_VERIFY := $(BUILD)/tools/fw-audit-verify

$(AUDIT_VERIFY): tools/audit/fw-audit-verify.c $(AUDIT_CORE) \
                 $(wildcard modules/audit/*.h) $(CORE_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) $(UNIT_SAN) -Icommon -Imodules/audit -o $@ \
	    tools/audit/fw-audit-verify.c $(AUDIT_CORE) \
	    $(CORE_COMMON) -lcrypto

TOOLS += $(AUDIT_VERIFY)

# the redaction hash of an identifier, $(BUILD)/tools/fw-audit-hash
AUDIT_HASH   := $(BUILD)/tools/fw-audit-hash

$(AUDIT_HASH): tools/audit/fw-audit-hash.c $(AUDIT_CORE) \
               $(wildcard modules/audit/*.h) $(CORE_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) $(UNIT_SAN) -Icommon -Imodules/audit -o $@ \
	    tools/audit/fw-audit-hash.c $(AUDIT_CORE) \
	    $(CORE_COMMON) -lcrypto

TOOLS += $(AUDIT_HASH)
