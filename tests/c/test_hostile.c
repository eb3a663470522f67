/*
 * Hostile-input tests of the libums C ABI: every export in include/ums.h is
 * fed NULLs, zero and large lengths, every output capacity around the
 * document's length (with a guard region after the buffer), invalid UTF-8,
 * broken and pathological JSON, bad formats, and concurrent use, and is
 * checked against the conventions of the header preamble.
 *
 * No network: the clients point at https://gateway.invalid and every call
 * made with them fails before sending (or never sends: ums_prepare,
 * ums_sign_body, ...). One test uses the ums-sandbox simulator (a separate
 * process started by support.h, with its demo app) for the kept-answer path
 * of a real gateway call (ums_take_answer, every capacity).
 *
 * Operations (ums_update_qrcode .. ums_secure_complete, ums_call) follow the
 * operation buffer rules: below UMS_MIN_OUT_CAP nothing is parsed or sent
 * (*out_len = UMS_MIN_OUT_CAP - 1); a document that does not fit a larger
 * buffer is kept and named by an answerId.
 *
 * Signatures are cross-checked with an independent SHA-256 / HMAC-SHA256 /
 * Base64 written here.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure. Built and run
 * by `make test-c`, `make test-c-valgrind` and `make test-c-asan`, like
 * test_abi.c. UMS_TEST_TIMING=1 prints each test's CPU time (the valgrind run
 * must stay well under 20 s).
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ums.h"
#include "check.h"
#include "support.h"

#define APP_ID "hostile-app"
#define APP_KEY "HostileAppKey-5f1e9c2b7a"
#define NOTIFY_KEY "HostileNotifyKey-77aa"
#define HOSTILE_CONFIG                                                                            \
    "{\"environment\":\"https://gateway.invalid\",\"appId\":\"" APP_ID "\",\"appKey\":\"" APP_KEY \
    "\",\"msgSrcId\":\"3194\",\"notifyKey\":\"" NOTIFY_KEY "\"}"
#define LOOP_CONFIG "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\"}"
#define TS "20260917102030"
#define NONCE "hostile-nonce-0001"
#define VALID_UPDATE_REQ                                                                          \
    "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"instMid\":\"QRPAYDEFAULT\","           \
    "\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"31940001\",\"billDate\":\"2026-09-17\"," \
    "\"totalAmount\":\"26\"}"
#define MAX_REQUEST 262144 /* the library's request size limit (client.rs) */
#define MAX_NOTIFY 65536   /* the library's notification size limit (notify.rs) */
#define SENTINEL ((size_t)0x5A5A5A5A)
#define UNKNOWN_ANSWER_ID "00000000000000000000000000000000"
#define MIN_NOTE "{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":256,\"nothingSent\":true}"

static char out[65536];
static size_t out_len;

/* ------------------------------------------------------------------------ */
/* Independent SHA-256, HMAC-SHA256, hex and Base64.                         */

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
} Sha256;

static const uint32_t SHA_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_compress(uint32_t h[8], const unsigned char *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

static void sha256_init(Sha256 *s) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->bytes = 0;
    s->used = 0;
}

static void sha256_update(Sha256 *s, const void *data, size_t len) {
    const unsigned char *p = data;
    s->bytes += len;
    if (s->used > 0) {
        size_t take = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        len -= take;
        if (s->used < 64) return;
        sha256_compress(s->h, s->block);
        s->used = 0;
    }
    while (len >= 64) {
        sha256_compress(s->h, p);
        p += 64;
        len -= 64;
    }
    memcpy(s->block, p, len);
    s->used = len;
}

static void sha256_final(Sha256 *s, unsigned char digest[32]) {
    uint64_t bits = s->bytes * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (s->used < 56 ? 56 : 120) - s->used;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen + 8);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(s->h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)s->h[i];
    }
}

static void hex(const unsigned char *bytes, size_t n, char *outp, int upper) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        outp[2 * i] = digits[bytes[i] >> 4];
        outp[2 * i + 1] = digits[bytes[i] & 15];
    }
    outp[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t len, char outp[65]) {
    Sha256 s;
    unsigned char d[32];
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, d);
    hex(d, 32, outp, 0);
}

static void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char mac[32]) {
    unsigned char k0[64] = {0}, pad[64], inner[32];
    Sha256 s;
    if (key_len > 64) {
        sha256_init(&s);
        sha256_update(&s, key, key_len);
        sha256_final(&s, k0);
    } else {
        memcpy(k0, key, key_len);
    }
    for (int i = 0; i < 64; i++) pad[i] = k0[i] ^ 0x36;
    sha256_init(&s);
    sha256_update(&s, pad, 64);
    sha256_update(&s, msg, msg_len);
    sha256_final(&s, inner);
    for (int i = 0; i < 64; i++) pad[i] = k0[i] ^ 0x5c;
    sha256_init(&s);
    sha256_update(&s, pad, 64);
    sha256_update(&s, inner, 32);
    sha256_final(&s, mac);
}

static void base64(const unsigned char *in, size_t n, char *outp) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        outp[o++] = A[(v >> 18) & 63];
        outp[o++] = A[(v >> 12) & 63];
        outp[o++] = i + 1 < n ? A[(v >> 6) & 63] : '=';
        outp[o++] = i + 2 < n ? A[v & 63] : '=';
    }
    outp[o] = '\0';
}

/* The OPEN-BODY-SIG header as it appears inside a JSON string (quotes escaped). */
static void expected_authorization(const char *app_id, const char *app_key, const char *ts, const char *nonce,
                                   const void *body, size_t body_len, char *outp, size_t cap) {
    char body_hex[65], msg[512], sig[64];
    unsigned char mac[32];
    sha256_hex(body, body_len, body_hex);
    snprintf(msg, sizeof msg, "%s%s%s%s", app_id, ts, nonce, body_hex);
    hmac_sha256(app_key, strlen(app_key), msg, strlen(msg), mac);
    base64(mac, 32, sig);
    snprintf(outp, cap,
             "OPEN-BODY-SIG AppId=\\\"%s\\\", Timestamp=\\\"%s\\\", Nonce=\\\"%s\\\", Signature=\\\"%s\\\"", app_id,
             ts, nonce, sig);
}

/* ------------------------------------------------------------------------ */
/* Notifications signed here: string-to-sign = the fields but `sign`, empty  */
/* values dropped, sorted by name, "k=v&..." + key; SHA-256 hex.              */

struct field {
    const char *k;
    const char *v;
};

static void form_encode(char **p, const char *s) {
    static const char H[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
            *c == '_' || *c == '.' || *c == '*') {
            *(*p)++ = (char)*c;
        } else if (*c == ' ') {
            *(*p)++ = '+';
        } else {
            *(*p)++ = '%';
            *(*p)++ = H[*c >> 4];
            *(*p)++ = H[*c & 15];
        }
    }
}

/* A form body with `fields` in the given order and a valid SHA256 `sign`.
   Caller frees. */
static char *signed_notify(const struct field *f, size_t n, const char *key, size_t *body_len) {
    size_t total = strlen(key) + 1, idx[32];
    for (size_t i = 0; i < n; i++) total += strlen(f[i].k) + strlen(f[i].v) + 2;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(f[idx[j - 1]].k, f[idx[j]].k) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    char *sts = malloc(total), *p = sts;
    for (size_t i = 0; i < n; i++) {
        const struct field *x = &f[idx[i]];
        if (x->v[0] == '\0') continue;
        if (p != sts) *p++ = '&';
        p += sprintf(p, "%s=%s", x->k, x->v);
    }
    strcpy(p, key);
    char digest[65];
    unsigned char d[32];
    Sha256 s;
    sha256_init(&s);
    sha256_update(&s, sts, strlen(sts));
    sha256_final(&s, d);
    hex(d, 32, digest, 1);
    free(sts);

    char *body = malloc(3 * total + 128);
    p = body;
    for (size_t i = 0; i < n; i++) {
        form_encode(&p, f[i].k);
        *p++ = '=';
        form_encode(&p, f[i].v);
        *p++ = '&';
    }
    p += sprintf(p, "sign=%s", digest);
    *body_len = (size_t)(p - body);
    return body;
}

static const struct field NOTIFY_FIELDS[] = {
    {"mid", "898340149000005"},
    {"billPayment", "{\"totalAmount\":26,\"status\":\"TRADE_SUCCESS\"}"},
    {"notifyId", "hostile-notify-1"},
    {"signType", "SHA256"},
    {"empty", ""},
    {"totalAmount", "26"},
};
static char *good_notify;
static size_t good_notify_len;

/* ------------------------------------------------------------------------ */
/* Documents.                                                                */

static const struct {
    UmsStatus value;
    const char *name;
} STATUSES[] = {
    {UMS_OK, "UMS_OK"},
    {UMS_ERR_NULL_POINTER, "UMS_ERR_NULL_POINTER"},
    {UMS_ERR_INVALID_UTF8, "UMS_ERR_INVALID_UTF8"},
    {UMS_ERR_INVALID_JSON, "UMS_ERR_INVALID_JSON"},
    {UMS_ERR_BUFFER_TOO_SMALL, "UMS_ERR_BUFFER_TOO_SMALL"},
    {UMS_ERR_INVALID_ARGUMENT, "UMS_ERR_INVALID_ARGUMENT"},
    {UMS_ERR_CONFIG, "UMS_ERR_CONFIG"},
    {UMS_ERR_VALIDATION, "UMS_ERR_VALIDATION"},
    {UMS_ERR_CONNECT, "UMS_ERR_CONNECT"},
    {UMS_ERR_TLS, "UMS_ERR_TLS"},
    {UMS_ERR_GATEWAY_REJECTED, "UMS_ERR_GATEWAY_REJECTED"},
    {UMS_ERR_OUTCOME_UNKNOWN, "UMS_ERR_OUTCOME_UNKNOWN"},
    {UMS_ERR_TOKEN_REJECTED, "UMS_ERR_TOKEN_REJECTED"},
    {UMS_ERR_NOTIFY_BAD_SIGNATURE, "UMS_ERR_NOTIFY_BAD_SIGNATURE"},
    {UMS_ERR_NOTIFY_MISSING_SIGN, "UMS_ERR_NOTIFY_MISSING_SIGN"},
    {UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE, "UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE"},
    {UMS_ERR_NOTIFY_DUPLICATE_FIELD, "UMS_ERR_NOTIFY_DUPLICATE_FIELD"},
    {UMS_ERR_NOTIFY_MALFORMED, "UMS_ERR_NOTIFY_MALFORMED"},
    {UMS_ERR_PENDING, "UMS_ERR_PENDING"},
    {UMS_ERR_OPERATION_FAILED, "UMS_ERR_OPERATION_FAILED"},
    {UMS_ERR_ANSWER_GONE, "UMS_ERR_ANSWER_GONE"},
    {UMS_ERR_INTERNAL, "UMS_ERR_INTERNAL"},
    {UMS_ERR_PANIC, "UMS_ERR_PANIC"},
};
#define N_STATUSES (sizeof STATUSES / sizeof STATUSES[0])

static const char *status_name(UmsStatus s) {
    for (size_t i = 0; i < N_STATUSES; i++)
        if (STATUSES[i].value == s) return STATUSES[i].name;
    return "?";
}

/* A "clean" failure: a documented class, not a bug or a size report. */
static int clean_status(UmsStatus s) {
    return s != UMS_ERR_PANIC && s != UMS_ERR_INTERNAL && s != UMS_ERR_BUFFER_TOO_SMALL &&
           strcmp(status_name(s), "?") != 0;
}

