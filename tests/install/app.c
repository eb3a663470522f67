/*
 * app: the installed libums from outside the repository (tests/install/run.sh).
 *
 *   app BASE_URL
 *
 * Creates a client for the ums-sandbox simulator at BASE_URL (its public demo
 * app, not secrets), takes a fresh billNo from ums_new_id and updates the doc
 * page's seed QR code with it (ums_update_qrcode). Exits 0 only on UMS_OK.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ums.h>

#define DEMO_APP_ID "10037e6f66f2d0f901672aa27d690006"
#define DEMO_APP_KEY "47ace12ae3b348fe93ab46cee97c6fde"

/* Beijing time (UTC+8, no DST) `days` days from now. */
static void beijing_time(char *out, size_t cap, const char *fmt, int days) {
    time_t t = time(NULL) + 8 * 3600 + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, fmt, &tm);
}

int main(int argc, char **argv) {
    if (argc != 2 || strchr(argv[1], '"') != NULL || strchr(argv[1], '\\') != NULL) {
        fprintf(stderr, "usage: app BASE_URL\n");
        return 2;
    }
    char config[512];
    snprintf(config, sizeof config,
             "{\"environment\":\"%s\",\"appId\":\"" DEMO_APP_ID "\",\"appKey\":\"" DEMO_APP_KEY
             "\",\"msgSrcId\":\"3194\"}",
             argv[1]);

    char out[8192];
    size_t out_len = 0;
    UmsClient *client = NULL;
    UmsStatus status = ums_client_new(config, &client, out, sizeof out, &out_len);
    if (status != UMS_OK) {
        fprintf(stderr, "ums_client_new: %s: %s\n", ums_status_str(status), out);
        return 1;
    }

    /* {"id":"3194..."}: 28 characters after the msgSrcId check. */
    char bill_no[64] = {0};
    status = ums_new_id(client, out, sizeof out, &out_len);
    const char *at = status == UMS_OK ? strstr(out, "\"id\":\"") : NULL;
    const char *end = at != NULL ? strchr(at + 6, '"') : NULL;
    if (end == NULL || (size_t)(end - (at + 6)) >= sizeof bill_no) {
        fprintf(stderr, "ums_new_id: %s: %s\n", ums_status_str(status), out);
        ums_client_free(client);
        return 1;
    }
    memcpy(bill_no, at + 6, (size_t)(end - (at + 6)));

    char bill_date[16], expire_time[32];
    beijing_time(bill_date, sizeof bill_date, "%Y-%m-%d", 0);
    beijing_time(expire_time, sizeof expire_time, "%Y-%m-%d %H:%M:%S", 1);

    char request[1024];
    snprintf(request, sizeof request,
             "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"instMid\":\"QRPAYDEFAULT\","
             "\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"%s\",\"billDate\":\"%s\","
             "\"billDesc\":\"installed libums\",\"totalAmount\":\"26\",\"expireTime\":\"%s\"}",
             bill_no, bill_date, expire_time);

    status = ums_update_qrcode(client, request, out, sizeof out, &out_len);
    printf("libums %s, billNo %s: update-qrcode %s\n", ums_version(), bill_no, ums_status_str(status));
    if (status != UMS_OK)
        fprintf(stderr, "%s\n", out);
    ums_client_free(client);
    return status == UMS_OK ? 0 : 1;
}
