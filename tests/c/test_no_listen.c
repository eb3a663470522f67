/*
 * test_no_listen: libums never listens on a socket.
 *
 * What this guards: before the workspace was split into crates, the library
 * carried the gateway simulator inside itself, and ums_client_new("{}") (or
 * "environment":"sandbox") started that simulator on a listening TCP socket
 * in the caller's process, a server nobody asked for. Now the simulator is
 * the separate ums-sandbox program and a configuration must name its
 * gateway. This test calls every export declared in include/ums.h (the list
 * below is checked against the header, so a new export cannot be missed),
 * the network ones against a ums-sandbox process, in body-sig and token
 * mode, and with the configurations that used to start the embedded
 * simulator. Then it collects the inodes of this process's sockets
 * (/proc/self/fd) and looks them up in /proc/self/net/tcp and tcp6: none may
 * be in the LISTEN state (st 0A). A positive control (a socket this test
 * listens on itself) shows that the scan does find one.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure. Run from
 * the repository root (it reads include/ums.h), by `make test-c`,
 * `make test-c-valgrind` and `make test-c-asan`.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ums.h"
#include "check.h"
#include "support.h"

#define MAX_SOCKETS 1024

static char out[16384];
static size_t out_len;

/* ---- the scan ------------------------------------------------------------ */

/* The inodes of this process's sockets ("socket:[N]" links in /proc/self/fd). */
static size_t own_socket_inodes(unsigned long *inodes, size_t cap) {
    size_t n = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) return 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char path[300], target[128];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len <= 0) continue;
        target[len] = '\0';
        unsigned long inode;
        if (sscanf(target, "socket:[%lu]", &inode) == 1 && n < cap) inodes[n++] = inode;
    }
    closedir(dir);
    return n;
}

/* How many of this process's sockets are TCP sockets in LISTEN state (IPv4
   and IPv6), each printed unless `quiet`; -1 when /proc/self/net/tcp cannot
   be read. */
static int scan(int quiet) {
    static unsigned long inodes[MAX_SOCKETS];
    size_t n = own_socket_inodes(inodes, MAX_SOCKETS);
    static const char *const tables[] = {"/proc/self/net/tcp", "/proc/self/net/tcp6"};
    int found = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        FILE *f = fopen(tables[t], "r");
        if (f == NULL) {
            if (t == 0) return -1; /* tcp6 is absent without IPv6 */
            continue;
        }
        char line[512];
        if (fgets(line, sizeof line, f) == NULL) line[0] = '\0'; /* the column titles */
        while (fgets(line, sizeof line, f) != NULL) {
            /* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
            unsigned int st;
            unsigned long inode;
            if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %*s %*s %lu", &st, &inode) != 2) continue;
            if (st != 0x0A) continue;
            for (size_t i = 0; i < n; i++) {
                if (inodes[i] == inode) {
                    if (!quiet) fprintf(stderr, "listening socket of this process (%s): %s", tables[t], line);
                    found++;
                }
            }
        }
        fclose(f);
    }
    return found;
}

static int listening_sockets(void) { return scan(0); }

/* The scan finds a socket this process listens on, and forgets it once it
   is closed: the check below is not vacuous. */
static void test_scan_finds_a_listener(void) {
    CHECK(listening_sockets() == 0, "no listening socket before the test listens");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 1) == 0,
          "the control socket listens");
    CHECK(scan(1) == 1, "the scan finds the control socket");
    if (fd >= 0) close(fd);
    CHECK(listening_sockets() == 0, "the closed control socket is gone");
}

/* ---- every export ----------------------------------------------------------- */

/* The exports this test calls; test_every_export_is_called() checks it
   against the header. */
