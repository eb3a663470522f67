/*
 * Load through the C ABI: 32 C threads share one client (token mode, then
 * body-sig mode) and make update-qrcode calls against the ums-sandbox
 * simulator (a separate process started by support.h). Every call must
 * succeed; the simulator's
 * counters (GET /_sandbox/stats) must show exactly one token for the whole
 * run and exactly one request per call.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ums.h"
#include "check.h"
#include "support.h"
#define THREADS 32
#define CALLS_PER_THREAD 40


struct worker {
    const UmsClient *client;
    int index;
    int run;
    int ok;
    const char *today;
    char last_error[512];
};

static void *work(void *arg) {
    struct worker *w = arg;
    char request[512], out[4096];
    size_t len;
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        snprintf(request, sizeof request,
                 "{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"3194%d%02d%04d%lld\","
                 "\"billDate\":\"%s\",\"totalAmount\":%d}",
                 w->run, w->index, i, (long long)time(NULL) % 100000, w->today, 1 + i);
        UmsStatus s = ums_update_qrcode(w->client, request, out, sizeof out, &len);
        if (s == UMS_OK && strstr(out, "\"errCode\":\"SUCCESS\"") != NULL) {
            w->ok++;
        } else {
            snprintf(w->last_error, sizeof w->last_error, "%d %.480s", s, out);
        }
    }
    return NULL;
}

static void run(const char *config, int run_id, int token_mode) {
    char out[4096];
    size_t len;
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new(config, &client, out, sizeof out, &len);
    CHECK(s == UMS_OK, "client: %d %s", s, out);
    if (s != UMS_OK) return;

    long tokens_before = sandbox_stat("tokensIssued");
    long updates_before = sandbox_stat("/v1/netpay/bills/update-qrcode");
    CHECK(tokens_before >= 0 && updates_before >= 0, "stats before");

    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){client, i, run_id, 0, today(), ""};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        ok += workers[i].ok;
        if (workers[i].ok != CALLS_PER_THREAD) fprintf(stderr, "thread %d: %s\n", i, workers[i].last_error);
    }
    CHECK(ok == THREADS * CALLS_PER_THREAD, "%s: %d of %d calls succeeded", token_mode ? "token" : "body-sig", ok,
          THREADS * CALLS_PER_THREAD);

    long tokens = sandbox_stat("tokensIssued") - tokens_before;
    long updates = sandbox_stat("/v1/netpay/bills/update-qrcode") - updates_before;
    CHECK(tokens == (token_mode ? 1 : 0), "tokens issued during the run: %ld", tokens);
    CHECK(sandbox_stat("tokensInvalidated") == 0, "the 10-token limit was never hit");
    CHECK(updates == THREADS * CALLS_PER_THREAD, "requests received: %ld (one per call)", updates);
    ums_client_free(client);
}

int main(void) {
    sandbox_start();
    char config[1024];
    run(demo_config(config, sizeof config, ",\"auth\":\"token\",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\""), 1, 1);
    run(demo_config(config, sizeof config, ",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\""), 2, 0);
    return CHECK_SUMMARY();
}