/* Checks a complete document: length, shape, status name, no secrets. */
static void check_doc(const char *what, UmsStatus s, const char *doc, size_t len) {
    size_t n = strlen(doc);
    CHECK(n == len, "%s: *out_len %zu but strlen %zu", what, len, n);
    CHECK(n >= 2 && doc[0] == '{' && doc[n - 1] == '}', "%s: not a JSON object: %.200s", what, doc);
    if (s != UMS_OK) {
        char key[80];
        snprintf(key, sizeof key, "\"status\":\"%s\"", status_name(s));
        CHECK(strstr(doc, key) != NULL, "%s: status %d but document %.300s", what, s, doc);
    }
    CHECK(strstr(doc, APP_KEY) == NULL && strstr(doc, NOTIFY_KEY) == NULL, "%s: a secret in %.300s", what, doc);
}

/* ------------------------------------------------------------------------ */
/* Every export behind one invoker, so each hostile case runs on all.        */

enum {
    E_CLIENT_NEW,
    E_UPDATE_QRCODE,
    E_GET_QRCODE,
    E_CLOSE_QRCODE,
    E_QUERY_BILL,
    E_REFUND,
    E_QUERY_QRCODE_INFO,
    E_PREAUTH_COMPLETE,
    E_PREAUTH_CANCEL,
    E_SECURE_CANCEL,
    E_SECURE_COMPLETE,
    E_CALL,
    E_PREPARE,
    E_NEW_ID,
    E_VERIFY_NOTIFY,
    E_SIGN_BODY,
    E_TOKEN_REQUEST,
    E_TAKE_ANSWER,
    E_CLIENT_VERIFY_NOTIFY,
    E_RESOLVE,
    E_JOURNAL_PENDING,
    E_COUNT
};

typedef UmsStatus (*request_fn)(const UmsClient *, const char *, char *, size_t, size_t *);
static const request_fn REQUEST_FNS[] = {
    ums_update_qrcode,     ums_get_qrcode,       ums_close_qrcode,   ums_query_bill,    ums_refund,
    ums_query_qrcode_info, ums_preauth_complete, ums_preauth_cancel, ums_secure_cancel, ums_secure_complete,
};

struct export_desc {
    const char *name;
    int has_client;
    int has_body;
    int nslots;
    const char *slot[4];
    int optional[4];
    int json_slot; /* the slot holding a JSON object, -1 if none */
};

#define REQUEST_DESC(n) {n, 1, 0, 1, {"request_json"}, {0}, 0}
static const struct export_desc EXPORTS[E_COUNT] = {
    [E_CLIENT_NEW] = {"ums_client_new", 0, 0, 1, {"config_json"}, {0}, 0},
    [E_UPDATE_QRCODE] = REQUEST_DESC("ums_update_qrcode"),
    [E_GET_QRCODE] = REQUEST_DESC("ums_get_qrcode"),
    [E_CLOSE_QRCODE] = REQUEST_DESC("ums_close_qrcode"),
    [E_QUERY_BILL] = REQUEST_DESC("ums_query_bill"),
    [E_REFUND] = REQUEST_DESC("ums_refund"),
    [E_QUERY_QRCODE_INFO] = REQUEST_DESC("ums_query_qrcode_info"),
    [E_PREAUTH_COMPLETE] = REQUEST_DESC("ums_preauth_complete"),
    [E_PREAUTH_CANCEL] = REQUEST_DESC("ums_preauth_cancel"),
    [E_SECURE_CANCEL] = REQUEST_DESC("ums_secure_cancel"),
    [E_SECURE_COMPLETE] = REQUEST_DESC("ums_secure_complete"),
    [E_CALL] = {"ums_call", 1, 0, 2, {"service_path", "request_json"}, {0, 0}, 1},
    [E_PREPARE] = {"ums_prepare", 1, 0, 4, {"operation", "request_json", "timestamp", "nonce"}, {0, 0, 1, 1}, 1},
    [E_NEW_ID] = {"ums_new_id", 1, 0, 0, {NULL}, {0}, -1},
    [E_VERIFY_NOTIFY] = {"ums_verify_notify", 0, 1, 1, {"notify_key"}, {0}, -1},
    [E_SIGN_BODY] = {"ums_sign_body", 1, 1, 2, {"timestamp", "nonce"}, {1, 1}, -1},
    [E_TOKEN_REQUEST] = {"ums_token_request", 1, 0, 2, {"timestamp", "nonce"}, {1, 1}, -1},
    [E_TAKE_ANSWER] = {"ums_take_answer", 1, 0, 1, {"answer_id"}, {0}, -1},
    [E_CLIENT_VERIFY_NOTIFY] = {"ums_client_verify_notify", 1, 1, 0, {NULL}, {0}, -1},
    [E_RESOLVE] = {"ums_resolve", 1, 0, 1, {"json_in"}, {0}, 0},
    [E_JOURNAL_PENDING] = {"ums_journal_pending", 1, 0, 0, {NULL}, {0}, -1},
};

struct inv {
    int id;
    const UmsClient *client;
    const char *s[4];
    const uint8_t *body;
    size_t body_len;
    int null_out_client; /* ums_client_new only */
};

static UmsClient *hostile_client; /* HOSTILE_CONFIG */

static int is_request_op(int id) { return id >= E_UPDATE_QRCODE && id <= E_SECURE_COMPLETE; }

/* An export under the operation buffer rules (UMS_MIN_OUT_CAP, answerId). */
static int is_operation(int id) {
    return is_request_op(id) || id == E_CALL || id == E_RESOLVE || id == E_JOURNAL_PENDING;
}

/* Arguments with which each export gives a deterministic document without
   touching the network. */
static struct inv default_inv(int id) {
    struct inv v;
    memset(&v, 0, sizeof v);
    v.id = id;
    v.client = hostile_client;
    switch (id) {
    case E_CLIENT_NEW: v.s[0] = HOSTILE_CONFIG; break;
    case E_CALL:
        v.s[0] = "/v1/netpay/bills/query";
        v.s[1] = "{}"; /* fails validation: nothing is sent */
        break;
    case E_PREPARE:
        v.s[0] = "update-qrcode";
        v.s[1] = VALID_UPDATE_REQ;
        v.s[2] = TS;
        v.s[3] = NONCE;
        break;
    case E_NEW_ID: break;
    case E_VERIFY_NOTIFY:
        v.s[0] = NOTIFY_KEY;
        v.body = (const uint8_t *)good_notify;
        v.body_len = good_notify_len;
        break;
    case E_SIGN_BODY:
        v.body = (const uint8_t *)"{\"a\":1}";
        v.body_len = 7;
        v.s[0] = TS;
        v.s[1] = NONCE;
        break;
    case E_TOKEN_REQUEST:
        v.s[0] = TS;
        v.s[1] = NONCE;
        break;
    case E_TAKE_ANSWER: v.s[0] = UNKNOWN_ANSWER_ID; break; /* UMS_ERR_ANSWER_GONE */
    case E_RESOLVE: v.s[0] = "{}"; break;                  /* not a resolve input: nothing is queried */
    case E_JOURNAL_PENDING: break;                         /* no journal configured: UMS_ERR_CONFIG */
    case E_CLIENT_VERIFY_NOTIFY:
        v.body = (const uint8_t *)good_notify;
        v.body_len = good_notify_len;
        break;
    default: v.s[0] = "{}"; /* request ops: fails validation, nothing is sent */
    }
    return v;
}

static UmsStatus invoke(const struct inv *v, char *buf, size_t cap, size_t *len) {
    switch (v->id) {
    case E_CLIENT_NEW: {
        UmsClient *c = (UmsClient *)&c; /* a non-NULL sentinel: must become NULL on failure */
        UmsStatus s = ums_client_new(v->s[0], v->null_out_client ? NULL : &c, buf, cap, len);
        if (!v->null_out_client) {
            CHECK(s == UMS_OK ? c != NULL : c == NULL, "client_new status %d, handle %p", s, (void *)c);
            if (s == UMS_OK) ums_client_free(c);
        }
        return s;
    }
    case E_CALL: return ums_call(v->client, v->s[0], v->s[1], buf, cap, len);
    case E_PREPARE: return ums_prepare(v->client, v->s[0], v->s[1], v->s[2], v->s[3], buf, cap, len);
    case E_NEW_ID: return ums_new_id(v->client, buf, cap, len);
    case E_VERIFY_NOTIFY: return ums_verify_notify(v->s[0], v->body, v->body_len, buf, cap, len);
    case E_SIGN_BODY: return ums_sign_body(v->client, v->body, v->body_len, v->s[0], v->s[1], buf, cap, len);
    case E_TOKEN_REQUEST: return ums_token_request(v->client, v->s[0], v->s[1], buf, cap, len);
    case E_TAKE_ANSWER: return ums_take_answer(v->client, v->s[0], buf, cap, len);
    case E_CLIENT_VERIFY_NOTIFY: return ums_client_verify_notify(v->client, v->body, v->body_len, buf, cap, len);
    case E_RESOLVE: return ums_resolve(v->client, v->s[0], buf, cap, len);
    case E_JOURNAL_PENDING: return ums_journal_pending(v->client, buf, cap, len);
    default: return REQUEST_FNS[v->id - E_UPDATE_QRCODE](v->client, v->s[0], buf, cap, len);
    }
}

/* The answerId of a kept-answer note, or "" (id has room for 33 bytes). */
static int note_answer_id(const char *note, char id[33]) {
    const char *at = strstr(note, "\"answerId\":\"");
    id[0] = '\0';
    if (at == NULL) return 0;
    at += strlen("\"answerId\":\"");
    size_t n = 0;
    while (n < 32 && at[n] != '\0' && at[n] != '"') {
        id[n] = at[n];
        n++;
    }
    id[n] = '\0';
    return n == 32 && at[n] == '"';
}

/* Calls with a buffer of exactly the size asked for (an operation: at least
   UMS_MIN_OUT_CAP, and a kept answer is taken by its id). Returns the
   document (caller frees) and its status. */
static char *invoke_alloc(const struct inv *v, UmsStatus *status, size_t *len) {
    size_t need = SENTINEL;
    UmsStatus s = invoke(v, NULL, 0, &need);
    if (s != UMS_ERR_BUFFER_TOO_SMALL || need == SENTINEL) {
        *status = s;
        *len = 0;
        return NULL;
    }
    size_t cap = need + 1;
    if (is_operation(v->id) && cap < UMS_MIN_OUT_CAP) cap = UMS_MIN_OUT_CAP;
    char *doc = malloc(cap);
    *len = SENTINEL;
    *status = invoke(v, doc, cap, len);
    char id[33];
    if (*status == UMS_ERR_BUFFER_TOO_SMALL && is_operation(v->id) && note_answer_id(doc, id)) {
        size_t kept = *len;
        free(doc);
        doc = malloc(kept + 1);
        *status = ums_take_answer(v->client, id, doc, kept + 1, len);
    }
    return doc;
}

/* ------------------------------------------------------------------------ */

