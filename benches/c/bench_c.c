/*
 * benches/c/bench_c.c: the C side of the binding-overhead rows.
 *
 *   bench_c SEED       prints JSON lines {"row":..,"median_ns":..}
 *
 * c.sign_body: ums_sign_body on a 7-byte body with a fixed timestamp and
 *   nonce (no randomness, no clock, no network): the call every binding
 *   driver times too, so binding time minus this is the binding's overhead.
 * c.prepare: ums_prepare of the seed update-qrcode request (JSON text in,
 *   signed request document out), the whole request build through the C ABI.
 *
 *
 *   bench_c SEED sign LABEL    only c.sign_body, as row c.sign_body.LABEL
 *   bench_c SEED memory URL CALLS WARMUP
 *
 * c.memory.growth: resident memory growth of this process over CALLS
 *   update-qrcode calls through the C ABI (libums.so as `make lib` built it)
 *   after WARMUP calls, against the simulator at URL (another process, so
 *   its state is not counted). Each call is the seed request with a fresh
 *   billNo, today's billDate and an expireTime tomorrow.
 *
 * Same method as benches/bench.rs: batches of ~10 ms, 31 batches, median.
 * Build: cc -O2 -Iinclude benches/c/bench_c.c -Ltarget/release -lums
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ums.h"

#define BATCHES 31

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef int (*bench_fn)(void *ctx);

/* Median ns per call of fn over 31 batches of ~10 ms; -1 if a call failed. */
static double median_ns(bench_fn fn, void *ctx) {
    long per_batch = 1;
    for (;;) {
        double t = now_ns();
        for (long i = 0; i < per_batch; i++) {
            if (fn(ctx) != 0) {
                return -1;
            }
        }
        double elapsed = now_ns() - t;
        if (elapsed >= 10e6 || per_batch >= (1L << 24)) {
            break;
        }
        per_batch = elapsed > 5e5 ? (long)(per_batch * 10e6 / elapsed) + 1 : per_batch * 4;
    }
    double samples[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double t = now_ns();
        for (long i = 0; i < per_batch; i++) {
            fn(ctx);
        }
        samples[b] = (now_ns() - t) / (double)per_batch;
    }
    qsort(samples, BATCHES, sizeof samples[0], cmp_double);
    return samples[BATCHES / 2];
}

typedef struct {
    UmsClient *client;
    const char *request;
    char out[16384];
    size_t len;
} Ctx;

static const unsigned char SMALL_BODY[] = "{\"a\":1}";
static const char TS[] = "20261127120000";
static const char NONCE[] = "0123456789abcdef0123456789abcdef";

static int call_sign_body(void *p) {
    Ctx *c = p;
    return ums_sign_body(c->client, SMALL_BODY, sizeof SMALL_BODY - 1, TS, NONCE, c->out,
                         sizeof c->out, &c->len);
}

static int call_prepare(void *p) {
    Ctx *c = p;
    return ums_prepare(c->client, "update-qrcode", c->request, TS, NONCE, c->out, sizeof c->out,
                       &c->len);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf == NULL) {
        return NULL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    buf[n] = '\0';
    return buf;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * 4;
}

/* Overwrites the value of "key":"..." in place (same length) with text. */
static int set_value(char *json, const char *key, const char *text) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    char *p = strstr(json, pattern);
    if (p == NULL) {
        return 0;
    }
    p += strlen(pattern);
    size_t n = strlen(text);
    if (strchr(p, '"') - p != (long)n) {
        return 0;
    }
    memcpy(p, text, n);
    return 1;
}