static const char *const CALLED[] = {
    "ums_version",          "ums_status_str",       "ums_client_new",        "ums_client_free",
    "ums_update_qrcode",    "ums_call",             "ums_take_answer",       "ums_get_qrcode",
    "ums_close_qrcode",     "ums_query_bill",       "ums_refund",            "ums_query_qrcode_info",
    "ums_preauth_complete", "ums_preauth_cancel",   "ums_secure_cancel",     "ums_secure_complete",
    "ums_prepare",          "ums_new_id",           "ums_notify_reply",      "ums_verify_notify",
    "ums_client_verify_notify", "ums_sign_body",    "ums_token_request",     "ums_set_log_callback",
    "ums_notify_claim",     "ums_notify_release",   "ums_client_new_with_token_store", "ums_resolve",
    "ums_journal_pending",
};

/* Every function declared in include/ums.h is in CALLED (declarations start
   a line; comments in the header never do with a type name). */
static void test_every_export_is_called(void) {
    FILE *f = fopen("include/ums.h", "r");
    CHECK(f != NULL, "include/ums.h readable (run from the repository root)");
    if (f == NULL) return;
    char line[1024];
    int declared = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == ' ' || line[0] == '/' || line[0] == '#' || line[0] == '*') continue;
        const char *p = strstr(line, "ums_");
        const char *paren = p ? strchr(p, '(') : NULL;
        if (p == NULL || paren == NULL || strncmp(line, "typedef", 7) == 0) continue;
        char name[64];
        size_t len = (size_t)(paren - p);
        if (len >= sizeof name) continue;
        memcpy(name, p, len);
        name[len] = '\0';
        declared++;
        int called = 0;
        for (size_t i = 0; i < sizeof CALLED / sizeof CALLED[0]; i++) called |= strcmp(CALLED[i], name) == 0;
        CHECK(called, "%s is declared in include/ums.h but not called by this test", name);
    }
    fclose(f);
    CHECK(declared == (int)(sizeof CALLED / sizeof CALLED[0]), "%d exports declared, %zu called", declared,
          sizeof CALLED / sizeof CALLED[0]);
}

static int log_calls = 0;
static void count_log(void *userdata, int32_t level, const char *message) {
    (void)level;
    (void)message;
    (*(int *)userdata)++;
}

/* Calls one export that sends `path`; the simulator must have received it. */
#define SENT(path, call)                                                                             \
    do {                                                                                             \
        long before_ = sandbox_stat(path);                                                           \
        UmsStatus s_ = (call);                                                                       \
        CHECK(s_ != UMS_ERR_VALIDATION && s_ != UMS_ERR_CONNECT && sandbox_stat(path) == before_ + 1, \
              "%s reached the simulator: %d %s", #call, s_, out);                                    \
    } while (0)

/* A token store of the integrator's: one token in static memory. */
static char stored_token[UMS_TOKEN_MAX_LEN];
static size_t stored_len = 0;
static int64_t stored_until = 0;
static int store_get(void *userdata, char *buf, size_t cap, size_t *len, int64_t *until) {
    (void)userdata;
    if (stored_len == 0 || stored_len > cap) return 1;
    memcpy(buf, stored_token, stored_len);
    *len = stored_len;
    *until = stored_until;
    return 0;
}
static int store_put(void *userdata, const char *token, int64_t until) {
    (void)userdata;
    stored_len = strlen(token) < sizeof stored_token ? strlen(token) : 0;
    memcpy(stored_token, token, stored_len);
    stored_until = until;
    return 0;
}
static int store_invalidate(void *userdata, const char *token) {
    (void)userdata;
    if (stored_len == strlen(token) && memcmp(stored_token, token, stored_len) == 0) stored_len = 0;
    return 0;
}

/* A client with a callback token store in token mode: its call fetches one
   token and puts it in the store; claims and releases stay in memory. */
static void call_store_and_claim_exports(const char *config) {
    UmsTokenStore store = {NULL, store_get, store_put, store_invalidate};
    UmsClient *c = NULL;
    UmsStatus s = ums_client_new_with_token_store(config, &store, &c, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && c != NULL, "ums_client_new_with_token_store: %d %s", s, out);
    if (c == NULL) return;
    SENT("/v1/netpay/bills/get-qrcode", ums_get_qrcode(c, "{}", out, sizeof out, &out_len));
    CHECK(stored_len > 0, "the callback store received the token");
    s = ums_notify_claim(c, "no-listen-1", out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, "\"claimed\":true") != NULL, "ums_notify_claim: %d %s", s, out);
    s = ums_notify_claim(c, "no-listen-1", out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, "\"claimed\":false") != NULL, "second claim: %d %s", s, out);
    s = ums_notify_release(c, "no-listen-1", out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "ums_notify_release: %d %s", s, out);
    CHECK(listening_sockets() == 0, "no listening socket with a callback token store");
    ums_client_free(c);
}

