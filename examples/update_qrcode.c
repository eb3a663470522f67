/*
 * update_qrcode: replays the update-qrcode request of the ChinaUMS doc page
 * through libums and prints the gateway's answer.
 *
 *   update_qrcode BASE_URL
 *
 * BASE_URL is the gateway simulator's, as `ums-sandbox --port 0` prints it
 * (`ums-sandbox listening on http://127.0.0.1:PORT`); `make demo` starts the
 * simulator and passes it. The client uses the simulator's public demo app
 * (appId and appKey printed in its banner, not secrets); against a real
 * gateway ("environment":"test" or "production") you would put your own
 * appId and appKey there. The request is the doc page's sample made valid: real JSON
 * (the page's samples do not compile), fresh dates, and installmentNumber
 * "12" (the page's "10" breaks its own rule: 3, 6 or 12). requestTimestamp
 * is left out: the library fills it in Beijing time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ums.h"

/* Beijing time (UTC+8, no DST) `days` days from now, formatted with `fmt`. */
static void beijing_time(char *out, size_t cap, const char *fmt, int days) {
    time_t t = time(NULL) + 8 * 3600 + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, fmt, &tm);
}

/* The ums-sandbox simulator's public demo app: printed in its banner, known
   to everyone, accepted only by the simulator. Not secrets. */
#define DEMO_APP_ID "10037e6f66f2d0f901672aa27d690006"
#define DEMO_APP_KEY "47ace12ae3b348fe93ab46cee97c6fde"

int main(int argc, char **argv) {
    if (argc != 2 || strchr(argv[1], '"') != NULL || strchr(argv[1], '\\') != NULL) {
        fprintf(stderr,
                "usage: update_qrcode BASE_URL\n"
                "  BASE_URL: the simulator's, e.g. http://127.0.0.1:8765 (`ums-sandbox --port 0` prints it)\n");
        return 2;
    }
    char config[512];
    snprintf(config, sizeof config,
             "{\"environment\":\"%s\",\"appId\":\"" DEMO_APP_ID "\",\"appKey\":\"" DEMO_APP_KEY "\"}", argv[1]);
    printf("gateway %s, with the public demo app of ums-sandbox (appId %s, appKey %s: not secrets)\n", argv[1],
           DEMO_APP_ID, DEMO_APP_KEY);

    char bill_date[16], expire_time[32];
    beijing_time(bill_date, sizeof bill_date, "%Y-%m-%d", 0);
    beijing_time(expire_time, sizeof expire_time, "%Y-%m-%d %H:%M:%S", 1);

    char request[4096];
    snprintf(request, sizeof request,
             "{\"subMchntInfo\":\"\","
             "\"mid\":\"898340149000005\","
             "\"tid\":\"00000001\","
             "\"instMid\":\"QRPAYDEFAULT\","
             "\"qrCodeId\":\"31942002267733902130410550\","
             "\"msgId\":\"800000000010\","
             "\"srcReserve\":\"test\","
             "\"billNo\":\"8888\","
             "\"billDate\":\"%s\","
             "\"billDesc\":\"updateQRCode\","
             "\"totalAmount\":\"26\","
             "\"goods\":\"[{\\\"goodsId\\\":\\\"001\\\",\\\"goodsName\\\":\\\"鸡蛋\\\",\\\"quantity\\\":\\\"10\\\","
             "\\\"price\\\":\\\"1\\\",\\\"goodsCategory\\\":\\\"food meterial\\\",\\\"body\\\":\\\"two eggs\\\"}]\","
             "\"memberId\":\"20200226001\","
             "\"counterNo\":\"06\","
             "\"expireTime\":\"%s\","
             "\"notifyUrl\":\"http://www.test.com/notify\","
             "\"returnUrl\":\"http://www.test.com/return\","
             "\"systemId\":\"31942002267733902130410550\","
             "\"secureTransaction\":\"false\","
             "\"walletOption\":\"SINGLE\","
             "\"name\":\"张*三\","
             "\"mobile\":\"131****3453\","
             "\"certType\":\"IDENTITY_CARD\","
             "\"certNo\":\"110101********9008\","
             "\"fixBuyer\":\"false\","
             "\"preauthTransaction\":\"false\","
             "\"installmentNumber\":\"12\","
             "\"retCommParams\":\"{\\\"foodOrderType\\\":\\\"pre_order\\\",\\\"brandId\\\":\\\"3421234\\\","
             "\\\"storeId\\\":\\\"2412343\\\",\\\"tableNo\\\":\\\"341\\\",\\\"parkId\\\":\\\"\\\",\\\"vehicleNo\\\":\\\"\\\"}\","
             "\"attachedData\":\"test\","
             "\"clientIp\":\"1.1.1.1\","
             "\"isEfrcPs\":\"\","
             "\"psPpt\":\"\"}",
             bill_date, expire_time);

    char out[8192];
    size_t out_len = 0;
    UmsClient *client = NULL;
    UmsStatus status = ums_client_new(config, &client, out, sizeof out, &out_len);
    if (status != UMS_OK) {
        fprintf(stderr, "ums_client_new: %s: %s\n", ums_status_str(status), out);
        return 1;
    }
    printf("libums %s, client %s\n", ums_version(), out);

    status = ums_update_qrcode(client, request, out, sizeof out, &out_len);
    if (status == UMS_ERR_BUFFER_TOO_SMALL) {
        /* The request was sent and the answer is kept for this call only:
           `out` (at least UMS_MIN_OUT_CAP bytes) names it with "answerId".
           Take it by that id; calling ums_update_qrcode again would send a
           new request. */
        char id[33] = {0};
        const char *at = strstr(out, "\"answerId\":\"");
        char *big = malloc(out_len + 1);
        if (at == NULL || big == NULL) {
            free(big);
            ums_client_free(client);
            return 1;
        }
        memcpy(id, at + strlen("\"answerId\":\""), 32);
        status = ums_take_answer(client, id, big, out_len + 1, &out_len);
        printf("%s\n", big);
        free(big);
    } else {
        printf("%s\n", out);
    }
    fprintf(status == UMS_OK ? stdout : stderr, "update-qrcode: %s\n", ums_status_str(status));
    ums_client_free(client);
    return status == UMS_OK ? 0 : 1;
}
