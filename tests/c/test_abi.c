/*
 * C tests of the libums ABI conventions, run against the ums-sandbox
 * simulator (a separate process started by support.h, with its public demo
 * credentials). Built and run by `make test-c`, also under valgrind
 * (`make test-c-valgrind`) and AddressSanitizer (`make test-c-asan`).
 *
 * Prints "N passed, N failed" and exits non-zero on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ums.h"
#include "check.h"
#include "support.h"

/* The simulator with the demo app; the same in token mode (set in main). */
static char DEMO_CONFIG[1024], TOKEN_CONFIG[1024];

static char out[16384];
static size_t out_len;

static UmsClient *new_client(const char *config) {
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new(config, &client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && client != NULL, "ums_client_new(%s): %d %s", config, s, out);
    return client;
}

/* A bill number unique to this run: 3194 + time + counter. */
static void fresh_bill_no(char *buf, size_t cap) {
    static unsigned counter = 0;
    snprintf(buf, cap, "3194%lld%04u", (long long)time(NULL), counter++);
}

static void update_request(char *buf, size_t cap, const char *bill_no, const char *extra) {
    snprintf(buf, cap,
             "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"instMid\":\"QRPAYDEFAULT\","
             "\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"%s\",\"billDate\":\"%s\","
             "\"totalAmount\":\"26\"%s}",
             bill_no, today(), extra);
}

static void test_version_and_status_strings(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", UMS_VERSION_MAJOR, UMS_VERSION_MINOR, UMS_VERSION_PATCH);
    CHECK(strcmp(ums_version(), expected) == 0, "version %s != header %s", ums_version(), expected);
    CHECK(UMS_OK == 0, "UMS_OK must be 0");
    CHECK(strcmp(ums_status_str(UMS_OK), "success") == 0, "status_str(OK) = %s", ums_status_str(UMS_OK));
    CHECK(strstr(ums_status_str(UMS_ERR_OUTCOME_UNKNOWN), "unknown") != NULL, "status_str(unknown)");
    CHECK(ums_status_str(-12345) != NULL, "status_str of an unknown value must not be NULL");
}