static void test_static_strings(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", UMS_VERSION_MAJOR, UMS_VERSION_MINOR, UMS_VERSION_PATCH);
    CHECK(ums_version() != NULL && strcmp(ums_version(), expected) == 0, "version");
    for (size_t i = 0; i < N_STATUSES; i++) {
        const char *a = ums_status_str(STATUSES[i].value);
        CHECK(a != NULL && a[0] != '\0', "status_str(%s) is NULL or empty", STATUSES[i].name);
        if (a == NULL) continue;
        for (size_t j = 0; j < i; j++) {
            const char *b = ums_status_str(STATUSES[j].value);
            CHECK(b == NULL || strcmp(a, b) != 0, "status_str(%s) == status_str(%s): %s", STATUSES[i].name,
                  STATUSES[j].name, a);
        }
    }
    const UmsStatus unknown[] = {INT32_MIN, INT32_MIN + 1, -1, 21, 50, 97, 100, 1000, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *a = ums_status_str(unknown[i]);
        CHECK(a != NULL && strlen(a) > 0, "status_str(%d)", unknown[i]);
    }
    CHECK(strcmp(ums_notify_reply(0), "FAILED") == 0, "reply(0)");
    const int32_t yes[] = {1, -1, 2, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CHECK(strcmp(ums_notify_reply(yes[i]), "SUCCESS") == 0, "reply(%d)", yes[i]);

    /* The reference digest implementation itself. */
    char h[65];
    sha256_hex("abc", 3, h);
    CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "sha256(abc) %s", h);
    sha256_hex("", 0, h);
    CHECK(strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "sha256() %s", h);
}

/* Every pointer argument NULL in turn. */
static void test_null_pointers(void) {
    for (int id = 0; id < E_COUNT; id++) {
        const struct export_desc *d = &EXPORTS[id];
        struct inv base = default_inv(id);
        char what[160];
        size_t len;
        UmsStatus s;

        UmsStatus normal;
        size_t normal_len;
        char *doc = invoke_alloc(&base, &normal, &normal_len);
        CHECK(doc != NULL && clean_status(normal), "%s default: %d", d->name, normal);
        if (doc) check_doc(d->name, normal, doc, normal_len);
        free(doc);

        /* out_len NULL, out_buf NULL with a capacity, both. */
        memset(out, 0x11, 16);
        s = invoke(&base, out, sizeof out, NULL);
        CHECK(s == UMS_ERR_NULL_POINTER, "%s(out_len NULL): %d", d->name, s);
        const size_t caps[] = {1, 64, sizeof out, SIZE_MAX};
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
            len = SENTINEL;
            s = invoke(&base, NULL, caps[i], &len);
            CHECK(s == UMS_ERR_NULL_POINTER, "%s(out_buf NULL, cap %zu): %d", d->name, caps[i], s);
        }
        s = invoke(&base, NULL, 8, NULL);
        CHECK(s == UMS_ERR_NULL_POINTER, "%s(out_buf, out_len NULL): %d", d->name, s);

        /* out_buf NULL with cap 0: the size query (an operation: the
           minimum capacity, nothing parsed). */
        len = SENTINEL;
        s = invoke(&base, NULL, 0, &len);
        size_t want_len = is_operation(id) ? UMS_MIN_OUT_CAP - 1 : normal_len;
        CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && len == want_len, "%s size query: %d, %zu (expected %zu)", d->name, s,
              len, want_len);

        if (d->has_client) {
            struct inv v = base;
            v.client = NULL;
            len = SENTINEL;
            s = invoke(&v, out, sizeof out, &len);
            snprintf(what, sizeof what, "%s(client NULL)", d->name);
            CHECK(s == UMS_ERR_NULL_POINTER, "%s: %d %s", what, s, out);
            if (s == UMS_ERR_NULL_POINTER) {
                check_doc(what, s, out, len);
                CHECK(strstr(out, "`client`") != NULL, "%s: the document names the argument: %s", what, out);
            }
            /* Size query of the error document. */
            size_t q = SENTINEL;
            s = invoke(&v, NULL, 0, &q);
            CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && q == len, "%s size query: %d %zu", what, s, q);
        }
        for (int k = 0; k < d->nslots; k++) {
            struct inv v = base;
            v.s[k] = NULL;
            len = SENTINEL;
            s = invoke(&v, out, sizeof out, &len);
            snprintf(what, sizeof what, "%s(%s NULL)", d->name, d->slot[k]);
            if (d->optional[k]) {
                /* NULL means "now" / "a random nonce". */
                CHECK(s == normal, "%s: %d, expected %d: %s", what, s, normal, out);
            } else {
                CHECK(s == UMS_ERR_NULL_POINTER, "%s: %d %s", what, s, out);
                char name[40];
                snprintf(name, sizeof name, "`%s`", d->slot[k]);
                CHECK(strstr(out, name) != NULL, "%s: the document names the argument: %s", what, out);
            }
            if (s != UMS_ERR_BUFFER_TOO_SMALL) check_doc(what, s, out, len);
        }
        if (d->has_body) {
            const size_t body_lens[] = {1, 3, SIZE_MAX};
            for (size_t i = 0; i < sizeof body_lens / sizeof body_lens[0]; i++) {
                struct inv v = base;
                v.body = NULL;
                v.body_len = body_lens[i];
                len = SENTINEL;
                s = invoke(&v, out, sizeof out, &len);
                snprintf(what, sizeof what, "%s(body NULL, body_len %zu)", d->name, body_lens[i]);
                CHECK(s == UMS_ERR_NULL_POINTER, "%s: %d %s", what, s, out);
                CHECK(strstr(out, "`body`") != NULL, "%s: names the argument: %s", what, out);
                check_doc(what, s, out, len);
            }
        }
        /* Everything NULL at once. */
        {
            struct inv v;
            memset(&v, 0, sizeof v);
            v.id = id;
            v.body_len = 5;
            v.null_out_client = 1;
            s = invoke(&v, NULL, 16, NULL);
            CHECK(s == UMS_ERR_NULL_POINTER, "%s(all NULL): %d", d->name, s);
        }
    }

    /* ums_client_new: out_client NULL. */
    struct inv v = default_inv(E_CLIENT_NEW);
    v.null_out_client = 1;
    out_len = SENTINEL;
    memset(out, 0xAB, 16);
    UmsStatus s = invoke(&v, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NULL_POINTER, "client_new(out_client NULL): %d", s);
    /* The preamble: a failure still writes its error document. */
    CHECK(out_len != SENTINEL && out_len < sizeof out && memchr(out, 0, sizeof out) != NULL &&
              strlen(out) == out_len && strstr(out, "out_client") != NULL,
          "client_new(out_client NULL) writes no error document (out_len %s)",
          out_len == SENTINEL ? "untouched" : "set");

    ums_client_free(NULL);
    ums_client_free(NULL);
    passed++;
}

/* Every capacity around the document's length, with a guard region. */
static void sweep(const char *what, const struct inv *v, int deterministic) {
    size_t L = SENTINEL;
    UmsStatus q = invoke(v, NULL, 0, &L);
    CHECK(q == UMS_ERR_BUFFER_TOO_SMALL && L != SENTINEL && L > 3, "%s: size query %d %zu", what, q, L);
    if (q != UMS_ERR_BUFFER_TOO_SMALL || L == SENTINEL || L <= 3) return;
    char *ref = malloc(L + 1);
    size_t rl = SENTINEL;
    UmsStatus expect = invoke(v, ref, L + 1, &rl);
    CHECK(expect != UMS_ERR_BUFFER_TOO_SMALL && rl == L, "%s: exact buffer: %d, %zu != %zu", what, expect, rl, L);
    if (expect == UMS_ERR_BUFFER_TOO_SMALL || rl != L) {
        free(ref);
        return;
    }
    check_doc(what, expect, ref, rl);
    char needed[64];
    snprintf(needed, sizeof needed, "\"needed\":%zu", L + 1);
    size_t note_len = (size_t)snprintf(NULL, 0, "{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":%zu}", L + 1);
    const size_t caps[] = {0, 1, 2, 3, 8, note_len - 1, note_len, note_len + 1, L / 2,
                           L - 1, L, L + 1, L + 2, L + GUARD};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t cap = caps[i];
        unsigned char *g = guarded(cap);
        size_t got = SENTINEL;
        UmsStatus s = invoke(v, (char *)g, cap, &got);
        UmsStatus want = cap > L ? expect : UMS_ERR_BUFFER_TOO_SMALL;
        CHECK(s == want, "%s cap %zu (doc %zu): status %d, expected %d", what, cap, L, s, want);
        CHECK(got == L, "%s cap %zu: *out_len %zu, expected %zu", what, cap, got, L);
        size_t bad = past_cap(g, cap);
        CHECK(bad == 0, "%s cap %zu: %zu bytes written past out_cap", what, cap, bad);
        if (cap > 0) {
            CHECK(memchr(g, 0, cap) != NULL, "%s cap %zu: not NUL-terminated", what, cap);
            if (s == expect && s != UMS_ERR_BUFFER_TOO_SMALL && deterministic)
                CHECK(memcmp(g, ref, L + 1) == 0, "%s cap %zu: document differs: %.200s", what, cap, (char *)g);
            if (s == UMS_ERR_BUFFER_TOO_SMALL && memchr(g, 0, cap) != NULL && g[0] != 0)
                CHECK(strstr((char *)g, needed) != NULL, "%s cap %zu: short note %s lacks %s", what, cap,
                      (char *)g, needed);
        }
        free(g);
    }
    free(ref);
}

/* An operation through every capacity: below UMS_MIN_OUT_CAP the fixed
   note and nothing parsed; from it on, the document, or (when it does not
   fit) a kept answer named by an answerId, taken here. */
static void sweep_op(const char *what, const struct inv *v) {
    size_t L = SENTINEL;
    UmsStatus q = invoke(v, NULL, 0, &L);
    CHECK(q == UMS_ERR_BUFFER_TOO_SMALL && L == UMS_MIN_OUT_CAP - 1, "%s: size query %d %zu", what, q, L);
    char *ref = malloc(sizeof out);
    size_t rl = SENTINEL;
    UmsStatus expect = invoke(v, ref, sizeof out, &rl);
    CHECK(expect != UMS_ERR_BUFFER_TOO_SMALL && rl < sizeof out, "%s: big buffer: %d %zu", what, expect, rl);
    if (expect == UMS_ERR_BUFFER_TOO_SMALL || rl >= sizeof out) {
        free(ref);
        return;
    }
    check_doc(what, expect, ref, rl);
    L = rl;
    const size_t caps[] = {0, 1, 2, 3, 8, strlen(MIN_NOTE), strlen(MIN_NOTE) + 1, strlen(MIN_NOTE) + 2,
                           UMS_MIN_OUT_CAP - 1, UMS_MIN_OUT_CAP, UMS_MIN_OUT_CAP + 1, L / 2, L - 1, L, L + 1, L + 2,
                           L + GUARD};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t cap = caps[i];
        unsigned char *g = guarded(cap);
        size_t got = SENTINEL;
        UmsStatus s = invoke(v, (char *)g, cap, &got);
        int bad = past_cap(g, cap);
        CHECK(bad == 0, "%s cap %zu: %d bytes written past out_cap", what, cap, bad);
        if (cap > 0) CHECK(memchr(g, 0, cap) != NULL, "%s cap %zu: not NUL-terminated", what, cap);
        if (cap < UMS_MIN_OUT_CAP) {
            CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && got == UMS_MIN_OUT_CAP - 1, "%s cap %zu: %d %zu", what, cap, s,
                  got);
            if (cap > strlen(MIN_NOTE))
                CHECK(strcmp((char *)g, MIN_NOTE) == 0, "%s cap %zu: note %s", what, cap, (char *)g);
            else if (cap > 0)
                CHECK(g[0] == 0, "%s cap %zu: an empty string", what, cap);
        } else if (cap > L) {
            CHECK(s == expect && got == L && memcmp(g, ref, L + 1) == 0, "%s cap %zu: %d %zu %.200s", what, cap, s,
                  got, (char *)g);
        } else {
            /* The document was made and kept: take it back by its id. */
            char id[33];
            CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && got == L && note_answer_id((char *)g, id),
                  "%s cap %zu (doc %zu): %d %zu %s", what, cap, L, s, got, (char *)g);
            char *doc = malloc(L + 1);
            size_t dl = SENTINEL;
            UmsStatus t = ums_take_answer(v->client, id, doc, L + 1, &dl);
            CHECK(t == expect && dl == L && memcmp(doc, ref, L + 1) == 0, "%s cap %zu: taken %d %.200s", what, cap,
                  t, doc);
            free(doc);
        }
        free(g);
    }
    free(ref);
}

