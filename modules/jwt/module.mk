# fhirwall JWT: the token-minting CLI the tests and the demo use.

FW_JWT_MINT := $(BUILD)/tools/fw-jwt-mint

$(FW_JWT_MINT): tools/jwt/fw-jwt-mint.c common/fw_codec.c common/fw_codec.h
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) -Icommon -o $@ tools/jwt/fw-jwt-mint.c \
	    common/fw_codec.c -ljwt -ljansson -lcrypto

TOOLS += $(FW_JWT_MINT)