static void test_null_pointers(UmsClient *client) {
    UmsClient *c = (UmsClient *)1;
    CHECK(ums_client_new(NULL, &c, out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER && c == NULL,
          "client_new(NULL config)");
    CHECK(strstr(out, "config_json") != NULL, "error names the argument: %s", out);
    CHECK(ums_client_new(DEMO_CONFIG, NULL, out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER, "NULL out_client");
    CHECK(ums_client_new(DEMO_CONFIG, &c, out, sizeof out, NULL) == UMS_ERR_NULL_POINTER, "NULL out_len");
    CHECK(ums_client_new(DEMO_CONFIG, &c, NULL, 10, &out_len) == UMS_ERR_NULL_POINTER, "NULL out_buf, cap 10");
    CHECK(ums_update_qrcode(NULL, "{}", out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER, "NULL client");
    CHECK(ums_update_qrcode(client, NULL, out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER, "NULL request");
    CHECK(ums_call(client, NULL, "{}", out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER, "NULL path");
    CHECK(ums_verify_notify(NULL, (const uint8_t *)"a=b", 3, out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER,
          "NULL notify key");
    CHECK(ums_verify_notify("k", NULL, 3, out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER, "NULL body");
    CHECK(ums_sign_body(NULL, (const uint8_t *)"{}", 2, NULL, NULL, out, sizeof out, &out_len) == UMS_ERR_NULL_POINTER,
          "NULL client for sign");
    ums_client_free(NULL); /* a no-op */
    passed++;
}

static void test_invalid_utf8_and_json(UmsClient *client) {
    const char bad_utf8[] = {'{', '"', (char)0xff, '"', ':', '1', '}', 0};
    UmsClient *c = NULL;
    CHECK(ums_client_new(bad_utf8, &c, out, sizeof out, &out_len) == UMS_ERR_INVALID_UTF8, "config utf8");
    CHECK(ums_update_qrcode(client, bad_utf8, out, sizeof out, &out_len) == UMS_ERR_INVALID_UTF8, "request utf8: %s",
          out);
    CHECK(ums_update_qrcode(client, "{\"qrCodeId\":", out, sizeof out, &out_len) == UMS_ERR_INVALID_JSON,
          "truncated JSON: %s", out);
    CHECK(ums_update_qrcode(client, "[1,2]", out, sizeof out, &out_len) == UMS_ERR_INVALID_JSON, "array JSON");
    CHECK(ums_client_new("{\"appId\":", &c, out, sizeof out, &out_len) == UMS_ERR_INVALID_JSON, "config JSON");
    CHECK(ums_client_new("{\"enviroment\":\"test\"}", &c, out, sizeof out, &out_len) == UMS_ERR_CONFIG &&
              strstr(out, "\"field\":\"enviroment\"") != NULL,
          "unknown config key named: %s", out);
    CHECK(ums_call(client, "/v2/../x", "{}", out, sizeof out, &out_len) == UMS_ERR_INVALID_ARGUMENT, "bad path");

    /* No default gateway, no built-in simulator, no demo credentials: the
       environment, appId and appKey must be given. */
    c = (UmsClient *)1;
    CHECK(ums_client_new("{}", &c, out, sizeof out, &out_len) == UMS_ERR_CONFIG && c == NULL &&
              strstr(out, "\"field\":\"") != NULL,
          "{} is a config error: %s", out);
    CHECK(ums_client_new("{\"appId\":\"a\",\"appKey\":\"k\"}", &c, out, sizeof out, &out_len) == UMS_ERR_CONFIG &&
              strstr(out, "\"field\":\"environment\"") != NULL,
          "environment is required: %s", out);
    CHECK(ums_client_new("{\"environment\":\"sandbox\",\"appId\":\"a\",\"appKey\":\"k\"}", &c, out, sizeof out,
                         &out_len) == UMS_ERR_CONFIG &&
              strstr(out, "\"field\":\"environment\"") != NULL,
          "\"sandbox\" is no environment: %s", out);
    char partial[1024];
    snprintf(partial, sizeof partial, "{\"environment\":\"%s\",\"appKey\":\"k\"}", sandbox.url);
    CHECK(ums_client_new(partial, &c, out, sizeof out, &out_len) == UMS_ERR_CONFIG &&
              strstr(out, "\"field\":\"appId\"") != NULL,
          "appId is required: %s", out);
    snprintf(partial, sizeof partial, "{\"environment\":\"%s\",\"appId\":\"a\"}", sandbox.url);
    CHECK(ums_client_new(partial, &c, out, sizeof out, &out_len) == UMS_ERR_CONFIG &&
              strstr(out, "\"field\":\"appKey\"") != NULL,
          "appKey is required: %s", out);
}

static void test_validation_error_names_field(UmsClient *client) {
    char req[1024];
    update_request(req, sizeof req, "31940001", ",\"walletOption\":\"TRIPLE\"");
    UmsStatus s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_VALIDATION, "validation status %d", s);
    CHECK(strstr(out, "\"field\":\"walletOption\"") != NULL && strstr(out, "SINGLE") != NULL,
          "error names field and rule: %s", out);
    CHECK(strstr(out, "\"nothingSent\":true") != NULL, "validation sends nothing: %s", out);
    snprintf(req, sizeof req,
             "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"qrCodeId\":\"31942002267733902130410550\","
             "\"totalAmount\":\"12.5\"}");
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_VALIDATION && strstr(out, "\"field\":\"totalAmount\"") != NULL, "amount: %s", out);

    /* A key given twice would silently pick one amount: refused, named. */
    update_request(req, sizeof req, "31940001", ",\"totalAmount\":\"2600\"");
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_INVALID_JSON && strstr(out, "\"field\":\"totalAmount\"") != NULL, "repeated key: %s", out);
}

static void test_success_and_gateway_rejection(UmsClient *client) {
    char bill[32], req[1024];
    fresh_bill_no(bill, sizeof bill);
    update_request(req, sizeof req, bill, "");
    UmsStatus s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "update: %d %s", s, out);
    CHECK(strstr(out, "\"errCode\":\"SUCCESS\"") != NULL && strstr(out, "billQRCode") != NULL, "answer: %s", out);
    CHECK(out_len == strlen(out), "out_len %zu matches the document", out_len);

    /* The same billNo again: the gateway answers DUP_ORDER, kept in the document. */
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_GATEWAY_REJECTED, "duplicate: %d %s", s, out);
    CHECK(strstr(out, "\"errCode\":\"DUP_ORDER\"") != NULL && strstr(out, "\"httpStatus\":200") != NULL,
          "rejection carries errCode and HTTP status: %s", out);
    CHECK(strstr(out, "\"outcomeUnknown\":false") != NULL, "rejection is a known outcome: %s", out);

    update_request(req, sizeof req, "31940002", "");
    char *p = strstr(req, "31942002267733902130410550");
    memcpy(p, "31949999999999999999999999", 26);
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_GATEWAY_REJECTED && strstr(out, "NO_ORDER") != NULL, "unknown code: %s", out);
}

static void test_small_buffer_keeps_the_answer(UmsClient *client) {
    char bill[32], req[1024], tiny[8], note[UMS_MIN_OUT_CAP], id[64];
    fresh_bill_no(bill, sizeof bill);
    update_request(req, sizeof req, bill, "");
    size_t needed = 0;
    /* Below UMS_MIN_OUT_CAP: nothing is sent. */
    UmsStatus s = ums_update_qrcode(client, req, tiny, sizeof tiny, &needed);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && needed == UMS_MIN_OUT_CAP - 1 && tiny[0] == '\0',
          "tiny buffer: %d %zu", s, needed);

    /* Room for the note but not the answer: sent, kept under an answerId. */
    s = ums_update_qrcode(client, req, note, sizeof note, &needed);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && needed >= sizeof note, "kept: %d %zu %s", s, needed, note);
    const char *at = strstr(note, "\"answerId\":\"");
    CHECK(at != NULL && strstr(note, "\"answerStatus\":\"UMS_OK\"") != NULL, "note names the answer: %s", note);
    snprintf(id, sizeof id, "%.32s", at ? at + 12 : "");

    /* Taken by its id: the answer of that call; nothing sent again (a
       resend of this billNo would be DUP_ORDER). */
    char *big = malloc(needed + 1);
    size_t got = 0;
    s = ums_take_answer(client, id, big, needed + 1, &got);
    CHECK(s == UMS_OK && got == needed, "take: %d %zu %s", s, got, big);
    CHECK(strstr(big, "\"errCode\":\"SUCCESS\"") != NULL && strstr(big, bill) != NULL, "kept answer is the success: %s",
          big);
    s = ums_take_answer(client, id, big, needed + 1, &got);
    CHECK(s == UMS_ERR_ANSWER_GONE, "taken once: %d %s", s, big);
    free(big);

    /* Calling the operation again sends a new request: here a duplicate. */
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_GATEWAY_REJECTED && strstr(out, "DUP_ORDER") != NULL, "a new call is a new request: %d %s", s,
          out);

    /* Size query with a NULL buffer and zero capacity is allowed (local). */
    s = ums_verify_notify("k", (const uint8_t *)"a=1", 3, NULL, 0, &needed);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && needed > 0, "size query: %d %zu", s, needed);
    char mid[64];
    s = ums_verify_notify("k", (const uint8_t *)"a=1", 3, mid, 30, &needed);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && mid[0] == '\0', "no room for the short note: %s", mid);
    s = ums_verify_notify("k", (const uint8_t *)"a=1", 3, mid, sizeof mid, &needed);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && strstr(mid, "\"needed\"") != NULL, "short note: %s", mid);
}