static void test_buffer_sweeps(void) {
    for (int id = 0; id < E_COUNT; id++) {
        struct inv v = default_inv(id);
        if (is_operation(id))
            sweep_op(EXPORTS[id].name, &v);
        else
            sweep(EXPORTS[id].name, &v, id != E_NEW_ID);
        /* The error document of a NULL argument, too. */
        if (EXPORTS[id].has_client) {
            v.client = NULL;
            char what[80];
            snprintf(what, sizeof what, "%s(client NULL)", EXPORTS[id].name);
            sweep(what, &v, 1);
        }
    }
    /* Other documents: error documents and a large result. */
    struct inv v = default_inv(E_CLIENT_NEW);
    v.s[0] = "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\"}";
    sweep("client_new(no appKey)", &v, 1);
    v = default_inv(E_VERIFY_NOTIFY);
    v.body = (const uint8_t *)"a=1&sign=00";
    v.body_len = 11;
    sweep("verify_notify(bad signature)", &v, 1);
    v = default_inv(E_PREPARE);
    v.s[1] = "[";
    sweep("prepare(invalid JSON)", &v, 1);
    /* Local failures of operations are kept like answers when they do not
       fit (any document, whatever its status): a repeated key of 70
       three-byte characters, named (clipped to 64) twice: 557 bytes. */
    {
        char key[256], repeated[600];
        key[0] = '\0';
        for (int i = 0; i < 70; i++) strcat(key, "\xE9\x94\xAE");
        snprintf(repeated, sizeof repeated, "{\"%s\":1,\"%s\":2}", key, key);
        v = default_inv(E_UPDATE_QRCODE);
        v.s[0] = repeated;
        sweep_op("update_qrcode(long invalid-JSON document)", &v);
        v = default_inv(E_CALL);
        v.s[1] = repeated;
        sweep_op("call(long invalid-JSON document)", &v);
    }
    v = default_inv(E_TAKE_ANSWER);
    v.s[0] = "not an answer id";
    sweep("take_answer(not an id)", &v, 1);

    size_t big_len = 100000;
    char *big = malloc(big_len + 1);
    memset(big, 'x', big_len);
    memcpy(big, "{\"p\":\"", 6);
    memcpy(big + big_len - 2, "\"}", 3);
    v = default_inv(E_PREPARE);
    v.s[0] = "/v1/hostile/raw";
    v.s[1] = big;
    sweep("prepare(100 kB request)", &v, 1);
    free(big);
}

static const char *const BAD_UTF8[] = {
    "\xC0\x80",                 /* overlong NUL */
    "\xC1\xBF",                 /* overlong */
    "\xE0\x80\xAF",             /* overlong '/' */
    "\xF0\x80\x80\xAF",         /* overlong '/' */
    "\x80",                     /* lone continuation */
    "\xBF\xBF",                 /* continuations */
    "\xED\xA0\x80",             /* UTF-16 surrogate D800 */
    "\xED\xBF\xBF",             /* surrogate DFFF */
    "\xED\xA0\xBD\xED\xB2\xA9", /* CESU-8 surrogate pair */
    "\xFF",
    "\xFE\xFF",
    "\xF4\x90\x80\x80",     /* above U+10FFFF */
    "\xF8\x88\x80\x80\x80", /* 5-byte form */
    "\xE4\xB8",             /* truncated */
    "\xC3",                 /* truncated */
};
#define N_BAD_UTF8 (sizeof BAD_UTF8 / sizeof BAD_UTF8[0])

static void test_invalid_utf8(void) {
    char arg[512], what[200];
    for (int id = 0; id < E_COUNT; id++) {
        const struct export_desc *d = &EXPORTS[id];
        for (int k = 0; k < d->nslots; k++) {
            for (size_t b = 0; b < N_BAD_UTF8; b++) {
                for (int variant = 0; variant < 2; variant++) {
                    struct inv v = default_inv(id);
                    const char *def = v.s[k];
                    if (variant == 0) {
                        snprintf(arg, sizeof arg, "%s", BAD_UTF8[b]);
                    } else if (k == d->json_slot) {
                        /* Valid JSON, the bad bytes inside a string value. */
                        if (strcmp(def, "{}") == 0)
                            snprintf(arg, sizeof arg, "{\"x\":\"%s\"}", BAD_UTF8[b]);
                        else
                            snprintf(arg, sizeof arg, "{\"x\":\"%s\",%s", BAD_UTF8[b], def + 1);
                    } else {
                        snprintf(arg, sizeof arg, "%s%s", def, BAD_UTF8[b]);
                    }
                    v.s[k] = arg;
                    out_len = SENTINEL;
                    UmsStatus s = invoke(&v, out, sizeof out, &out_len);
                    snprintf(what, sizeof what, "%s(%s with bad UTF-8 #%zu/%d)", d->name, d->slot[k], b, variant);
                    CHECK(s == UMS_ERR_INVALID_UTF8, "%s: %d %s", what, s, out);
                    check_doc(what, s, out, out_len);
                    char name[40];
                    snprintf(name, sizeof name, "`%s`", d->slot[k]);
                    CHECK(strstr(out, name) != NULL, "%s: names the argument: %s", what, out);
                }
            }
        }
    }
    /* Bodies are bytes: a notification body that is not UTF-8 is malformed,
       and any bytes can be signed. */
    for (size_t b = 0; b < N_BAD_UTF8; b++) {
        char body[64];
        int n = snprintf(body, sizeof body, "a=%s&sign=00", BAD_UTF8[b]);
        UmsStatus s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)body, (size_t)n, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_MALFORMED, "notify body with bad UTF-8 #%zu: %d %s", b, s, out);
        check_doc("notify bad UTF-8 body", s, out, out_len);
        /* The same bytes percent-encoded. */
        char enc[64], *p = enc;
        p += sprintf(p, "a=");
        for (const unsigned char *c = (const unsigned char *)BAD_UTF8[b]; *c; c++) p += sprintf(p, "%%%02X", *c);
        p += sprintf(p, "&sign=00");
        s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)enc, (size_t)(p - enc), out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_MALFORMED, "notify body %s: %d %s", enc, s, out);

        s = ums_sign_body(hostile_client, (const uint8_t *)BAD_UTF8[b], strlen(BAD_UTF8[b]), TS, NONCE, out,
                          sizeof out, &out_len);
        char auth[300];
        expected_authorization(APP_ID, APP_KEY, TS, NONCE, BAD_UTF8[b], strlen(BAD_UTF8[b]), auth, sizeof auth);
        CHECK(s == UMS_OK && strstr(out, auth) != NULL, "sign_body of non-UTF-8 bytes #%zu: %d %s", b, s, out);
    }
    /* Valid multi-byte text is not an error. */
    struct inv v = default_inv(E_PREPARE);
    v.s[1] = "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"instMid\":\"QRPAYDEFAULT\","
             "\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"31940001\",\"billDate\":\"2026-09-17\","
             "\"totalAmount\":\"26\",\"billDesc\":\"\xE6\xB5\x8B\xE8\xAF\x95 \xF0\x9F\x98\x80\"}";
    UmsStatus s = invoke(&v, out, sizeof out, &out_len);
    CHECK(s == UMS_OK, "valid multi-byte UTF-8: %d %s", s, out);
}

/* Builds `count` copies of `unit` between `head` and `tail`. */
static char *repeat(const char *head, const char *unit, size_t count, const char *mid, const char *unit2,
                    size_t count2, const char *tail) {
    size_t hl = strlen(head), ul = strlen(unit), ml = strlen(mid), u2 = strlen(unit2), tl = strlen(tail);
    char *s = malloc(hl + ul * count + ml + u2 * count2 + tl + 1), *p = s;
    memcpy(p, head, hl);
    p += hl;
    for (size_t i = 0; i < count; i++, p += ul) memcpy(p, unit, ul);
    memcpy(p, mid, ml);
    p += ml;
    for (size_t i = 0; i < count2; i++, p += u2) memcpy(p, unit2, u2);
    memcpy(p, tail, tl + 1);
    return s;
}

static const char *const NOT_AN_OBJECT[] = {
    "", " ", "\t\r\n", "x", "nul", "null", "true", "false", "0", "-1", "1e999", "\"{}\"", "[]", "[{}]",
    "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{}}", "{}{}", "{} x", "{'a':1}", "{a:1}",
    "{\"a\":NaN}", "{\"a\":nan}", "{\"a\":Infinity}", "{\"a\":-Infinity}",
    "{\"a\":01}", "{\"a\":+1}", "{\"a\":.5}", "{\"a\":1.}", "{\"a\":0x10}",
    "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}",
    "{\"a\":\"tab\tin\"}", "{\"a\":\"nl\nin\"}", "\xEF\xBB\xBF{}", "{\"a\":1}/*c*/", "{\"a\":1} //c",
    "{\"a\":undefined}", "{\"a\":True}", "{\"a\":\"unterminated}",
};
/* Repeated keys would silently pick one value (two amounts...): refused, at
   any depth. */
static const char *const REPEATED_KEYS[] = {
    "{\"a\":1,\"a\":2}",
    "{\"qrCodeId\":\"x\",\"qrCodeId\":\"y\"}",
    "{\"goods\":[{\"price\":\"1\",\"price\":\"2\"}]}",
    "{\"a\":1,\"\\u0061\":2}",
};
#define N_NOT_AN_OBJECT (sizeof NOT_AN_OBJECT / sizeof NOT_AN_OBJECT[0])

static const char *const ODD_OBJECTS[] = {
    "{}",
    "  {}  ",
    "{\"\":null}",
    /* Numbers are kept exactly (no float rounding), so huge exponents parse. */
    "{\"a\":1e99999}",
    "{\"a\":-1e99999}",
    "{\"totalAmount\":123456789012345678901234567890}",
    "{\"totalAmount\":1e308}",
    "{\"totalAmount\":-0}",
    "{\"totalAmount\":-9223372036854775809}",
    "{\"totalAmount\":18446744073709551616}",
    "{\"totalAmount\":\"NaN\"}",
    "{\"a\":\"\\u0000\"}",
    "{\"a\":\"\\ud83d\\ude00\"}",
    "{\"data\":{\"data\":{}}}",
    "{\"data\":[]}",
    /* goods as JSON text nested 131 deep (past serde's 128) */
    "{\"goods\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}",
};
#define N_ODD_OBJECTS (sizeof ODD_OBJECTS / sizeof ODD_OBJECTS[0])

