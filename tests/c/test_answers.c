/*
 * Kept answers through the C ABI, against the ums-sandbox simulator (a
 * separate process started by support.h), counting what the simulator
 * received (GET /_sandbox/stats):
 *
 *  - an operation called with out_cap < UMS_MIN_OUT_CAP sends nothing;
 *  - a document that does not fit is kept under an answerId for that call
 *    only: another caller with the same request text gets its own, new
 *    answer; ums_take_answer hands each answer to its own caller once;
 *  - a take with a buffer still too small keeps it (same answerId);
 *  - a taken, unknown or malformed id answers UMS_ERR_ANSWER_GONE;
 *  - error documents (a gateway rejection) are kept with their status;
 *  - threads taking their own answers never see another's.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure. Built and
 * run by `make test-c`, `make test-c-valgrind` and `make test-c-asan`.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ums.h"
#include "check.h"
#include "support.h"

#define GET_QRCODE "/v1/netpay/bills/get-qrcode"
#define SENTINEL ((size_t)0x5A5A5A5A)
#define MIN_NOTE "{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":256,\"nothingSent\":true}"

static char out[16384];
static size_t out_len;
static char config[1024]; /* the simulator, the demo app, mid and tid (main) */

/* ---- helpers -------------------------------------------------------------- */

/* All requests the simulator received on business paths. */
static long business_requests(void) {
    static const char *const paths[] = {
        "/v1/netpay/bills/update-qrcode", "/v1/netpay/bills/get-qrcode",   "/v1/netpay/bills/close-qrcode",
        "/v1/netpay/bills/query",         "/v1/netpay/bills/refund",        "/v1/netpay/bills/query-qrcode-info",
        "/v1/netpay/bills/preauthed",     "/v1/netpay/bills/preauth-cancel", "/v1/netpay/secure-cancel",
        "/v1/netpay/secure-complete",
    };
    long total = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        long n = sandbox_stat(paths[i]);
        if (n < 0) return -1;
        total += n;
    }
    return total;
}