static void test_token_mode(void) {
    UmsClient *client = new_client(TOKEN_CONFIG);
    if (client == NULL) return;
    for (int i = 0; i < 3; i++) {
        char bill[32], req[1024];
        fresh_bill_no(bill, sizeof bill);
        snprintf(req, sizeof req,
                 "{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"%s\",\"billDate\":\"%s\","
                 "\"totalAmount\":100}",
                 bill, today());
        UmsStatus s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
        CHECK(s == UMS_OK && strstr(out, "SUCCESS") != NULL, "token-mode update %d: %d %s", i, s, out);
    }
    ums_client_free(client);
}

static void test_vectors(void) {
    /* vectors.json: third-party Go unit test (OPEN-BODY-SIG). */
    UmsClient *client = new_client(
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"ums-test-app\","
        "\"appKey\":\"8f3a1c6e9b2d4705af81c3e6d29b7f04\"}");
    if (client == NULL) return;
    const char *body = "{\"merOrderId\":\"PAY20260917000000000001\"}";
    UmsStatus s = ums_sign_body(client, (const uint8_t *)body, strlen(body), "20260917102030",
                                "1767225600123456789", out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "sign_body: %d %s", s, out);
    CHECK(strstr(out, "Signature=\\\"DYrvVYK02yaD7KbTH/PhIS9W4LeQq9VrpqNSpYy28xM=\\\"") != NULL, "signature: %s", out);
    CHECK(strstr(out, "OPEN-BODY-SIG AppId=\\\"ums-test-app\\\", Timestamp=\\\"20260917102030\\\", Nonce=") != NULL,
          "canonical header: %s", out);
    s = ums_sign_body(client, (const uint8_t *)body, strlen(body), "2026-09-17", NULL, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_INVALID_ARGUMENT, "bad timestamp: %d", s);
    ums_client_free(client);

    /* vectors.json: official H5 spec notification, SHA256, random key `ns`. */
    const char *key = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR";
    const char *notify =
        "payTime=2022-06-21+17%3A13%3A04&ns=cyuT&connectSys=OPENCHANNEL&sign=714DAF2ACAA090E79B80F843829ED4251652742DDC44"
        "BF596EEEA6732D154C62&merName=%E6%B5%8B%E8%AF%95%E9%80%80%E8%B4%A75%281111%29&mid=898340149000005&invoiceAmount"
        "=1&settleDate=2022-06-21&billFunds=%E7%8E%B0%E9%87%91%E6%94%AF%E4%BB%980.01%E5%85%83%E3%80%82&buyerId=o8wNP0Rt"
        "DiUq4NzMZyAGK5psp6hs&mchntUuid=4aa8728a06a04f7385869df8b659cd01&tid=88880001&instMid=YUEDANDEFAULT&receiptAmou"
        "nt=1&targetOrderId=4200001471202206211141496123&signType=SHA256&orderDesc=%E6%B5%8B%E8%AF%95%E9%80%80%E8%B4%A7"
        "5%281111%29&seqId=01120706230N&merOrderId=3194278460076848369664&targetSys=WXPay&totalAmount=1&createTime=2022-"
        "06-21+17%3A12%3A53&buyerPayAmount=1&notifyId=e82a0275-f767-4f77-90c2-614c91222275&subInst=000100&status=TRADE_"
        "SUCCESS";
    s = ums_verify_notify(key, (const uint8_t *)notify, strlen(notify), out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, "\"signType\":\"SHA256\"") != NULL, "notify: %d %s", s, out);
    CHECK(strstr(out, "\"notifyId\":\"e82a0275-f767-4f77-90c2-614c91222275\"") != NULL, "notifyId: %s", out);

    char *tampered = strdup(notify);
    char *amount = strstr(tampered, "totalAmount=1&");
    amount[12] = '2';
    s = ums_verify_notify(key, (const uint8_t *)tampered, strlen(tampered), out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NOTIFY_BAD_SIGNATURE, "tampered amount: %d %s", s, out);
    CHECK(strstr(out, key) == NULL, "the key never appears in the error");
    free(tampered);

    s = ums_verify_notify(key, (const uint8_t *)"a=1&b", 5, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NOTIFY_MALFORMED, "not a form: %d", s);
    s = ums_verify_notify(key, (const uint8_t *)"a=1", 3, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NOTIFY_MISSING_SIGN, "no sign: %d", s);
    s = ums_verify_notify(key, (const uint8_t *)"a=1&a=2&sign=x", 14, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NOTIFY_DUPLICATE_FIELD, "repeated: %d", s);
    s = ums_verify_notify(key, (const uint8_t *)"signType=RSA&sign=x", 19, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE, "sign type: %d", s);
    const char with_nul[] = "a=1\0&sign=x";
    s = ums_verify_notify(key, (const uint8_t *)with_nul, sizeof with_nul - 1, out, sizeof out, &out_len);
    CHECK(s != UMS_OK, "embedded NUL is not a valid notification: %d", s);

    /* The client's own key and policy (the simulator's demo notifyKey is this
       vector's key). */
    char sha_only_config[1024];
    demo_config(sha_only_config, sizeof sha_only_config, ",\"notifySignTypes\":[\"SHA256\"]");
    UmsClient *demo = new_client(DEMO_CONFIG);
    UmsClient *sha_only = new_client(sha_only_config);
    UmsClient *keyless = new_client("{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\"}");
    if (demo && sha_only && keyless) {
        s = ums_client_verify_notify(demo, (const uint8_t *)notify, strlen(notify), out, sizeof out, &out_len);
        CHECK(s == UMS_OK && strstr(out, "\"notifyId\":\"e82a0275-f767-4f77-90c2-614c91222275\"") != NULL,
              "client verify: %d %s", s, out);
        s = ums_client_verify_notify(sha_only, (const uint8_t *)notify, strlen(notify), out, sizeof out, &out_len);
        CHECK(s == UMS_OK, "SHA256 accepted by a SHA256-only client: %d %s", s, out);
        const char *md5 = "a=1&signType=MD5&sign=00000000000000000000000000000000";
        s = ums_client_verify_notify(demo, (const uint8_t *)md5, strlen(md5), out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_BAD_SIGNATURE, "MD5 checked by default: %d %s", s, out);
        s = ums_client_verify_notify(sha_only, (const uint8_t *)md5, strlen(md5), out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE, "MD5 refused by notifySignTypes [SHA256]: %d %s", s, out);
        s = ums_client_verify_notify(sha_only, (const uint8_t *)"a=1&sign=00", 11, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE, "no signType means MD5, refused: %d %s", s, out);
        s = ums_client_verify_notify(keyless, (const uint8_t *)notify, strlen(notify), out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_CONFIG && strstr(out, "\"field\":\"notifyKey\"") != NULL, "no notifyKey: %d %s", s, out);
        s = ums_client_verify_notify(NULL, (const uint8_t *)notify, strlen(notify), out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NULL_POINTER, "NULL client: %d", s);
        s = ums_client_verify_notify(demo, NULL, 3, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NULL_POINTER, "NULL body: %d", s);
        s = ums_client_verify_notify(demo, (const uint8_t *)notify, strlen(notify), NULL, 0, &out_len);
        CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && out_len > 0, "size query: %d %zu", s, out_len);
        CHECK(strstr(out, key) == NULL, "the key never appears");
    }
    ums_client_free(demo);
    ums_client_free(sha_only);
    ums_client_free(keyless);
}