static void test_hostile_json(void) {
    /* Deeply nested, all under the request size limit. */
    char *deep_open = repeat("", "[", 100000, "", "", 0, "");
    char *deep_obj = repeat("", "{\"a\":", 20000, "", "", 0, "");
    char *deep_balanced = repeat("{\"a\":", "[", 30000, "", "]", 30000, "}");
    char *deep_objects = repeat("{\"a\":", "{\"a\":", 20000, "1", "}", 20000, "}");
    char *deep_127 = repeat("{\"a\":", "[", 126, "", "]", 126, "}"); /* within serde's 128 */
    const char *deep_bad[] = {deep_open, deep_obj, deep_balanced, deep_objects};
    char what[200];

    for (int id = 0; id < E_COUNT; id++) {
        const struct export_desc *d = &EXPORTS[id];
        if (d->json_slot < 0) continue;
        for (size_t i = 0; i < N_NOT_AN_OBJECT + 4; i++) {
            struct inv v = default_inv(id);
            v.s[d->json_slot] = i < N_NOT_AN_OBJECT ? NOT_AN_OBJECT[i] : deep_bad[i - N_NOT_AN_OBJECT];
            out_len = SENTINEL;
            UmsStatus s = invoke(&v, out, sizeof out, &out_len);
            snprintf(what, sizeof what, "%s(%s = %.40s)", d->name, d->slot[d->json_slot], v.s[d->json_slot]);
            CHECK(s == UMS_ERR_INVALID_JSON, "%s: %d %s", what, s, out);
            check_doc(what, s, out, out_len);
        }
        for (size_t i = 0; i < sizeof REPEATED_KEYS / sizeof REPEATED_KEYS[0]; i++) {
            struct inv v = default_inv(id);
            v.s[d->json_slot] = REPEATED_KEYS[i];
            out_len = SENTINEL;
            UmsStatus s = invoke(&v, out, sizeof out, &out_len);
            snprintf(what, sizeof what, "%s(%s = %.40s)", d->name, d->slot[d->json_slot], v.s[d->json_slot]);
            CHECK(s == UMS_ERR_INVALID_JSON && strstr(out, "repeats the key") != NULL, "%s: %d %s", what, s, out);
            check_doc(what, s, out, out_len);
        }
        for (size_t i = 0; i < N_ODD_OBJECTS + 1; i++) {
            struct inv v = default_inv(id);
            v.s[d->json_slot] = i < N_ODD_OBJECTS ? ODD_OBJECTS[i] : deep_127;
            for (int raw = 0; raw < (id == E_PREPARE ? 2 : 1); raw++) {
                if (raw) v.s[0] = "/v1/hostile/raw";
                char *doc;
                UmsStatus s;
                size_t len;
                doc = invoke_alloc(&v, &s, &len);
                snprintf(what, sizeof what, "%s(%s%s = %.40s)", d->name, raw ? "raw path, " : "",
                         d->slot[d->json_slot], v.s[d->json_slot]);
                CHECK(doc != NULL && clean_status(s), "%s: %d %s", what, s, doc ? doc : "");
                if (doc) check_doc(what, s, doc, len);
                /* Nothing here may reach the network: a request op can only
                   fail validation. */
                if (is_request_op(id) || id == E_CALL)
                    CHECK(s == UMS_ERR_VALIDATION, "%s: %d %s", what, s, doc ? doc : "");
                if (raw) CHECK(s == UMS_OK, "%s: %d %s", what, s, doc ? doc : "");
                free(doc);
            }
        }
    }
    free(deep_open);
    free(deep_obj);
    free(deep_balanced);
    free(deep_objects);
    free(deep_127);

    /* The message says where and what was expected, in words (not serde's
       "Eof error at line 2 column 0"), and never quotes the input. */
    UmsStatus cut = ums_prepare(hostile_client, "update-qrcode", "{\"billNo\":\"31940001\"\n", TS, NONCE, out,
                                sizeof out, &out_len);
    CHECK(cut == UMS_ERR_INVALID_JSON &&
              strstr(out, "\"message\":\"the request: invalid JSON at line 2, column 0: unexpected end of input, "
                          "expected ',' or '}'\"") != NULL &&
              strstr(out, "31940001") == NULL,
          "cut request: %d %s", cut, out);
    UmsClient *never = NULL;
    cut = ums_client_new("{\"appKey\":\"" APP_KEY "\\q\"}", &never, out, sizeof out, &out_len);
    CHECK(cut == UMS_ERR_INVALID_JSON && never == NULL &&
              strstr(out, "\"message\":\"config: invalid JSON at line 1, column 37: an invalid escape in a string") !=
                  NULL &&
              strstr(out, APP_KEY) == NULL,
          "bad escape in config: %d %s", cut, out);

    /* Secrets in a broken config never come back. */
    const char *configs[] = {
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"" APP_KEY "\",",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"" APP_KEY "\",\"x\":1}",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"" APP_KEY "\",\"mid\":1}",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"" APP_KEY "\\\"\",\"appKey\":\"k\"}",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\",\"notifyKey\":\"" NOTIFY_KEY
        "\",\"tid\":\"1\"}",
        "{\"environment\":\"" APP_KEY "\",\"appId\":\"a\",\"appKey\":\"k\"}",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"" APP_KEY
        "\",\"proxy\":\"::" APP_KEY "\"}",
        "{\"environment\":\"https://user:" APP_KEY "@gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\"}",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\",\"caFile\":\"/" APP_KEY "\"}",
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\",\"appKey\":\"" APP_KEY
        "\",\"tid\":1}",
        /* Accepted: proxy credentials do not show in the client document. */
        "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"" APP_KEY
        "\",\"proxy\":\"http://user:" APP_KEY "@proxy.invalid:3128\"}",
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        struct inv v = default_inv(E_CLIENT_NEW);
        v.s[0] = configs[i];
        UmsStatus s = invoke(&v, out, sizeof out, &out_len);
        snprintf(what, sizeof what, "client_new(secret config #%zu)", i);
        CHECK(s == UMS_ERR_INVALID_JSON || s == UMS_ERR_CONFIG || (s == UMS_OK && i == 10), "%s: %d %s", what, s,
              out);
        check_doc(what, s, out, out_len);
    }
}

