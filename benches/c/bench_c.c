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
 *   bench_c SEED e2e URL WIRE ROUNDS ROUND_MS [CAFILE]
 *
 * End to end against the simulator at URL (update-qrcode, a fresh billNo
 * per call, errCode SUCCESS checked), the modes taking turns for ROUND_MS
 * each, ROUNDS rounds; each row is the median calls/s over rounds:
 *   c.e2e.raw     the physical limit: a raw C client writing pre-signed
 *                 bytes (head and body in one write) on one kept-alive
 *                 socket and reading the answer up to its Content-Length.
 *                 The requests (WIRE, the seed in wire form, plus billNo,
 *                 billDate, requestTimestamp) are signed before the round,
 *                 off the clock. Plain http:// only (no TLS in this client).
 *   c.e2e.abi     ums_update_qrcode on one client (kept-alive connection),
 *                 1 thread: the library normalises, checks, signs, sends,
 *                 classifies the answer.
 *   c.e2e.abi_newconn  a new client per call (so a new connection, and on
 *                 https:// a TLS handshake): ums_client_new, the call, free.
 *   c.e2e.abi_over_raw  the median of the per-round ratios abi / raw.
 * CAFILE is the config's caFile for an https:// URL (scripts/bench-link).
 * UMS_BENCH_E2E_MODES=raw|abi|newconn (comma-separated) runs only those
 * modes, for profiling one of them (strace -c, callgrind, /usr/bin/time).
 *
 * Same method as benches/bench.rs: batches of ~10 ms, 31 batches, median.
 * Build: cc -O2 -Iinclude benches/c/bench_c.c -Ltarget/release -lums
 */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

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
    long run = (long)getpid() % 100000000L; /* once: no getpid in the strace count */
    for (long i = 0; i < warmup + calls; i++) {
        if (i == warmup) {
            before = rss_kib();
            started = now_ns();
        }
        /* "3194" + 8 digits of this run + 14 of the call: the seed's 26 characters. */
        snprintf(bill, sizeof bill, "3194%08ld%014ld", run, i);
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

/* ---- end to end: the raw client, the C ABI, a new client per call ------- */

#define E2E_POOL 20000 /* requests signed before a raw round (~4 s at loopback speed) */

typedef struct {
    const char *url, *wire, *ca_file;
    char host[64];
    int port;
    long run;     /* this process's id in billNo */
    long counter; /* calls made, for fresh billNo */
    char *seed;   /* the ABI's request (billDate, expireTime set) */
    UmsClient *client;
    char config[1024];
    /* the raw client */
    int fd;
    char **pool;
    size_t *pool_len;
    long pool_next, pool_size;
    char in[65536];
} E2e;

/* Beijing time now, in the two shapes the protocol uses. */
static void beijing_now(char compact[16], char general[24], char date[12]) {
    time_t now = time(NULL) + 8 * 3600;
    struct tm t;
    gmtime_r(&now, &t);
    strftime(compact, 16, "%Y%m%d%H%M%S", &t);
    strftime(general, 24, "%Y-%m-%d %H:%M:%S", &t);
    strftime(date, 12, "%Y-%m-%d", &t);
}

/* The value of "authorization" in a ums_sign_body document, unescaped. */
static int authorization_of(const char *doc, char *out, size_t cap) {
    const char *p = strstr(doc, "\"authorization\":\"");
    if (p == NULL) {
        return 0;
    }
    p += strlen("\"authorization\":\"");
    size_t n = 0;
    while (*p != '\0' && *p != '"' && n + 1 < cap) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    return *p == '"';
}

/* Signs E2E_POOL requests (wire form) for the raw client, off the clock. */
static int raw_presign(E2e *e) {
    char compact[16], general[24], date[12], nonce[64], bill[64], auth[512];
    char body[4096], doc[2048];
    size_t doc_len = 0;
    beijing_now(compact, general, date);
    size_t wire_len = strlen(e->wire);
    for (long i = 0; i < e->pool_size; i++) {
        long n = ++e->counter;
        snprintf(bill, sizeof bill, "3194%08ld2%013ld", e->run, n);
        snprintf(nonce, sizeof nonce, "%08lx%08lx%016lx", e->run, (long)getpid() & 0xffffffffL, n);
        int body_len = snprintf(body, sizeof body,
                                "%.*s,\"billNo\":\"%s\",\"billDate\":\"%s\",\"requestTimestamp\":\"%s\"}",
                                (int)(wire_len - 1), e->wire, bill, date, general);
        if (ums_sign_body(e->client, (const unsigned char *)body, (size_t)body_len, compact, nonce,
                          doc, sizeof doc, &doc_len) != UMS_OK ||
            !authorization_of(doc, auth, sizeof auth)) {
            fprintf(stderr, "bench_c: signing failed: %s\n", doc);
            return 0;
        }
        e->pool_len[i] = (size_t)snprintf(
            e->pool[i], 8192,
            "POST /v1/netpay/bills/update-qrcode HTTP/1.1\r\nHost: %s:%d\r\n"
            "Content-Type: application/json;charset=UTF-8\r\nAuthorization: %s\r\n"
            "Content-Length: %d\r\n\r\n%s",
            e->host, e->port, auth, body_len, body);
    }
    e->pool_next = 0;
    return 1;
}

static int raw_connect(E2e *e) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)e->port);
    if (inet_pton(AF_INET, e->host, &addr.sin_addr) != 1) {
        fprintf(stderr, "bench_c: the raw client takes an IPv4 literal, not %s\n", e->host);
        return 0;
    }
    e->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(e->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return e->fd >= 0 && connect(e->fd, (struct sockaddr *)&addr, sizeof addr) == 0;
}