static char log_text[16384];
static int log_lines = 0;

static void collect_log(void *userdata, int32_t level, const char *message) {
    int *calls = userdata;
    (*calls)++;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%d %s\n", level, message);
    log_lines++;
}

static void test_log_callback_never_shows_secrets(UmsClient *client) {
    int calls = 0;
    CHECK(ums_set_log_callback(collect_log, &calls, 99) == UMS_ERR_INVALID_ARGUMENT, "bad level");
    CHECK(ums_set_log_callback(collect_log, &calls, UMS_LOG_DEBUG) == UMS_OK, "install");
    char bill[32], req[1024];
    fresh_bill_no(bill, sizeof bill);
    update_request(req, sizeof req, bill, ",\"name\":\"Zhang San\",\"certNo\":\"110101199003079008\"");
    UmsStatus s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "logged update: %d %s", s, out);
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len); /* duplicate: a warning */
    CHECK(s == UMS_ERR_GATEWAY_REJECTED, "duplicate: %d", s);
    CHECK(ums_set_log_callback(NULL, NULL, 0) == UMS_OK, "remove");
    fresh_bill_no(bill, sizeof bill);
    update_request(req, sizeof req, bill, "");
    ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(calls == log_lines && calls >= 3, "callback called per message, not after removal: %d", calls);
    CHECK(strstr(log_text, "/v1/netpay/bills/update-qrcode") != NULL, "log names the path: %s", log_text);
    CHECK(strstr(log_text, "DUP_ORDER") != NULL, "log has the errCode: %s", log_text);
    CHECK(strstr(log_text, "47ace12ae3b348fe93ab46cee97c6fde") == NULL, "no app key in the log");
    CHECK(strstr(log_text, "Zhang") == NULL && strstr(log_text, "WmhhbmcgU2Fu") == NULL, "no name in the log");
    CHECK(strstr(log_text, "110101199003079008") == NULL, "no certNo in the log");
    CHECK(strstr(log_text, "Signature") == NULL, "no signature in the log");
}