static void test_sizes_and_lengths(void) {
    char what[200];
    /* Requests: 1 MiB, the limit + 1, and exactly the limit. */
    const size_t sizes[] = {1 << 20, MAX_REQUEST + 1, MAX_REQUEST};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        /* A valid request for ums_prepare, and one that fails validation
           (nothing may be sent) for the others, padded with an unknown field
           up to n bytes. */
        char *valid = malloc(n + 1), *invalid = malloc(n + 1);
        size_t hl = strlen(VALID_UPDATE_REQ) - 1; /* without '}' */
        memcpy(valid, VALID_UPDATE_REQ, hl);
        memcpy(valid + hl, ",\"zzPad\":\"", 10);
        memset(valid + hl + 10, 'p', n - hl - 10 - 2);
        memcpy(valid + n - 2, "\"}", 3);
        memset(invalid, 'p', n);
        memcpy(invalid, "{\"zzPad\":\"", 10);
        memcpy(invalid + n - 2, "\"}", 3);
        for (int id = 0; id < E_COUNT; id++) {
            const struct export_desc *d = &EXPORTS[id];
            if (d->json_slot < 0 || id == E_CLIENT_NEW) continue;
            /* Around the limit: one export of each kind (valgrind time). */
            if (n != (1 << 20) && id != E_PREPARE && id != E_UPDATE_QRCODE && id != E_CALL) continue;
            struct inv v = default_inv(id);
            v.s[d->json_slot] = id == E_PREPARE ? valid : invalid;
            UmsStatus s;
            size_t len = SENTINEL;
            char *doc;
            if (id == E_PREPARE && n == MAX_REQUEST) {
                doc = invoke_alloc(&v, &s, &len);
            } else {
                doc = malloc(sizeof out);
                s = invoke(&v, doc, sizeof out, &len);
            }
            snprintf(what, sizeof what, "%s(request of %zu bytes)", d->name, n);
            if (n > MAX_REQUEST) {
                CHECK(s == UMS_ERR_INVALID_ARGUMENT, "%s: %d %s", what, s, doc ? doc : "");
                CHECK(doc && strstr(doc, "262144") != NULL, "%s: the document names the limit: %s", what,
                      doc ? doc : "");
            } else if (id == E_PREPARE) {
                CHECK(s == UMS_OK, "%s: %d %.300s", what, s, doc ? doc : "");
            } else {
                CHECK(s == UMS_ERR_VALIDATION, "%s: %d %.300s", what, s, doc ? doc : "");
            }
            if (doc) check_doc(what, s, doc, len);
            free(doc);
        }
        free(valid);
        free(invalid);
    }

    /* Config: a 1 MiB appKey; a config padded with 1 MiB of whitespace. */
    {
        size_t n = 1 << 20;
        char *cfg = malloc(n + 200);
        int h = sprintf(cfg, "{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"");
        memset(cfg + h, 'K', n);
        strcpy(cfg + h + n, "\"}");
        struct inv v = default_inv(E_CLIENT_NEW);
        v.s[0] = cfg;
        UmsStatus s = invoke(&v, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_CONFIG && strstr(out, "\"field\":\"appKey\"") != NULL, "1 MiB appKey: %d %s", s, out);
        CHECK(strstr(out, "KKKKKKKK") == NULL, "the appKey is not echoed: %.200s", out);
        memset(cfg, ' ', n);
        strcpy(cfg + n, LOOP_CONFIG);
        s = invoke(&v, out, sizeof out, &out_len);
        CHECK(s == UMS_OK, "config after 1 MiB of spaces: %d %s", s, out);
        free(cfg);
    }

    /* Notifications: 10 MiB, the limit + 1, exactly the limit (signed). */
    {
        size_t n = 10 << 20;
        char *body = malloc(n);
        memset(body, 'a', n);
        memcpy(body, "a=", 2);
        UmsStatus s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)body, n, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_MALFORMED && strstr(out, "65536") != NULL, "10 MiB notification: %d %s", s,
              out);
        check_doc("10 MiB notification", s, out, out_len);
        free(body);

        for (size_t extra = 0; extra < 2; extra++) {
            /* "pad=" P "&signType=SHA256&sign=" 64 hex = P + 90 bytes. */
            size_t pad_len = MAX_NOTIFY - 90 + extra;
            char *pad = malloc(pad_len + 1);
            memset(pad, 'x', pad_len);
            pad[pad_len] = '\0';
            struct field f[] = {{"pad", pad}, {"signType", "SHA256"}};
            size_t blen;
            char *b = signed_notify(f, 2, NOTIFY_KEY, &blen);
            CHECK(blen == MAX_NOTIFY + extra, "signed body length %zu", blen);
            size_t len;
            UmsStatus st;
            struct inv v = default_inv(E_VERIFY_NOTIFY);
            v.body = (const uint8_t *)b;
            v.body_len = blen;
            char *doc = invoke_alloc(&v, &st, &len);
            if (extra == 0)
                CHECK(st == UMS_OK, "a valid notification of exactly %d bytes: %d %.200s", MAX_NOTIFY, st,
                      doc ? doc : "");
            else
                CHECK(st == UMS_ERR_NOTIFY_MALFORMED && doc && strstr(doc, "65536") != NULL,
                      "a notification of %d bytes: %d %.200s", MAX_NOTIFY + 1, st, doc ? doc : "");
            if (doc) check_doc("notification at the limit", st, doc, len);
            free(doc);
            free(b);
            free(pad);
        }
    }

    /* A 256 KiB notification key: no limit, the signature still checks. */
    {
        size_t n = 256 << 10;
        char *key = malloc(n + 1);
        memset(key, 'k', n);
        key[n] = '\0';
        size_t blen;
        char *b = signed_notify(NOTIFY_FIELDS, sizeof NOTIFY_FIELDS / sizeof NOTIFY_FIELDS[0], key, &blen);
        UmsStatus s = ums_verify_notify(key, (const uint8_t *)b, blen, out, sizeof out, &out_len);
        CHECK(s == UMS_OK, "256 KiB notification key: %d %s", s, out);
        CHECK(strstr(out, "kkkkkkkk") == NULL, "the key is not echoed");
        s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)b, blen, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_BAD_SIGNATURE, "other key: %d %s", s, out);
        free(b);
        free(key);
    }

    /* Signing large bodies: no limit; the signature matches ours (our
       SHA-256 is slow under valgrind: 1 MiB checked, 10 MiB signed). */
    for (size_t n = 1 << 20; n <= (10u << 20); n += 9u << 20) {
        unsigned char *body = malloc(n);
        for (size_t i = 0; i < n; i += 4096) memset(body + i, (int)(i / 4096 * 131), 4096);
        UmsStatus s = ums_sign_body(hostile_client, body, n, TS, NONCE, out, sizeof out, &out_len);
        check_doc("sign a large body", s, out, out_len);
        if (n == 1 << 20) {
            char auth[300];
            expected_authorization(APP_ID, APP_KEY, TS, NONCE, body, n, auth, sizeof auth);
            CHECK(s == UMS_OK && strstr(out, auth) != NULL, "sign %zu bytes: %d %s\nexpected %s", n, s, out, auth);
        } else {
            CHECK(s == UMS_OK && strstr(out, "Signature=\\\"") != NULL, "sign %zu bytes: %d %s", n, s, out);
        }
        free(body);
    }

    /* Zero lengths. */
    {
        char a[4096], b[4096];
        size_t la, lb;
        UmsStatus s1 = ums_verify_notify(NOTIFY_KEY, NULL, 0, a, sizeof a, &la);
        UmsStatus s2 = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)"x", 0, b, sizeof b, &lb);
        CHECK(s1 == UMS_ERR_NOTIFY_MALFORMED && s2 == s1 && la == lb && strcmp(a, b) == 0,
              "empty notification: %d %s / %d %s", s1, a, s2, b);
        s1 = ums_sign_body(hostile_client, NULL, 0, TS, NONCE, a, sizeof a, &la);
        s2 = ums_sign_body(hostile_client, (const uint8_t *)"x", 0, TS, NONCE, b, sizeof b, &lb);
        char auth[300];
        expected_authorization(APP_ID, APP_KEY, TS, NONCE, "", 0, auth, sizeof auth);
        CHECK(s1 == UMS_OK && s2 == UMS_OK && strcmp(a, b) == 0 && strstr(a, auth) != NULL,
              "signing an empty body: %d %s / %d %s", s1, a, s2, b);
        const char *const empty_notify[] = {"\r\n", "\n", "&", "&&", "=", "a", "a=1&", "&a=1", "a=1&&b=2", "%",
                                            "a=%", "a=%4", "a=%G0", "a=%%", "=1&sign=x"};
        for (size_t i = 0; i < sizeof empty_notify / sizeof empty_notify[0]; i++) {
            UmsStatus s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)empty_notify[i], strlen(empty_notify[i]),
                                            out, sizeof out, &out_len);
            CHECK(s == UMS_ERR_NOTIFY_MALFORMED, "notification \"%s\": %d %s", empty_notify[i], s, out);
            check_doc("malformed notification", s, out, out_len);
        }
    }

    /* Empty strings in every string argument. */
    for (int id = 0; id < E_COUNT; id++) {
        const struct export_desc *d = &EXPORTS[id];
        for (int k = 0; k < d->nslots; k++) {
            struct inv v = default_inv(id);
            v.s[k] = "";
            UmsStatus s = invoke(&v, out, sizeof out, &out_len);
            UmsStatus want = k == d->json_slot      ? UMS_ERR_INVALID_JSON
                             : id == E_TAKE_ANSWER ? UMS_ERR_ANSWER_GONE
                                                   : UMS_ERR_INVALID_ARGUMENT;
            snprintf(what, sizeof what, "%s(%s = \"\")", d->name, d->slot[k]);
            CHECK(s == want, "%s: %d, expected %d: %s", what, s, want, out);
            check_doc(what, s, out, out_len);
        }
    }

    /* Huge (256 KiB) text arguments that have a format. */
    {
        size_t n = 256 << 10;
        char *s1 = malloc(n + 1), *s2 = malloc(n + 1);
        memset(s1, '1', n);
        s1[n] = '\0';
        memcpy(s2, "/v1/", 4);
        memset(s2 + 4, 'a', n - 4);
        s2[n] = '\0';
        const struct {
            int id, slot;
            const char *value;
        } cases[] = {
            {E_PREPARE, 0, s1}, {E_PREPARE, 0, s2}, {E_PREPARE, 2, s1}, {E_PREPARE, 3, s1},
            {E_SIGN_BODY, 0, s1}, {E_SIGN_BODY, 1, s1}, {E_TOKEN_REQUEST, 0, s1}, {E_TOKEN_REQUEST, 1, s1},
            {E_CALL, 0, s1}, {E_CALL, 0, s2},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct inv v = default_inv(cases[i].id);
            v.s[cases[i].slot] = cases[i].value;
            UmsStatus s;
            size_t len;
            char *doc = invoke_alloc(&v, &s, &len);
            snprintf(what, sizeof what, "%s(256 KiB %s #%zu)", EXPORTS[cases[i].id].name,
                     EXPORTS[cases[i].id].slot[cases[i].slot], i);
            CHECK(s == UMS_ERR_INVALID_ARGUMENT, "%s: %d %.200s", what, s, doc ? doc : "");
            if (doc) check_doc(what, s, doc, len);
            free(doc);
        }
        free(s1);
        free(s2);
    }
}

static void test_formats(void) {
    char what[200];
    const char *const bad_ts[] = {
        "2026091710203", "202609171020300", "20261317102030", "20260230102030", "20230229102030",
        "20260917246060", "20260917250000", "20260917106000", "20260917102060", "20260900102030",
        "20260017102030", "2026-09-17", "abcdefghijklmn", "2026091710203\n", " 20260917102030",
        "\xEF\xBC\x92\xEF\xBC\x90\xEF\xBC\x92\xEF\xBC\x96", "2026\xC3\xA9" "09171020", "+2026091710203",
        "-2026091710203", "0x260917102030",
    };
    const char *const ok_ts[] = {"20240229000000", "20261231235959", "20260101000000"};
    const char *const bad_nonce[] = {"a b", "a\"b", "\t", "a\nb", "\x7f", "\xC3\xA9", "a\\\"", " "};
    char n128[129], n129[130];
    memset(n128, 'n', 128);
    n128[128] = '\0';
    memset(n129, 'n', 129);
    n129[129] = '\0';
    const int ids[] = {E_PREPARE, E_SIGN_BODY, E_TOKEN_REQUEST};
    for (size_t e = 0; e < 3; e++) {
        int id = ids[e];
        int ts_slot = id == E_PREPARE ? 2 : 0, nonce_slot = ts_slot + 1;
        for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++) {
            struct inv v = default_inv(id);
            v.s[ts_slot] = bad_ts[i];
            UmsStatus s = invoke(&v, out, sizeof out, &out_len);
            snprintf(what, sizeof what, "%s(timestamp %s)", EXPORTS[id].name, bad_ts[i]);
            CHECK(s == UMS_ERR_INVALID_ARGUMENT, "%s: %d %s", what, s, out);
            check_doc(what, s, out, out_len);
        }
        for (size_t i = 0; i < sizeof ok_ts / sizeof ok_ts[0]; i++) {
            struct inv v = default_inv(id);
            v.s[ts_slot] = ok_ts[i];
            UmsStatus s = invoke(&v, out, sizeof out, &out_len);
            CHECK(s == UMS_OK || (id == E_PREPARE && s == UMS_ERR_VALIDATION), "%s(timestamp %s): %d %s",
                  EXPORTS[id].name, ok_ts[i], s, out);
        }
        for (size_t i = 0; i < sizeof bad_nonce / sizeof bad_nonce[0] + 1; i++) {
            struct inv v = default_inv(id);
            v.s[nonce_slot] = i < sizeof bad_nonce / sizeof bad_nonce[0] ? bad_nonce[i] : n129;
            UmsStatus s = invoke(&v, out, sizeof out, &out_len);
            snprintf(what, sizeof what, "%s(nonce #%zu)", EXPORTS[id].name, i);
            CHECK(s == UMS_ERR_INVALID_ARGUMENT, "%s: %d %s", what, s, out);
            check_doc(what, s, out, out_len);
        }
        struct inv v = default_inv(id);
        v.s[nonce_slot] = n128;
        UmsStatus s = invoke(&v, out, sizeof out, &out_len);
        CHECK(s == UMS_OK, "%s(128-character nonce): %d %s", EXPORTS[id].name, s, out);
        v.s[nonce_slot] = "!#$%&'()*+-./:;<=>?@[]^_`{|}~";
        s = invoke(&v, out, sizeof out, &out_len);
        CHECK(s == UMS_OK, "%s(punctuation nonce): %d %s", EXPORTS[id].name, s, out);
        check_doc("punctuation nonce", s, out, out_len);
        /* A comma would split the Authorization header's pairs. */
        v.s[nonce_slot] = "a,b";
        s = invoke(&v, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_INVALID_ARGUMENT, "%s(nonce with a comma): %d %s", EXPORTS[id].name, s, out);
    }

    /* Service paths: rejected before anything is parsed or sent. */
    char long_path[300];
    memcpy(long_path, "/v1/", 4);
    memset(long_path + 4, 'a', 253);
    long_path[257] = '\0';
    const char *const bad_paths[] = {
        "/", "/v1", "v1/netpay/bills/query", "/v2/netpay/x", "/V1/x", "/v1/../x", "/v1/./x", "/v1/x/..",
        "/v1//x", "/v1/x?y=1", "/v1/x#y", "/v1/x y", "/v1/%2e%2e/x", "/v1/x\r\nHost: evil", "/v1/x\\y",
        "https://evil/v1/x", "//evil/v1/x", "/v1/x\x01", "/v1/\xC3\xA9", long_path,
    };
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        UmsStatus s = ums_call(hostile_client, bad_paths[i], "[]", out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_INVALID_ARGUMENT, "call(path #%zu %.30s): %d %s", i, bad_paths[i], s, out);
        check_doc("bad path", s, out, out_len);
        s = ums_prepare(hostile_client, bad_paths[i], "{}", TS, NONCE, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_INVALID_ARGUMENT, "prepare(path #%zu %.30s): %d %s", i, bad_paths[i], s, out);
    }
    const char *const bad_ops[] = {"UPDATE-QRCODE", "update-qrcode ", "update_qrcode", "nope", "update-qrcode\n"};
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        UmsStatus s = ums_prepare(hostile_client, bad_ops[i], VALID_UPDATE_REQ, TS, NONCE, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_INVALID_ARGUMENT, "prepare(operation %s): %d %s", bad_ops[i], s, out);
    }
    /* Good paths with a broken request: the request error, nothing sent. */
    UmsStatus s = ums_call(hostile_client, "/v1/netpay/bills/query", "[]", out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_INVALID_JSON, "good path, bad JSON: %d %s", s, out);

    /* Notification bodies. */
    const struct {
        const char *body;
        UmsStatus want;
    } notes[] = {
        {"a=1", UMS_ERR_NOTIFY_MISSING_SIGN},
        {"a=1&sign=", UMS_ERR_NOTIFY_MISSING_SIGN},
        {"sign=x&sign=x", UMS_ERR_NOTIFY_DUPLICATE_FIELD},
        {"a=1&a=1&sign=x", UMS_ERR_NOTIFY_DUPLICATE_FIELD},
        {"a=1&%61=1&sign=x", UMS_ERR_NOTIFY_DUPLICATE_FIELD},
        {"signType=sha256&sign=x", UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE},
        {"signType=&sign=x", UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE},
        {"signType=RSA2&sign=x", UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE},
        {"a=1&sign=00", UMS_ERR_NOTIFY_BAD_SIGNATURE},
        {"a=%00&sign=00", UMS_ERR_NOTIFY_BAD_SIGNATURE},
        {"a=1&sign=0000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
         UMS_ERR_NOTIFY_BAD_SIGNATURE},
        {"a=%C0%80&sign=x", UMS_ERR_NOTIFY_MALFORMED},
        {"a=%ED%A0%80&sign=x", UMS_ERR_NOTIFY_MALFORMED},
        {"a=%FF&sign=x", UMS_ERR_NOTIFY_MALFORMED},
        {"a=1&sign=x%", UMS_ERR_NOTIFY_MALFORMED},
        {"a=1&sign=x%E", UMS_ERR_NOTIFY_MALFORMED},
        {"a=%E4%B8&sign=x", UMS_ERR_NOTIFY_MALFORMED},
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)notes[i].body, strlen(notes[i].body), out, sizeof out,
                              &out_len);
        CHECK(s == notes[i].want, "notification %s: %d, expected %d: %s", notes[i].body, s, notes[i].want, out);
        check_doc("notification", s, out, out_len);
    }
    /* Many distinct empty fields (1500: the duplicate check is quadratic, see
       the report), and 64 KiB of empty pairs. */
    {
        char *body = malloc(MAX_NOTIFY + 16), *p = body;
        for (unsigned i = 0; i < 1500; i++) p += sprintf(p, "k%u=&", i);
        p += sprintf(p, "sign=00");
        s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)body, (size_t)(p - body), out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_BAD_SIGNATURE, "thousands of fields: %d %s", s, out);
        memset(body, '&', MAX_NOTIFY);
        s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)body, MAX_NOTIFY, out, sizeof out, &out_len);
        CHECK(s == UMS_ERR_NOTIFY_MALFORMED, "64 KiB of '&': %d %s", s, out);
        free(body);
    }
}