/* 32 lowercase hex characters. */
static int is_answer_id(const char *id) {
    if (strlen(id) != 32) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

/* Checks the small document of a kept answer; copies its answerId. */
static void check_kept_note(const char *what, const char *note, size_t doc_len, const char *answer_status,
                            char *id, size_t id_cap) {
    char expected[96];
    snprintf(expected, sizeof expected, "{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":%zu,\"answerId\":\"",
             doc_len + 1);
    CHECK(strncmp(note, expected, strlen(expected)) == 0, "%s: note %s", what, note);
    int found = json_str(note, "answerId", id, id_cap);
    CHECK(found && is_answer_id(id), "%s: answerId in %s", what, note);
    char status[64];
    CHECK(json_str(note, "answerStatus", status, sizeof status) && strcmp(status, answer_status) == 0,
          "%s: answerStatus %s, expected %s", what, note, answer_status);
    CHECK(strlen(note) < UMS_MIN_OUT_CAP, "%s: the note is under UMS_MIN_OUT_CAP: %zu", what, strlen(note));
}

static UmsClient *new_client(void) {
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new(config, &client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && client != NULL, "ums_client_new: %d %s", s, out);
    return client;
}

/* ---- tests ------------------------------------------------------------- */

/* (e) Below UMS_MIN_OUT_CAP no operation sends anything, whatever the
   request (even a valid one); the note is the fixed one. */
static void test_min_out_cap_sends_nothing(UmsClient *client) {
    typedef UmsStatus (*op_fn)(const UmsClient *, const char *, char *, size_t, size_t *);
    static const op_fn ops[] = {ums_update_qrcode, ums_get_qrcode,       ums_close_qrcode,   ums_query_bill,
                                ums_refund,        ums_query_qrcode_info, ums_preauth_complete, ums_preauth_cancel,
                                ums_secure_cancel, ums_secure_complete};
    const size_t caps[] = {0, 1, 2, sizeof MIN_NOTE - 1, sizeof MIN_NOTE, sizeof MIN_NOTE + 1, 200, UMS_MIN_OUT_CAP - 1};
    long before = business_requests();
    CHECK(before >= 0, "simulator stats readable");
    for (size_t o = 0; o < sizeof ops / sizeof ops[0] + 1; o++) {
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            size_t cap = caps[c];
            unsigned char *g = guarded(cap);
            size_t len = SENTINEL;
            char *buf = cap == 0 ? NULL : (char *)g;
            UmsStatus s = o < sizeof ops / sizeof ops[0]
                              ? ops[o](client, "{}", buf, cap, &len)
                              : ums_call(client, GET_QRCODE, "{}", buf, cap, &len);
            CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && len == UMS_MIN_OUT_CAP - 1, "op %zu cap %zu: %d %zu", o, cap, s,
                  len);
            if (cap > strlen(MIN_NOTE))
                CHECK(strcmp((char *)g, MIN_NOTE) == 0, "op %zu cap %zu: note %s", o, cap, (char *)g);
            else if (cap > 0)
                CHECK(g[0] == 0, "op %zu cap %zu: an empty string when the note does not fit", o, cap);
            int bad = past_cap(g, cap);
            CHECK(bad == 0, "op %zu cap %zu: %d bytes written past out_cap", o, cap, bad);
            free(g);
        }
    }
    /* A request that would be sent: still nothing below the minimum. */
    size_t len = SENTINEL;
    char small[UMS_MIN_OUT_CAP - 1];
    UmsStatus s = ums_get_qrcode(client, "{}", small, sizeof small, &len);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && len == UMS_MIN_OUT_CAP - 1 && strcmp(small, MIN_NOTE) == 0,
          "valid get-qrcode, cap 255: %d %zu %s", s, len, small);
    /* Not even parsed: invalid UTF-8, invalid JSON. */
    s = ums_query_bill(client, "{\"a\":\"\xff\"}", small, sizeof small, &len);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && len == UMS_MIN_OUT_CAP - 1, "bad UTF-8, cap 255: %d %zu", s, len);
    s = ums_call(client, "/v2/../x", "[", small, sizeof small, &len);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && len == UMS_MIN_OUT_CAP - 1, "bad path, cap 255: %d %zu", s, len);
    /* NULL arguments are still checked first. */
    s = ums_get_qrcode(NULL, "{}", small, sizeof small, &len);
    CHECK(s == UMS_ERR_NULL_POINTER && strstr(small, "`client`") != NULL, "NULL client, cap 255: %d %s", s, small);
    s = ums_get_qrcode(client, NULL, small, sizeof small, &len);
    CHECK(s == UMS_ERR_NULL_POINTER, "NULL request, cap 255: %d %s", s, small);
    s = ums_call(client, NULL, "{}", small, sizeof small, &len);
    CHECK(s == UMS_ERR_NULL_POINTER && strstr(small, "`service_path`") != NULL, "NULL path: %d %s", s, small);
    long after = business_requests();
    CHECK(after == before, "the simulator received %ld requests from calls below UMS_MIN_OUT_CAP", after - before);

    /* At exactly UMS_MIN_OUT_CAP the call is made. */
    char *at_min = malloc(UMS_MIN_OUT_CAP);
    s = ums_query_bill(client, "{}", at_min, UMS_MIN_OUT_CAP, &len);
    CHECK(s == UMS_ERR_VALIDATION && strstr(at_min, "\"field\"") != NULL, "cap 256: %d %s", s, at_min);
    CHECK(strstr(at_min, "\"phase\":\"local\"") != NULL, "validation is local: %s", at_min);
    free(at_min);
}

/* (a) Two callers, the same request text: each gets its own QR code; the
   simulator sees two requests, never a third. */