/* A callback that calls back into the library on its first invocation:
   re-installs itself and runs an operation. The library runs the callback
   with no lock held, so the outer call completes (no deadlock). */
struct reentry {
    UmsClient *client;
    int calls;
    int nested_done;
    UmsStatus install_status;
    UmsStatus nested_status;
    char nested_out[4096];
};

static void reentrant_log(void *userdata, int32_t level, const char *message) {
    struct reentry *r = userdata;
    (void)level;
    (void)message;
    if (r->calls++ > 0) return; /* only the first invocation re-enters */
    r->install_status = ums_set_log_callback(reentrant_log, r, UMS_LOG_DEBUG);
    size_t len = 0;
    r->nested_status = ums_query_bill(r->client, "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"billNo\":\"31940001\",\"billDate\":\"2026-01-02\"}", r->nested_out,
                                      sizeof r->nested_out, &len);
    r->nested_done = 1;
}

static void test_log_callback_may_reenter(UmsClient *client) {
    struct reentry r;
    memset(&r, 0, sizeof r);
    r.client = client;
    r.install_status = -1;
    r.nested_status = -1;
    CHECK(ums_set_log_callback(reentrant_log, &r, UMS_LOG_DEBUG) == UMS_OK, "install");
    char req[256];
    snprintf(req, sizeof req, "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"billNo\":\"31940002\",\"billDate\":\"%s\"}", today());
    UmsStatus s = ums_query_bill(client, req, out, sizeof out, &out_len);
    CHECK(ums_set_log_callback(NULL, NULL, 0) == UMS_OK, "remove");
    CHECK(s == UMS_OK || s == UMS_ERR_GATEWAY_REJECTED, "the outer call completed: %d %s", s, out);
    CHECK(r.nested_done && r.install_status == UMS_OK, "the callback re-installed itself: %d", r.install_status);
    CHECK(r.nested_status == UMS_OK || r.nested_status == UMS_ERR_GATEWAY_REJECTED,
          "the operation inside the callback completed: %d %s", r.nested_status, r.nested_out);
    CHECK(r.calls > 1, "the callback kept receiving messages after re-installing itself: %d", r.calls);
}

int main(void) {
    sandbox_start();
    demo_config(DEMO_CONFIG, sizeof DEMO_CONFIG, "");
    demo_config(TOKEN_CONFIG, sizeof TOKEN_CONFIG, ",\"auth\":\"token\",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\"");
    test_version_and_status_strings();
    UmsClient *client = new_client(DEMO_CONFIG);
    if (client == NULL) {
        fprintf(stderr, "cannot create the demo client\n");
        return 1;
    }
    test_null_pointers(client);
    test_invalid_utf8_and_json(client);
    test_validation_error_names_field(client);
    test_success_and_gateway_rejection(client);
    test_small_buffer_keeps_the_answer(client);
    test_log_callback_never_shows_secrets(client);
    test_log_callback_may_reenter(client);
    ums_client_free(client);
    test_token_mode();
    test_vectors();
    return CHECK_SUMMARY();
}