static int memory(const char *seed, const char *url, long calls, long warmup) {
    char config[512], out[16384];
    size_t len = 0;
    UmsClient *client = NULL;
    snprintf(config, sizeof config,
             "{\"environment\":\"%s\",\"appId\":\"10037e6f66f2d0f901672aa27d690006\","
             "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\"}",
             url);
    if (ums_client_new(config, &client, out, sizeof out, &len) != UMS_OK) {
        fprintf(stderr, "bench_c: ums_client_new: %s\n", out);
        return 1;
    }
    char *request = strdup(seed);
    /* Beijing time: today's billDate, expireTime tomorrow. */
    time_t now = time(NULL) + 8 * 3600, later = now + 86400;
    struct tm day, next;
    gmtime_r(&now, &day);
    gmtime_r(&later, &next);
    char date[16], expire[32], bill[48];
    strftime(date, sizeof date, "%Y-%m-%d", &day);
    strftime(expire, sizeof expire, "%Y-%m-%d %H:%M:%S", &next);
    if (request == NULL || !set_value(request, "billDate", date) ||
        !set_value(request, "expireTime", expire)) {
        fprintf(stderr, "bench_c: the seed has no billDate/expireTime of the expected shape\n");
        return 1;
    }
    long before = 0;
    double started = 0;
    for (long i = 0; i < warmup + calls; i++) {
        if (i == warmup) {
            before = rss_kib();
            started = now_ns();
        }
        /* "3194" + 8 digits of this run + 14 of the call: the seed's 26 characters. */
        snprintf(bill, sizeof bill, "3194%08ld%014ld", (long)getpid() % 100000000L, i);
        set_value(request, "billNo", bill);
        UmsStatus s = ums_update_qrcode(client, request, out, sizeof out, &len);
        if (s != UMS_OK) {
            fprintf(stderr, "bench_c: call %ld: %s\n", i, out);
            return 1;
        }
    }
    double seconds = (now_ns() - started) / 1e9;
    printf("{\"row\":\"c.memory.growth\",\"value\":%ld,\"unit\":\"KiB\",\"calls\":%ld,"
           "\"warmup\":%ld,\"rss_before_kib\":%ld,\"calls_per_s\":%.1f}\n",
           rss_kib() - before, calls, warmup, before, (double)calls / seconds);
    ums_client_free(client);
    free(request);
    return 0;
}

int main(int argc, char **argv) {
    const char *seed_path = argc > 1 ? argv[1] : "benches/data/update_qrcode_seed.json";
    static Ctx ctx;
    const char *config =
        "{\"environment\":\"https://gateway.invalid\","
        "\"appId\":\"10037e6f66f2d0f901672aa27d690006\","
        "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\"}";
    if (ums_client_new(config, &ctx.client, ctx.out, sizeof ctx.out, &ctx.len) != UMS_OK) {
        fprintf(stderr, "bench_c: ums_client_new: %s\n", ctx.out);
        return 1;
    }
    ctx.request = read_file(seed_path);
    if (ctx.request == NULL) {
        fprintf(stderr, "bench_c: cannot read %s\n", seed_path);
        return 1;
    }
    if (argc > 5 && strcmp(argv[2], "memory") == 0) {
        return memory(ctx.request, argv[3], atol(argv[4]), atol(argv[5]));
    }
    if (call_sign_body(&ctx) != UMS_OK || call_prepare(&ctx) != UMS_OK) {
        fprintf(stderr, "bench_c: a call failed: %s\n", ctx.out);
        return 1;
    }
    if (argc > 3 && strcmp(argv[2], "sign") == 0) {
        /* Just the C baseline, labelled: scripts/bench runs it next to each binding driver. */
        printf("{\"row\":\"c.sign_body.%s\",\"median_ns\":%.1f}\n", argv[3],
               median_ns(call_sign_body, &ctx));
        ums_client_free(ctx.client);
        return 0;
    }
    printf("{\"row\":\"c.sign_body\",\"median_ns\":%.1f}\n", median_ns(call_sign_body, &ctx));
    printf("{\"row\":\"c.prepare\",\"median_ns\":%.1f}\n", median_ns(call_prepare, &ctx));
    ums_client_free(ctx.client);
    free((void *)ctx.request);
    return 0;
}