/* Signed notifications whose JSON-text fields are hostile: still verified,
   never a crash. */
static void test_signed_hostile_notifications(void) {
    char *deep = repeat("", "[", 18000, "", "", 0, "");
    char *deep_balanced = repeat("", "[", 9000, "", "]", 9000, "");
    char *deep_127 = repeat("", "[", 127, "", "]", 127, "");
    const char *const values[] = {
        deep, deep_balanced, deep_127, "NaN", "{\"a\":NaN}", "{\"a\":1e99999}", "{\"a\":1,\"a\":2}",
        "123456789012345678901234567890", "{\"a\":\"\\ud800\"}", "", "null", "[", "\"",
    };
    const char *const names[] = {"billPayment", "goods", "retCommParams"};
    for (size_t n = 0; n < 3; n++) {
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
            struct field f[] = {
                {"notifyId", "n-1"}, {names[n], values[i]}, {"signType", "SHA256"}, {"mid", "898340149000005"}};
            size_t blen;
            char *b = signed_notify(f, 4, NOTIFY_KEY, &blen);
            struct inv v = default_inv(E_VERIFY_NOTIFY);
            v.body = (const uint8_t *)b;
            v.body_len = blen;
            UmsStatus s;
            size_t len;
            char *doc = invoke_alloc(&v, &s, &len);
            CHECK(s == UMS_OK, "signed notification, %s = %.30s: %d %.200s", names[n], values[i], s,
                  doc ? doc : "");
            if (doc) {
                check_doc("signed hostile notification", s, doc, len);
                CHECK(strstr(doc, "\"valid\":true") != NULL, "valid: %.200s", doc);
            }
            free(doc);
            free(b);
        }
    }
    free(deep);
    free(deep_balanced);
    free(deep_127);
}

static void test_client_cycles(void) {
    char buf[1024];
    size_t len;
    for (int i = 0; i < 100; i++) {
        UmsClient *c = NULL;
        UmsStatus s = ums_client_new(LOOP_CONFIG, &c, buf, sizeof buf, &len);
        if (s != UMS_OK || c == NULL) {
            CHECK(0, "cycle %d: %d %s", i, s, buf);
            break;
        }
        ums_client_free(c);
        ums_client_free(NULL);
    }
    passed++;
    UmsClient *many[100];
    int made = 0;
    for (int i = 0; i < 100; i++) {
        many[i] = NULL;
        if (ums_client_new(LOOP_CONFIG, &many[i], buf, sizeof buf, &len) == UMS_OK) made++;
    }
    CHECK(made == 100, "100 clients at once: %d", made);
    for (int i = 99; i >= 0; i--) ums_client_free(many[i]);

    /* Failures and too-small buffers hand out no handle and leak nothing. */
    int bad = 0;
    size_t info_len = 0;
    for (int i = 0; i < 100; i++) {
        UmsClient *c = (UmsClient *)&c;
        if (ums_client_new("{\"environment\":\"https://gateway.invalid\"}", &c, buf, sizeof buf, &len) !=
                UMS_ERR_CONFIG ||
            c != NULL)
            bad++;
        c = (UmsClient *)&c;
        if (ums_client_new(LOOP_CONFIG, &c, NULL, 0, &info_len) != UMS_ERR_BUFFER_TOO_SMALL || c != NULL) bad++;
        c = (UmsClient *)&c;
        if (ums_client_new(LOOP_CONFIG, &c, buf, info_len, &len) != UMS_ERR_BUFFER_TOO_SMALL || c != NULL) bad++;
        c = (UmsClient *)&c;
        if (ums_client_new(LOOP_CONFIG, &c, buf, 1, &len) != UMS_ERR_BUFFER_TOO_SMALL || c != NULL || buf[0]) bad++;
    }
    CHECK(bad == 0, "%d failed creations handed out a handle or the wrong status", bad);
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_calls = 0, log_bad = 0;

static void hostile_log(void *userdata, int32_t level, const char *message) {
    pthread_mutex_lock(&log_lock);
    log_calls++;
    if (userdata != (void *)&log_calls || level < UMS_LOG_ERROR || level > UMS_LOG_DEBUG || message == NULL ||
        strstr(message, APP_KEY) != NULL || strstr(message, NOTIFY_KEY) != NULL)
        log_bad++;
    pthread_mutex_unlock(&log_lock);
}

static void test_log_callback(void) {
    const int32_t bad_levels[] = {0, 5, -1, 99, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_levels / sizeof bad_levels[0]; i++) {
        UmsStatus s = ums_set_log_callback(hostile_log, &log_calls, bad_levels[i]);
        CHECK(s == UMS_ERR_INVALID_ARGUMENT, "log level %d: %d", bad_levels[i], s);
        s = ums_set_log_callback(NULL, NULL, bad_levels[i]);
        CHECK(s == UMS_OK, "remove with level %d: %d", bad_levels[i], s);
    }
    for (int32_t level = UMS_LOG_ERROR; level <= UMS_LOG_DEBUG; level++)
        CHECK(ums_set_log_callback(hostile_log, &log_calls, level) == UMS_OK, "level %d", level);
    CHECK(ums_set_log_callback(NULL, &log_calls, UMS_LOG_DEBUG) == UMS_OK, "remove");
    CHECK(ums_set_log_callback(NULL, NULL, 0) == UMS_OK, "remove twice");
}

/* ------------------------------------------------------------------------ */
/* Concurrency: 8 threads on one client.                                     */

#define THREADS 8
#define ITERATIONS 15

struct ref_call {
    struct inv v;
    UmsStatus status;
    char *doc;
};
static struct ref_call refs[10];
static size_t n_refs;

struct worker {
    pthread_t thread;
    int mismatches;
    char first_mismatch[256];
    char ids[ITERATIONS][40];
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char *buf = malloc(65536);
    for (int i = 0; i < ITERATIONS; i++) {
        for (size_t r = 0; r < n_refs; r++) {
            size_t len = SENTINEL;
            UmsStatus s = invoke(&refs[r].v, buf, 65536, &len);
            if (s != refs[r].status || len != strlen(refs[r].doc) || strcmp(buf, refs[r].doc) != 0) {
                if (w->mismatches++ == 0)
                    snprintf(w->first_mismatch, sizeof w->first_mismatch, "%s: %d %.200s",
                             EXPORTS[refs[r].v.id].name, s, buf);
            }
            /* A too-small buffer under contention. */
            char small[8];
            len = SENTINEL;
            s = invoke(&refs[r].v, small, sizeof small, &len);
            size_t want = is_operation(refs[r].v.id) ? UMS_MIN_OUT_CAP - 1 : strlen(refs[r].doc);
            if (s != UMS_ERR_BUFFER_TOO_SMALL || len != want || memchr(small, 0, sizeof small) == NULL)
                w->mismatches++;
        }
        size_t len = SENTINEL;
        UmsStatus s = ums_new_id(hostile_client, buf, 65536, &len);
        if (s == UMS_OK && len == 37 && strncmp(buf, "{\"id\":\"3194", 11) == 0)
            memcpy(w->ids[i], buf + 7, 28);
        else
            w->mismatches++;
        w->ids[i][28] = '\0';
    }
    free(buf);
    return NULL;
}

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

static void test_threads(void) {
    n_refs = 0;
    struct inv v = default_inv(E_PREPARE);
    refs[n_refs++].v = v;
    v.s[1] = "{\"a\":NaN}";
    refs[n_refs++].v = v;
    v = default_inv(E_SIGN_BODY);
    refs[n_refs++].v = v;
    v = default_inv(E_VERIFY_NOTIFY);
    refs[n_refs++].v = v;
    v.body = (const uint8_t *)"a=1&sign=00";
    v.body_len = 11;
    refs[n_refs++].v = v;
    v = default_inv(E_TOKEN_REQUEST);
    refs[n_refs++].v = v;
    v = default_inv(E_UPDATE_QRCODE);
    refs[n_refs++].v = v;
    v = default_inv(E_TAKE_ANSWER);
    refs[n_refs++].v = v;
    v = default_inv(E_CLIENT_VERIFY_NOTIFY);
    refs[n_refs++].v = v;
    for (size_t r = 0; r < n_refs; r++) {
        size_t len;
        refs[r].doc = invoke_alloc(&refs[r].v, &refs[r].status, &len);
        CHECK(refs[r].doc != NULL, "reference %zu", r);
        if (!refs[r].doc) return;
    }
    CHECK(refs[0].status == UMS_OK && refs[2].status == UMS_OK && refs[3].status == UMS_OK &&
              refs[5].status == UMS_OK,
          "references succeed: %d %d %d %d", refs[0].status, refs[2].status, refs[3].status, refs[5].status);

    /* ums_prepare's authorization is ums_sign_body of its body. */
    const char *body_at = strstr(refs[0].doc, "\"body\":\"");
    if (body_at) {
        char body[4096];
        size_t n = 0;
        for (const char *p = body_at + 8; *p && *p != '"' && n < sizeof body - 1; p++) {
            if (*p == '\\') p++;
            body[n++] = *p;
        }
        body[n] = '\0';
        char auth[300];
        expected_authorization(APP_ID, APP_KEY, TS, NONCE, body, n, auth, sizeof auth);
        CHECK(strstr(refs[0].doc, auth) != NULL, "prepare's authorization signs its body:\n%s\n%s", refs[0].doc,
              auth);
        CHECK(strstr(body, "\"requestTimestamp\":\"2026-09-17 10:20:30\"") != NULL, "requestTimestamp: %s", body);
    }
    char auth[300];
    expected_authorization(APP_ID, APP_KEY, TS, NONCE, "{\"a\":1}", 7, auth, sizeof auth);
    CHECK(strstr(refs[2].doc, auth) != NULL, "sign_body: %s\nexpected %s", refs[2].doc, auth);
    char token_sig[65], msg[256];
    snprintf(msg, sizeof msg, "%s%s%s%s", APP_ID, TS, NONCE, APP_KEY);
    sha256_hex(msg, strlen(msg), token_sig);
    CHECK(strstr(refs[5].doc, token_sig) != NULL, "token signature: %s (expected %s)", refs[5].doc, token_sig);
    CHECK(strstr(refs[3].doc, "\"notifyId\":\"hostile-notify-1\"") != NULL &&
              strstr(refs[3].doc, "\"totalAmount\":26") != NULL,
          "notification: %s", refs[3].doc);

    CHECK(ums_set_log_callback(hostile_log, &log_calls, UMS_LOG_DEBUG) == UMS_OK, "install log");
    struct worker *w = calloc(THREADS, sizeof *w);
    for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&w[t].thread, NULL, worker_main, &w[t]) == 0, "thread");
    for (int t = 0; t < THREADS; t++) pthread_join(w[t].thread, NULL);
    CHECK(ums_set_log_callback(NULL, NULL, 0) == UMS_OK, "remove log");
    int mismatches = 0;
    for (int t = 0; t < THREADS; t++) {
        if (w[t].mismatches) fprintf(stderr, "thread %d: %s\n", t, w[t].first_mismatch);
        mismatches += w[t].mismatches;
    }
    CHECK(mismatches == 0, "%d results differ from the single-threaded ones", mismatches);
    char(*ids)[40] = malloc(sizeof(char[40]) * THREADS * ITERATIONS);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < ITERATIONS; i++) memcpy(ids[t * ITERATIONS + i], w[t].ids[i], 40);
    qsort(ids, THREADS * ITERATIONS, 40, cmp_id);
    int dups = 0;
    for (int i = 1; i < THREADS * ITERATIONS; i++)
        if (strcmp(ids[i], ids[i - 1]) == 0) dups++;
    CHECK(dups == 0, "%d duplicate identifiers across threads", dups);
    pthread_mutex_lock(&log_lock);
    CHECK(log_bad == 0, "%d log messages were bad or showed a secret", log_bad);
    pthread_mutex_unlock(&log_lock);
    free(ids);
    free(w);
    for (size_t r = 0; r < n_refs; r++) free(refs[r].doc);
}