static void test_same_text_two_callers(UmsClient *client) {
    const char *req = "{\"totalAmount\":100,\"billDesc\":\"same text, two callers\"}";
    long before = sandbox_stat(GET_QRCODE);

    /* Caller A: a buffer of UMS_MIN_OUT_CAP, too small for the answer. */
    char a_buf[UMS_MIN_OUT_CAP];
    size_t a_len = SENTINEL;
    UmsStatus s = ums_get_qrcode(client, req, a_buf, sizeof a_buf, &a_len);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && a_len >= sizeof a_buf && a_len != SENTINEL, "caller A: %d %zu %s", s,
          a_len, a_buf);
    char a_id[64] = "";
    check_kept_note("caller A", a_buf, a_len, "UMS_OK", a_id, sizeof a_id);

    /* Caller B: the same text, a big buffer: its own, new QR code. */
    size_t b_len = SENTINEL;
    s = ums_get_qrcode(client, req, out, sizeof out, &b_len);
    char b_qr[64] = "";
    CHECK(s == UMS_OK && json_str(out, "qrCodeId", b_qr, sizeof b_qr), "caller B: %d %s", s, out);
    CHECK(strstr(out, "answerId") == NULL, "caller B got an answer, not a note: %s", out);

    /* A takes its own answer by id. */
    char *a_doc = malloc(a_len + 1);
    size_t got = SENTINEL;
    s = ums_take_answer(client, a_id, a_doc, a_len + 1, &got);
    char a_qr[64] = "";
    CHECK(s == UMS_OK && got == a_len && strlen(a_doc) == a_len, "A takes: %d %zu/%zu", s, got, a_len);
    CHECK(json_str(a_doc, "qrCodeId", a_qr, sizeof a_qr) && strstr(a_doc, "\"errCode\":\"SUCCESS\"") != NULL,
          "A's answer: %s", a_doc);
    CHECK(a_qr[0] && b_qr[0] && strcmp(a_qr, b_qr) != 0, "A and B got different QR codes: %s %s", a_qr, b_qr);

    /* (b) A taken id is gone: nothing is sent again. */
    got = SENTINEL;
    s = ums_take_answer(client, a_id, a_doc, a_len + 1, &got);
    CHECK(s == UMS_ERR_ANSWER_GONE, "taken twice: %d %s", s, a_doc);
    CHECK(got == strlen(a_doc) && strstr(a_doc, "\"status\":\"UMS_ERR_ANSWER_GONE\"") != NULL &&
              strstr(a_doc, "\"kind\":\"answer_gone\"") != NULL &&
              strstr(a_doc, "\"outcomeUnknown\":true") != NULL && strstr(a_doc, "\"nothingSent\":false") != NULL &&
              strstr(a_doc, "\"phase\":\"sent\"") != NULL && strstr(a_doc, "not sent again") != NULL,
          "ANSWER_GONE document: %s", a_doc);
    free(a_doc);

    long after = sandbox_stat(GET_QRCODE);
    CHECK(after - before == 2, "the simulator saw %ld get-qrcode requests, expected 2", after - before);
}

/* (c) A take whose buffer is still too small keeps the answer (same id);
   every capacity, with a guard region. */