/* One call of the raw client: one write, reads up to the answer's end. */
static int raw_call(E2e *e) {
    if (e->pool_next >= e->pool_size) {
        return 1; /* the round ran out of signed requests: end it */
    }
    const char *req = e->pool[e->pool_next];
    size_t len = e->pool_len[e->pool_next++];
    if (write(e->fd, req, len) != (ssize_t)len) {
        return -1;
    }
    size_t have = 0;
    long want = -1;
    for (;;) {
        ssize_t n = read(e->fd, e->in + have, sizeof e->in - 1 - have);
        if (n <= 0) {
            return -1;
        }
        have += (size_t)n;
        e->in[have] = '\0';
        if (want < 0) {
            char *end = strstr(e->in, "\r\n\r\n");
            if (end == NULL) {
                continue;
            }
            char *cl = strcasestr(e->in, "\r\ncontent-length:");
            if (cl == NULL || cl > end) {
                return -1;
            }
            want = (long)(end + 4 - e->in) + atol(cl + strlen("\r\ncontent-length:"));
        }
        if ((long)have >= want) {
            break;
        }
    }
    return strncmp(e->in, "HTTP/1.1 200", 12) == 0 && strstr(e->in, "\"errCode\":\"SUCCESS\"") ? 0 : -1;
}

static int abi_call_on(E2e *e, UmsClient *client) {
    char bill[64], out[16384];
    size_t len = 0;
    snprintf(bill, sizeof bill, "3194%08ld1%013ld", e->run, ++e->counter);
    set_value(e->seed, "billNo", bill);
    if (ums_update_qrcode(client, e->seed, out, sizeof out, &len) != UMS_OK) {
        fprintf(stderr, "bench_c: ums_update_qrcode: %.300s\n", out);
        return -1;
    }
    return 0;
}

static int abi_call(E2e *e) { return abi_call_on(e, e->client); }

static int abi_newconn_call(E2e *e) {
    UmsClient *client = NULL;
    char out[1024];
    size_t len = 0;
    if (ums_client_new(e->config, &client, out, sizeof out, &len) != UMS_OK) {
        fprintf(stderr, "bench_c: ums_client_new: %s\n", out);
        return -1;
    }
    int r = abi_call_on(e, client);
    ums_client_free(client);
    return r;
}

typedef int (*e2e_fn)(E2e *e);

/* Calls/s of fn for round_ms; 0 when a call failed. */
static double e2e_round(E2e *e, e2e_fn fn, double round_ms) {
    long n = 0;
    double t = now_ns(), end = t + round_ms * 1e6;
    for (;;) {
        int r = fn(e);
        if (r < 0) {
            return 0;
        }
        if (r > 0) {
            break; /* raw: out of signed requests */
        }
        n++;
        if (now_ns() >= end) {
            break;
        }
    }
    return (double)n / ((now_ns() - t) / 1e9);
}

static double median_of(double *xs, int n) {
    double tmp[64];
    memcpy(tmp, xs, (size_t)n * sizeof *xs);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return tmp[n / 2];
}

static void print_rate(const char *row, double *rates, int rounds) {
    printf("{\"row\":\"%s\",\"value\":%.1f,\"unit\":\"calls/s\",\"rounds\":[", row,
           median_of(rates, rounds));
    for (int i = 0; i < rounds; i++) {
        printf("%s%.1f", i ? "," : "", rates[i]);
    }
    printf("]}\n");
}