static void call_every_export(const char *config, int token_mode) {
    UmsClient *c = NULL;
    UmsStatus s = ums_client_new(config, &c, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && c != NULL, "ums_client_new: %d %s", s, out);
    if (c == NULL) return;
    char bill[40], req[1024], qr[40] = "", small[UMS_MIN_OUT_CAP], id[40];
    const char *date = today();

    s = ums_new_id(c, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_str(out, "id", bill, sizeof bill), "ums_new_id: %d %s", s, out);
    SENT("/v1/netpay/bills/get-qrcode", ums_get_qrcode(c, "{}", out, sizeof out, &out_len));
    json_str(out, "qrCodeId", qr, sizeof qr);
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"billNo\":\"%s\",\"billDate\":\"%s\",\"totalAmount\":26}", qr,
             bill, date);
    SENT("/v1/netpay/bills/update-qrcode", ums_update_qrcode(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"systemId\":\"%s\"}", qr, qr);
    SENT("/v1/netpay/bills/query-qrcode-info", ums_query_qrcode_info(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req, "{\"billNo\":\"%s\",\"billDate\":\"%s\"}", bill, date);
    SENT("/v1/netpay/bills/query", ums_query_bill(c, req, out, sizeof out, &out_len));
    /* A document too big for UMS_MIN_OUT_CAP: kept, then taken. */
    SENT("/v1/netpay/bills/query", ums_call(c, "/v1/netpay/bills/query", req, small, sizeof small, &out_len));
    CHECK(json_str(small, "answerId", id, sizeof id), "kept answer: %s", small);
    s = ums_take_answer(c, id, out, sizeof out, &out_len);
    CHECK(s == UMS_OK || s == UMS_ERR_GATEWAY_REJECTED, "ums_take_answer: %d %s", s, out);
    snprintf(req, sizeof req,
             "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"refundAmount\":1,\"refundOrderId\":\"%s9\"}", bill, date,
             bill);
    SENT("/v1/netpay/bills/refund", ums_refund(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req,
             "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"authedOrderId\":\"A%s\",\"authIdRespCd\":\"123456\","
             "\"totalAmount\":1,\"authedDesc\":\"no-listen\"}",
             bill, date, bill);
    SENT("/v1/netpay/bills/preauthed", ums_preauth_complete(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req,
             "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"cancelOrderId\":\"C%s\",\"authIdRespCd\":\"123456\"}", bill,
             date, bill);
    SENT("/v1/netpay/bills/preauth-cancel", ums_preauth_cancel(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req, "{\"merOrderId\":\"%s\"}", bill);
    SENT("/v1/netpay/secure-cancel", ums_secure_cancel(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req, "{\"merOrderId\":\"%s\",\"completedAmount\":1}", bill);
    SENT("/v1/netpay/secure-complete", ums_secure_complete(c, req, out, sizeof out, &out_len));
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\"}", qr);
    SENT("/v1/netpay/bills/close-qrcode", ums_close_qrcode(c, req, out, sizeof out, &out_len));
    /* resolve only queries (the bill, then the refund on it). */
    snprintf(req, sizeof req,
             "{\"operation\":\"refund\",\"request\":{\"billNo\":\"%s\",\"billDate\":\"%s\",\"refundAmount\":1,"
             "\"refundOrderId\":\"%s9\",\"requestTimestamp\":\"2020-01-01 00:00:00\"}}",
             bill, date, bill);
    long queries = sandbox_stat("/v1/netpay/bills/query");
    s = ums_resolve(c, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && sandbox_stat("/v1/netpay/bills/query") > queries, "ums_resolve queried: %d %s", s, out);
    s = ums_journal_pending(c, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_CONFIG && strstr(out, "journal") != NULL, "ums_journal_pending without a journal: %d %s", s,
          out);
    if (token_mode) CHECK(sandbox_stat("tokensIssued") > 0, "token mode fetched a token");

    /* The local ones. */
    s = ums_prepare(c, "update-qrcode", "{\"totalAmount\":1}", NULL, NULL, out, sizeof out, &out_len);
    CHECK(s == UMS_OK || s == UMS_ERR_VALIDATION, "ums_prepare: %d %s", s, out);
    s = ums_sign_body(c, (const uint8_t *)"{}", 2, NULL, NULL, out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "ums_sign_body: %d %s", s, out);
    s = ums_token_request(c, NULL, NULL, out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "ums_token_request: %d %s", s, out);
    s = ums_client_verify_notify(c, (const uint8_t *)"a=1&sign=00", 11, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NOTIFY_BAD_SIGNATURE, "ums_client_verify_notify: %d %s", s, out);

    CHECK(listening_sockets() == 0, "no listening socket while a client (%s) is alive",
          token_mode ? "token" : "body-sig");
    ums_client_free(c);
}

int main(void) {
    sandbox_start(); /* first: before any thread */
    test_every_export_is_called();
    test_scan_finds_a_listener();

    /* The configurations that used to start the embedded simulator. */
    const char *old_configs[] = {"{}", "{\"environment\":\"sandbox\"}",
                                 "{\"environment\":\"sandbox\",\"appId\":\"a\",\"appKey\":\"k\"}"};
    for (size_t i = 0; i < sizeof old_configs / sizeof old_configs[0]; i++) {
        UmsClient *c = (UmsClient *)&c;
        UmsStatus s = ums_client_new(old_configs[i], &c, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_CONFIG && c == NULL, "%s is a config error: %d %s", old_configs[i], s, out);
        ums_client_free(c);
    }
    CHECK(listening_sockets() == 0, "no listening socket after the old simulator configurations");

    CHECK(strlen(ums_version()) > 0 && ums_status_str(UMS_OK) != NULL, "version, status string");
    CHECK(strcmp(ums_notify_reply(1), "SUCCESS") == 0, "notify reply");
    CHECK(ums_verify_notify(DEMO_NOTIFY_KEY, (const uint8_t *)"a=1", 3, out, sizeof out, &out_len) ==
              UMS_ERR_NOTIFY_MISSING_SIGN,
          "ums_verify_notify: %s", out);
    CHECK(ums_set_log_callback(count_log, &log_calls, UMS_LOG_DEBUG) == UMS_OK, "log callback installed");

    char config[1024];
    call_every_export(demo_config(config, sizeof config, ",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\""), 0);
    call_every_export(
        demo_config(config, sizeof config, ",\"auth\":\"token\",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\""),
        1);

    call_store_and_claim_exports(
        demo_config(config, sizeof config, ",\"auth\":\"token\",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\""));

    CHECK(ums_set_log_callback(NULL, NULL, 0) == UMS_OK, "log callback removed");
    CHECK(log_calls > 0, "the log callback was called (%d)", log_calls);
    int listening = listening_sockets();
    CHECK(listening == 0, "after every export, this process listens on %d TCP sockets (expected none)", listening);
    return CHECK_SUMMARY();
}
