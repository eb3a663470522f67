/*
 * Load through the C ABI: 32 C threads share one client (token mode, then
 * body-sig mode) and make update-qrcode and query calls against the
 * simulator embedded in libums. Every call must succeed; the simulator's
 * counters (GET /_sandbox/stats) must show exactly one token for the whole
 * run and exactly one request per call.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ums.h"
#include "check.h"

#define THREADS 32
#define CALLS_PER_THREAD 40


struct worker {
    const UmsClient *client;
    int index;
    int run;
    int ok;
    char last_error[512];
};

static char today[16];

static void *work(void *arg) {
    struct worker *w = arg;
    char request[512], out[4096];
    size_t len;
    for (int i = 0; i < CALLS_PER_THREAD; i++) {
        snprintf(request, sizeof request,
                 "{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"3194%d%02d%04d%lld\","
                 "\"billDate\":\"%s\",\"totalAmount\":%d}",
                 w->run, w->index, i, (long long)time(NULL) % 100000, today, 1 + i);
        UmsStatus s = ums_update_qrcode(w->client, request, out, sizeof out, &len);
        if (s == UMS_OK && strstr(out, "\"errCode\":\"SUCCESS\"") != NULL) {
            w->ok++;
        } else {
            snprintf(w->last_error, sizeof w->last_error, "%d %.480s", s, out);
        }
    }
    return NULL;
}

/* GET path from the simulator at base_url ("http://127.0.0.1:PORT"). */
static int http_get(const char *base_url, const char *path, char *out, size_t cap) {
    int port = atoi(strrchr(base_url, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return -1;
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0) got += (size_t)r;
    out[got] = '\0';
    close(fd);
    return 0;
}

/* The number after "key": in a JSON text (0 if absent). */
static long json_number(const char *json, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    return p ? atol(p + strlen(pattern)) : 0;
}

static void run(const char *config, int run_id, int token_mode) {
    char out[4096];
    size_t len;
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new(config, &client, out, sizeof out, &len);
    CHECK(s == UMS_OK, "client: %d %s", s, out);
    if (s != UMS_OK) return;
    char base_url[128] = "";
    const char *b = strstr(out, "\"baseUrl\":\"");
    if (b) sscanf(b + 11, "%127[^\"]", base_url);

    char stats[8192];
    CHECK(http_get(base_url, "/_sandbox/stats", stats, sizeof stats) == 0, "stats before");
    long tokens_before = json_number(stats, "tokensIssued");
    long updates_before = json_number(stats, "/v1/netpay/bills/update-qrcode");

    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){client, i, run_id, 0, ""};
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

    CHECK(http_get(base_url, "/_sandbox/stats", stats, sizeof stats) == 0, "stats after");
    long tokens = json_number(stats, "tokensIssued") - tokens_before;
    long updates = json_number(stats, "/v1/netpay/bills/update-qrcode") - updates_before;
    CHECK(tokens == (token_mode ? 1 : 0), "tokens issued during the run: %ld", tokens);
    CHECK(json_number(stats, "tokensInvalidated") == 0, "the 10-token limit was never hit");
    CHECK(updates == THREADS * CALLS_PER_THREAD, "requests received: %ld (one per call)", updates);
    ums_client_free(client);
}

int main(void) {
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    run("{\"environment\":\"sandbox\",\"auth\":\"token\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"}", 1, 1);
    run("{\"environment\":\"sandbox\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"}", 2, 0);
    return CHECK_SUMMARY();
}