static void test_take_with_small_buffers(UmsClient *client) {
    const char *req = "{\"totalAmount\":7}";
    char note[UMS_MIN_OUT_CAP];
    size_t L = SENTINEL;
    long before = sandbox_stat(GET_QRCODE);
    UmsStatus s = ums_get_qrcode(client, req, note, sizeof note, &L);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && L != SENTINEL && L >= sizeof note, "kept: %d %zu", s, L);
    if (s != UMS_ERR_BUFFER_TOO_SMALL || L == SENTINEL || L < sizeof note) return;
    char id[64] = "";
    check_kept_note("kept", note, L, "UMS_OK", id, sizeof id);
    size_t note_len = strlen(note);

    /* Wrong ids never take it: uppercase, a prefix, a longer one, garbage. */
    char upper[64], longer[80];
    for (size_t i = 0; i <= strlen(id); i++) upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    snprintf(longer, sizeof longer, "%s0", id);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%.31s", id);
    const char *wrong[] = {upper, longer, prefix, "", "not an id", "00000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        if (i == 0 && strcmp(upper, id) == 0) continue; /* an all-digit id has no uppercase */
        size_t len = SENTINEL;
        s = ums_take_answer(client, wrong[i], out, sizeof out, &len);
        CHECK(s == UMS_ERR_ANSWER_GONE && len == strlen(out), "wrong id \"%s\": %d %s", wrong[i], s, out);
    }
    s = ums_take_answer(client, "\xff", out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_INVALID_UTF8 && strstr(out, "`answer_id`") != NULL, "bad UTF-8 id: %d %s", s, out);
    s = ums_take_answer(client, NULL, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NULL_POINTER && strstr(out, "`answer_id`") != NULL, "NULL id: %d %s", s, out);
    s = ums_take_answer(NULL, id, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_NULL_POINTER && strstr(out, "`client`") != NULL, "NULL client: %d %s", s, out);
    s = ums_take_answer(client, id, out, sizeof out, NULL);
    CHECK(s == UMS_ERR_NULL_POINTER, "NULL out_len: %d", s);
    s = ums_take_answer(client, id, NULL, 5, &out_len);
    CHECK(s == UMS_ERR_NULL_POINTER, "NULL out_buf with a capacity: %d", s);

    const size_t caps[] = {0, 1, 2, note_len - 1, note_len, note_len + 1, UMS_MIN_OUT_CAP, L - 1, L};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t cap = caps[i];
        unsigned char *g = guarded(cap);
        size_t got = SENTINEL;
        s = ums_take_answer(client, id, cap ? (char *)g : NULL, cap, &got);
        CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && got == L, "take, cap %zu: %d %zu (doc %zu)", cap, s, got, L);
        if (cap > note_len)
            CHECK(strcmp((char *)g, note) == 0, "take, cap %zu: the same note: %s", cap, (char *)g);
        else if (cap > 0)
            CHECK(g[0] == 0, "take, cap %zu: an empty string", cap);
        int bad = past_cap(g, cap);
        CHECK(bad == 0, "take, cap %zu: %d bytes past out_cap", cap, bad);
        free(g);
    }
    /* Exactly enough: the answer, once. */
    unsigned char *g = guarded(L + 1);
    size_t got = SENTINEL;
    s = ums_take_answer(client, id, (char *)g, L + 1, &got);
    CHECK(s == UMS_OK && got == L && strlen((char *)g) == L && strstr((char *)g, "\"errCode\":\"SUCCESS\"") != NULL,
          "take, cap %zu: %d %zu %.200s", L + 1, s, got, (char *)g);
    int bad = past_cap(g, L + 1);
    CHECK(bad == 0, "take: %d bytes past out_cap", bad);
    free(g);
    s = ums_take_answer(client, id, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_ANSWER_GONE, "taken: %d", s);
    CHECK(sandbox_stat(GET_QRCODE) - before == 1, "one request for all those takes");
}

/* Error documents are kept with their status too. */
static void test_error_documents_are_kept(UmsClient *client) {
    char req[512], id[64] = "", note[UMS_MIN_OUT_CAP];
    /* An unknown QR code: the gateway answers NO_ORDER. */
    snprintf(req, sizeof req,
             "{\"qrCodeId\":\"31949999999999999999999999\",\"billNo\":\"3194%lld55\",\"billDate\":\"%s\","
             "\"totalAmount\":26}",
             (long long)time(NULL), today());
    size_t L = SENTINEL;
    UmsStatus s = ums_update_qrcode(client, req, note, sizeof note, &L);
    CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && L >= sizeof note, "rejection kept: %d %zu %s", s, L, note);
    check_kept_note("rejection", note, L, "UMS_ERR_GATEWAY_REJECTED", id, sizeof id);
    s = ums_take_answer(client, id, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_GATEWAY_REJECTED && out_len == L && strstr(out, "\"errCode\":\"NO_ORDER\"") != NULL &&
              strstr(out, "\"phase\":\"sent\"") != NULL,
          "the kept rejection: %d %zu %s", s, out_len, out);
}

