/*
 * prepare_vector: prints ums_prepare() of the cross-language request as one
 * JSON line. scripts/cross-language-check compares it with what the Python,
 * PHP and Java bindings print for the same request, clock and nonce.
 */
#include <stdio.h>

#include "ums.h"

int main(void) {
    const char *config =
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"10037e6f66f2d0f901672aa27d690006\","
        "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"}";
    const char *request =
        "{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"31940000000000000000000001\","
        "\"billDate\":\"2026-01-02\",\"totalAmount\":\"26\",\"goods\":\"[{\\\"goodsId\\\":\\\"001\\\","
        "\\\"goodsName\\\":\\\"鸡蛋\\\",\\\"quantity\\\":\\\"10\\\",\\\"price\\\":\\\"1\\\"}]\",\"name\":\"张*三\"}";
    char out[8192];
    size_t len = 0;
    UmsClient *client = NULL;
    if (ums_client_new(config, &client, out, sizeof out, &len) != UMS_OK) {
        fprintf(stderr, "ums_client_new: %s\n", out);
        return 1;
    }
    UmsStatus s = ums_prepare(client, "update-qrcode", request, "20260102030405",
                              "0123456789abcdef0123456789abcdef", out, sizeof out, &len);
    ums_client_free(client);
    if (s != UMS_OK) {
        fprintf(stderr, "ums_prepare: %s: %s\n", ums_status_str(s), out);
        return 1;
    }
    printf("%s\n", out);
    return 0;
}