static int e2e(const char *seed, const char *url, const char *wire_path, int rounds, double round_ms,
               const char *ca_file) {
    static E2e e;
    e.url = url;
    e.run = (long)getpid() % 100000000L;
    e.wire = read_file(wire_path);
    e.seed = strdup(seed);
    if (e.wire == NULL || e.seed == NULL || rounds < 1 || rounds > 64) {
        fprintf(stderr, "bench_c: bad e2e arguments\n");
        return 1;
    }
    time_t now = time(NULL) + 8 * 3600, later = now + 86400;
    struct tm day, next;
    gmtime_r(&now, &day);
    gmtime_r(&later, &next);
    char date[16], expire[32];
    strftime(date, sizeof date, "%Y-%m-%d", &day);
    strftime(expire, sizeof expire, "%Y-%m-%d %H:%M:%S", &next);
    if (!set_value(e.seed, "billDate", date) || !set_value(e.seed, "expireTime", expire)) {
        fprintf(stderr, "bench_c: the seed has no billDate/expireTime of the expected shape\n");
        return 1;
    }
    if (ca_file != NULL) {
        snprintf(e.config, sizeof e.config,
                 "{\"environment\":\"%s\",\"appId\":\"10037e6f66f2d0f901672aa27d690006\","
                 "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\",\"caFile\":\"%s\"}",
                 url, ca_file);
    } else {
        snprintf(e.config, sizeof e.config,
                 "{\"environment\":\"%s\",\"appId\":\"10037e6f66f2d0f901672aa27d690006\","
                 "\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\"}",
                 url);
    }
    char out[1024];
    size_t len = 0;
    if (ums_client_new(e.config, &e.client, out, sizeof out, &len) != UMS_OK) {
        fprintf(stderr, "bench_c: ums_client_new: %s\n", out);
        return 1;
    }
    const char *modes = getenv("UMS_BENCH_E2E_MODES");
    int want_raw = modes == NULL || strstr(modes, "raw") != NULL;
    int want_abi = modes == NULL || strstr(modes, "abi") != NULL;
    int want_new = modes == NULL || strstr(modes, "newconn") != NULL;
    int raw = want_raw && strncmp(url, "http://", 7) == 0 &&
              sscanf(url + 7, "%63[^:/]:%d", e.host, &e.port) == 2;
    if (raw) {
        e.pool_size = E2E_POOL;
        e.pool = malloc(sizeof *e.pool * (size_t)e.pool_size);
        e.pool_len = malloc(sizeof *e.pool_len * (size_t)e.pool_size);
        for (long i = 0; e.pool && i < e.pool_size; i++) {
            e.pool[i] = malloc(8192);
        }
        if (!raw_connect(&e) || !raw_presign(&e)) {
            fprintf(stderr, "bench_c: the raw client could not start\n");
            return 1;
        }
    }
    /* Warm-up, and a check that every mode succeeds. */
    for (int i = 0; i < 20; i++) {
        if ((raw && raw_call(&e) != 0) || (want_abi && abi_call(&e) != 0) ||
            (want_new && abi_newconn_call(&e) != 0)) {
            fprintf(stderr, "bench_c: a warm-up call failed\n");
            return 1;
        }
    }
    double r_raw[64], r_abi[64], r_new[64], ratio[64];
    for (int r = 0; r < rounds; r++) {
        if (raw) {
            if (!raw_presign(&e)) {
                return 1;
            }
            r_raw[r] = e2e_round(&e, raw_call, round_ms);
        }
        r_abi[r] = want_abi ? e2e_round(&e, abi_call, round_ms) : -1;
        r_new[r] = want_new ? e2e_round(&e, abi_newconn_call, round_ms) : -1;
        if ((raw && r_raw[r] == 0) || r_abi[r] == 0 || r_new[r] == 0) {
            fprintf(stderr, "bench_c: a call failed in round %d\n", r);
            return 1;
        }
        ratio[r] = raw && want_abi ? r_abi[r] / r_raw[r] : 0;
    }
    if (raw) {
        print_rate("c.e2e.raw", r_raw, rounds);
    }
    if (want_abi) {
        print_rate("c.e2e.abi", r_abi, rounds);
    }
    if (want_new) {
        print_rate("c.e2e.abi_newconn", r_new, rounds);
    }
    if (raw && want_abi) {
        printf("{\"row\":\"c.e2e.abi_over_raw\",\"value\":%.3f,\"unit\":\"ratio\"}\n",
               median_of(ratio, rounds));
    }
    ums_client_free(e.client);
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
    if (argc > 6 && strcmp(argv[2], "e2e") == 0) {
        return e2e(ctx.request, argv[3], argv[4], atoi(argv[5]), atof(argv[6]),
                   argc > 7 ? argv[7] : NULL);
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
