# fhirwall JWT: the token-minting CLI the tests and the demo use.

# (rules here would otherwise become the default goal of the top Makefile)
.DEFAULT_GOAL := all

FW_JWT_MINT := $(BUILD)/tools/fw-jwt-mint

$(FW_JWT_MINT): tools/jwt/fw-jwt-mint.c common/fw_codec.c common/fw_codec.h
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) -Icommon -o $@ tools/jwt/fw-jwt-mint.c \
	    common/fw_codec.c -ljwt -ljansson -lcrypto

TOOLS += $(FW_JWT_MINT)

# The generic fuzz rule of the top Makefile filters out the nginx glue with
# "modules/%/ngx_%", which make cannot match (two %): this explicit rule
# links the harness with the plain-C core only.
FW_JWT_CORE := $(filter-out modules/jwt/ngx_%,$(wildcard modules/jwt/*.c))

$(BUILD)/fuzz/jwt_token_fuzz: fuzz/jwt_token_fuzz.c $(FW_JWT_CORE) \
                              modules/jwt/fw_jwt.h common/fw_codec.c \
                              common/fw_error.c
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
	    -Imodules/jwt -o $@ fuzz/jwt_token_fuzz.c $(FW_JWT_CORE) \
	    common/fw_codec.c common/fw_error.c -lcrypto -ljansson -lm