/* ------------------------------------------------------------------------ */
/* A real gateway answer (ums-sandbox): below UMS_MIN_OUT_CAP nothing        */
/* is sent; a too-small buffer keeps it under an answerId; ums_take_answer    */
/* through every capacity keeps it until one fits; then it is gone.          */

static void test_kept_answer_sweep(void) {
    UmsClient *client = NULL;
    char buf[1024], config[1024];
    size_t len;
    UmsStatus s = ums_client_new(demo_config(config, sizeof config, ""), &client, buf, sizeof buf, &len);
    CHECK(s == UMS_OK && client, "simulator client: %d %s", s, buf);
    if (!client) return;
    char req[1024];
    snprintf(req, sizeof req,
             "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"instMid\":\"QRPAYDEFAULT\","
             "\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"3194%lld77\",\"billDate\":\"%s\","
             "\"totalAmount\":\"26\"}",
             (long long)time(NULL), today());

    /* NULL out_len / out_buf: refused before anything is sent. */
    s = ums_update_qrcode(client, req, buf, sizeof buf, NULL);
    CHECK(s == UMS_ERR_NULL_POINTER, "NULL out_len: %d", s);
    s = ums_update_qrcode(client, req, NULL, sizeof buf, &len);
    CHECK(s == UMS_ERR_NULL_POINTER, "NULL out_buf: %d", s);

    /* Below the minimum: nothing sent (had anything been sent, the request
       below would be a duplicate, DUP_ORDER). */
    const size_t small_caps[] = {0, 1, 2, 3, strlen(MIN_NOTE), strlen(MIN_NOTE) + 1, UMS_MIN_OUT_CAP - 1};
    for (size_t i = 0; i < sizeof small_caps / sizeof small_caps[0]; i++) {
        size_t cap = small_caps[i];
        unsigned char *g = guarded(cap);
        size_t got = SENTINEL;
        s = ums_update_qrcode(client, req, cap ? (char *)g : NULL, cap, &got);
        CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && got == UMS_MIN_OUT_CAP - 1, "cap %zu: %d %zu", cap, s, got);
        int bad = past_cap(g, cap);
        CHECK(bad == 0, "cap %zu: %d bytes past out_cap", cap, bad);
        free(g);
    }

    /* The minimum: sent, and the answer does not fit: kept. */
    char note[UMS_MIN_OUT_CAP + GUARD];
    memset(note, GUARD_BYTE, sizeof note);
    size_t L = SENTINEL;
    s = ums_update_qrcode(client, req, note, UMS_MIN_OUT_CAP, &L);
    char id[33];
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && L != SENTINEL && L >= UMS_MIN_OUT_CAP && note_answer_id(note, id),
          "kept: %d %zu %.300s", s, L, note);
    if (s != UMS_ERR_BUFFER_TOO_SMALL || L == SENTINEL || L < UMS_MIN_OUT_CAP || !note_answer_id(note, id)) {
        ums_client_free(client);
        return;
    }
    int bad = past_cap((const unsigned char *)note, UMS_MIN_OUT_CAP);
    CHECK(bad == 0, "kept note: %d bytes past out_cap", bad);
    CHECK(strstr(note, "\"answerStatus\":\"UMS_OK\"") != NULL, "answerStatus: %s", note);
    size_t note_len = strlen(note);
    const size_t caps[] = {0, 1, 2, 3, note_len - 1, note_len, note_len + 1, L / 2, L - 1, L};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        unsigned char *g = guarded(caps[i]);
        size_t got = SENTINEL;
        s = ums_take_answer(client, id, caps[i] ? (char *)g : NULL, caps[i], &got);
        CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && got == L, "kept, cap %zu: %d %zu (doc %zu)", caps[i], s, got, L);
        if (caps[i] > 0) CHECK(memchr(g, 0, caps[i]) != NULL, "kept, cap %zu: NUL", caps[i]);
        if (caps[i] > note_len) CHECK(strcmp((char *)g, note) == 0, "kept, cap %zu: same note %s", caps[i], (char *)g);
        bad = past_cap(g, caps[i]);
        CHECK(bad == 0, "kept, cap %zu: %d bytes past out_cap", caps[i], bad);
        free(g);
    }
    unsigned char *g = guarded(L + 1);
    size_t got = SENTINEL;
    s = ums_take_answer(client, id, (char *)g, L + 1, &got);
    CHECK(s == UMS_OK && got == L && strstr((char *)g, "\"errCode\":\"SUCCESS\"") != NULL,
          "the kept answer after %zu too-small takes: %d %.200s", sizeof caps / sizeof caps[0], s, (char *)g);
    bad = past_cap(g, L + 1);
    CHECK(bad == 0, "kept answer: %d bytes past out_cap", bad);
    free(g);
    s = ums_take_answer(client, id, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_ANSWER_GONE, "taken once: %d %s", s, out);
    check_doc("answer gone", s, out, out_len);
    /* Calling again sends again: this billNo is now a duplicate. */
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_GATEWAY_REJECTED && strstr(out, "DUP_ORDER") != NULL, "resend: %d %.200s", s, out);
    check_doc("resend", s, out, out_len);
    ums_client_free(client);
}

/* A host name that cannot resolve (RFC 6761 reserves .invalid): no
   connection was made, so nothing can have been sent. */
static void test_unresolvable_host(void) {
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new("{\"environment\":\"https://gateway.invalid\",\"appId\":\"a\",\"appKey\":\"k\","
                                 "\"connectTimeoutMs\":3000,\"timeoutMs\":3000}",
                                 &client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && client, "client: %d %s", s, out);
    if (!client) return;
    s = ums_query_bill(client,
                       "{\"mid\":\"898340149000005\",\"tid\":\"00000001\",\"billNo\":\"31940001\","
                       "\"billDate\":\"2026-09-17\"}",
                       out, sizeof out, &out_len);
    /* (UMS_ERR_TLS where a resolver answers for every name.) */
    CHECK((s == UMS_ERR_CONNECT || s == UMS_ERR_TLS) && strstr(out, "\"nothingSent\":true") != NULL,
          "unresolvable gateway host: %d, expected UMS_ERR_CONNECT (nothing sent): %s", s, out);
    check_doc("unresolvable host", s, out, out_len);
    ums_client_free(client);
}

/* Runs one test; with UMS_TEST_TIMING set, prints the CPU time it took. */
#define RUN(test)                                                                                 \
    do {                                                                                          \
        struct timespec t0_, t1_;                                                                 \
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0_);                                            \
        test();                                                                                   \
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1_);                                            \
        if (getenv("UMS_TEST_TIMING"))                                                            \
            fprintf(stderr, "%-36s %.3f s CPU\n", #test,                                          \
                    (double)(t1_.tv_sec - t0_.tv_sec) + (double)(t1_.tv_nsec - t0_.tv_nsec) / 1e9); \
    } while (0)

int main(void) {
    sandbox_start(); /* first: before any thread */
    good_notify = signed_notify(NOTIFY_FIELDS, sizeof NOTIFY_FIELDS / sizeof NOTIFY_FIELDS[0], NOTIFY_KEY,
                                &good_notify_len);
    size_t len;
    UmsStatus s = ums_client_new(HOSTILE_CONFIG, &hostile_client, out, sizeof out, &len);
    if (s != UMS_OK || hostile_client == NULL) {
        fprintf(stderr, "cannot create the client: %d %s\n", s, out);
        return 1;
    }
    RUN(test_static_strings);
    RUN(test_null_pointers);
    RUN(test_buffer_sweeps);
    RUN(test_invalid_utf8);
    RUN(test_hostile_json);
    RUN(test_sizes_and_lengths);
    RUN(test_formats);
    RUN(test_signed_hostile_notifications);
    RUN(test_client_cycles);
    RUN(test_log_callback);
    RUN(test_threads);
    RUN(test_kept_answer_sweep);
    RUN(test_unresolvable_host);
    ums_client_free(hostile_client);
    free(good_notify);
    return CHECK_SUMMARY();
}