/* Threads with their own answers: each takes its own, never another's. */
#define THREADS 8
struct taker {
    const UmsClient *client;
    char qr_from_answer[64];
    char desc[64];
    int ok;
    char error[300];
};

static void *take_own(void *arg) {
    struct taker *t = arg;
    char req[256], note[UMS_MIN_OUT_CAP], id[64], *doc;
    snprintf(req, sizeof req, "{\"totalAmount\":1,\"billDesc\":\"%s\"}", t->desc);
    size_t len = 0;
    UmsStatus s = ums_get_qrcode(t->client, req, note, sizeof note, &len);
    if (s != UMS_ERR_BUFFER_TOO_SMALL || !json_str(note, "answerId", id, sizeof id)) {
        snprintf(t->error, sizeof t->error, "call: %d %s", s, note);
        return NULL;
    }
    doc = malloc(len + 1);
    size_t got = 0;
    s = ums_take_answer(t->client, id, doc, len + 1, &got);
    if (s == UMS_OK && got == len && json_str(doc, "qrCodeId", t->qr_from_answer, sizeof t->qr_from_answer))
        t->ok = 1;
    else
        snprintf(t->error, sizeof t->error, "take: %d %.200s", s, doc);
    free(doc);
    return NULL;
}

static void test_threads_take_their_own(UmsClient *client) {
    struct taker takers[THREADS];
    pthread_t threads[THREADS];
    long before = sandbox_stat(GET_QRCODE);
    for (int i = 0; i < THREADS; i++) {
        memset(&takers[i], 0, sizeof takers[i]);
        takers[i].client = client;
        snprintf(takers[i].desc, sizeof takers[i].desc, "thread %d", i);
        CHECK(pthread_create(&threads[i], NULL, take_own, &takers[i]) == 0, "thread %d", i);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        ok += takers[i].ok;
        if (!takers[i].ok) fprintf(stderr, "thread %d: %s\n", i, takers[i].error);
    }
    CHECK(ok == THREADS, "%d of %d threads took their own answer", ok, THREADS);
    int dups = 0;
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < i; j++) dups += takers[i].ok && takers[j].ok &&
                                              strcmp(takers[i].qr_from_answer, takers[j].qr_from_answer) == 0;
    CHECK(dups == 0, "%d threads received another thread's QR code", dups);
    CHECK(sandbox_stat(GET_QRCODE) - before == THREADS, "one request per thread");
}

/* The answers a client keeps go with it: freeing a client with kept answers
   leaks nothing (valgrind, LeakSanitizer). */
static void test_free_with_kept_answers(void) {
    UmsClient *c = new_client();
    if (c == NULL) return;
    char note[UMS_MIN_OUT_CAP];
    size_t len;
    for (int i = 0; i < 3; i++) {
        UmsStatus s = ums_get_qrcode(c, "{}", note, sizeof note, &len);
        CHECK(s == UMS_ERR_BUFFER_TOO_SMALL && strstr(note, "answerId") != NULL, "kept %d: %d %s", i, s, note);
    }
    ums_client_free(c);
}

int main(void) {
    sandbox_start();
    demo_config(config, sizeof config, ",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\"");
    UmsClient *client = new_client();
    if (client == NULL) return 1;
    CHECK(UMS_MIN_OUT_CAP == 256, "UMS_MIN_OUT_CAP is 256");
    test_min_out_cap_sends_nothing(client);
    test_same_text_two_callers(client);
    test_take_with_small_buffers(client);
    test_error_documents_are_kept(client);
    test_threads_take_their_own(client);
    test_free_with_kept_answers();
    ums_client_free(client);
    return CHECK_SUMMARY();
}
