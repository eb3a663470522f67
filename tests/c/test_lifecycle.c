/*
 * A bill's whole life through the C ABI, against the simulator embedded in
 * libums ("environment":"sandbox"):
 *
 *   get-qrcode (one-off, notifyUrl = a receiver in this test)
 *   -> update-qrcode (on a fixed code)
 *   -> the customer pays (POST /_sandbox/pay, raw HTTP)
 *   -> the signed notification reaches the receiver, which answers FAILED
 *      once (the simulator retries with the same notifyId) and then SUCCESS,
 *      each body verified with ums_verify_notify
 *   -> ums_query_bill shows PAID
 *   -> a partial ums_refund (refundOrderId from ums_new_id), repeated
 *   -> ums_query_bill with refundOrderId shows refundBillPayment
 *   -> a refund beyond the balance is UMS_ERR_GATEWAY_REJECTED
 *   -> ums_close_qrcode; the refund notification arrives; paying is refused.
 *
 * Prints "N passed, N failed" and exits non-zero on any failure. Built and
 * run by the Makefile, also under valgrind and AddressSanitizer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ums.h"
#include "check.h"


#define CONFIG "{\"environment\":\"sandbox\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"}"
/* The simulator's public demo notification key (not a secret). */
#define NOTIFY_KEY "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"
#define MAX_NOTES 16

static char out[16384];
static size_t out_len;

/* ---- small helpers ---------------------------------------------------- */

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Today in Beijing time (UTC+8), yyyy-MM-dd. */
static const char *today(void) {
    static char date[16];
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    return date;
}

/* Copies the string value of the first "key":"..." in doc; 1 if found. */
static int json_str(const char *doc, const char *key, char *dst, size_t cap) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(doc, pattern);
    if (p == NULL || cap == 0) return 0;
    p += strlen(pattern);
    size_t n = 0;
    while (p[n] != '\0' && p[n] != '"' && n + 1 < cap) {
        dst[n] = p[n];
        n++;
    }
    dst[n] = '\0';
    return p[n] == '"';
}

/* The integer value of the first "key":123 in doc, or -1. */
static long json_int(const char *doc, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(doc, pattern);
    if (p == NULL) return -1;
    p += strlen(pattern);
    if (*p < '0' || *p > '9') return -1;
    return strtol(p, NULL, 10);
}

static void new_id(UmsClient *client, char *dst, size_t cap) {
    UmsStatus s = ums_new_id(client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_str(out, "id", dst, cap) && strlen(dst) == 28, "ums_new_id: %d %s", s, out);
}

/* Writes all of buf; 0 on success. */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void set_timeouts(int fd, int seconds) {
    struct timeval tv;
    tv.tv_sec = seconds;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/*
 * One HTTP/1.1 request to 127.0.0.1:port with Connection: close; the
 * response body goes to resp (NUL-terminated). Returns the HTTP status, or
 * -1 on a transport failure.
 */
static int http(int port, const char *method, const char *path, const char *body, char *resp, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    set_timeouts(fd, 10);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char head[512];
    size_t body_len = body ? strlen(body) : 0;
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            method, path, port, body_len);
    if (write_all(fd, head, (size_t)head_len) != 0 || (body_len > 0 && write_all(fd, body, body_len) != 0)) {
        close(fd);
        return -1;
    }
    char *raw = malloc(65536);
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, raw + got, 65535 - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got == 65535) break;
    }
    raw[got] = '\0';
    close(fd);
    int status = -1;
    if (sscanf(raw, "HTTP/1.1 %d", &status) != 1) status = -1;
    const char *start = strstr(raw, "\r\n\r\n");
    snprintf(resp, cap, "%s", start ? start + 4 : "");
    free(raw);
    return status;
}

/* ---- the notification receiver ----------------------------------------- */

struct note {
    int verified;
    char notify_id[64];
    char bill_status[16];
    char bill_no[40];
    char sign_type[16];
};

struct receiver {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    int posts;
    struct note notes[MAX_NOTES];
};

/* Reads one request; returns the malloc'd body (NUL-terminated) or NULL. */
static char *read_post(int fd, size_t *body_len) {
    size_t cap = 65536, got = 0;
    char *buf = malloc(cap + 1);
    char *head_end = NULL;
    while (head_end == NULL) {
        if (got == cap) break;
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        buf[got] = '\0';
        head_end = strstr(buf, "\r\n\r\n");
    }
    if (head_end == NULL || strncmp(buf, "POST ", 5) != 0) {
        free(buf);
        return NULL;
    }
    size_t head_len = (size_t)(head_end - buf) + 4;
    size_t length = 0;
    for (char *line = buf; line < head_end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "content-length:", 15) == 0) length = strtoul(line + 15, NULL, 10);
    }
    if (length == 0 || length > cap - head_len) {
        free(buf);
        return NULL;
    }
    while (got < head_len + length) {
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (got < head_len + length) {
        free(buf);
        return NULL;
    }
    char *body = malloc(length + 1);
    memcpy(body, buf + head_len, length);
    body[length] = '\0';
    *body_len = length;
    free(buf);
    return body;
}

static void *receiver_main(void *arg) {
    struct receiver *r = arg;
    char *doc = malloc(16384);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop) break;
        struct pollfd p;
        p.fd = r->fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 50) <= 0) continue;
        int conn = accept(r->fd, NULL, NULL);
        if (conn < 0) continue;
        set_timeouts(conn, 5);
        size_t len = 0;
        char *body = read_post(conn, &len);
        struct note note;
        memset(&note, 0, sizeof note);
        if (body != NULL) {
            size_t doc_len = 0;
            UmsStatus s = ums_verify_notify(NOTIFY_KEY, (const uint8_t *)body, len, doc, 16384, &doc_len);
            note.verified = s == UMS_OK;
            if (note.verified) {
                json_str(doc, "notifyId", note.notify_id, sizeof note.notify_id);
                json_str(doc, "billStatus", note.bill_status, sizeof note.bill_status);
                json_str(doc, "billNo", note.bill_no, sizeof note.bill_no);
                json_str(doc, "signType", note.sign_type, sizeof note.sign_type);
            } else {
                fprintf(stderr, "receiver: notification refused: %d %s\n", s, doc);
            }
            free(body);
        }
        pthread_mutex_lock(&r->mu);
        int n = r->posts;
        if (body != NULL && n < MAX_NOTES) {
            r->notes[n] = note;
            r->posts = n + 1;
        }
        pthread_mutex_unlock(&r->mu);
        /* The first notification is refused once, to see the retry. */
        const char *text = (n == 0 || !note.verified) ? "FAILED" : ums_notify_reply(1);
        char reply[256];
        int reply_len = snprintf(reply, sizeof reply,
                                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                                 "Connection: close\r\n\r\n%s",
                                 strlen(text), text);
        write_all(conn, reply, (size_t)reply_len);
        shutdown(conn, SHUT_WR);
        close(conn);
    }
    free(doc);
    return NULL;
}

static int receiver_start(struct receiver *r) {
    memset(r, 0, sizeof *r);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (bind(r->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(r->fd, 16) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        close(r->fd);
        return -1;
    }
    r->port = ntohs(addr.sin_port);
    pthread_mutex_init(&r->mu, NULL);
    if (pthread_create(&r->thread, NULL, receiver_main, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        close(r->fd);
        return -1;
    }
    return 0;
}

static void receiver_stop(struct receiver *r) {
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    close(r->fd);
}

/* Waits up to 15 s until the receiver has at least `count` notifications. */
static int wait_posts(struct receiver *r, int count) {
    for (int i = 0; i < 750; i++) {
        pthread_mutex_lock(&r->mu);
        int n = r->posts;
        pthread_mutex_unlock(&r->mu);
        if (n >= count) return n;
        sleep_ms(20);
    }
    return -1;
}

static struct note note_at(struct receiver *r, int i) {
    pthread_mutex_lock(&r->mu);
    struct note n = r->notes[i];
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- the test ----------------------------------------------------------- */

int main(void) {
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new(CONFIG, &client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && client != NULL, "ums_client_new: %d %s", s, out);
    if (client == NULL) return 1;
    const char *base = strstr(out, "\"baseUrl\":\"http://127.0.0.1:");
    int port = base ? atoi(base + strlen("\"baseUrl\":\"http://127.0.0.1:")) : 0;
    CHECK(port > 0, "port from %s", out);

    struct receiver receiver;
    int listening = receiver_start(&receiver) == 0;
    CHECK(listening, "the receiver listens on 127.0.0.1");
    if (!listening || port <= 0) {
        ums_client_free(client);
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }

    char req[2048], resp[65536], bill_no[40], qr_code_id[40], notify_id[64], path[256];

    /* 1. A one-off code whose notifications go to the receiver. */
    new_id(client, bill_no, sizeof bill_no);
    snprintf(req, sizeof req,
             "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"totalAmount\":100,\"billDesc\":\"C lifecycle\","
             "\"notifyUrl\":\"http://127.0.0.1:%d/notify\"}",
             bill_no, today(), receiver.port);
    s = ums_get_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_str(out, "qrCodeId", qr_code_id, sizeof qr_code_id), "get-qrcode: %d %s", s, out);

    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"systemId\":\"%s\"}", qr_code_id, qr_code_id);
    s = ums_query_qrcode_info(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, bill_no) != NULL && json_int(out, "totalAmount") == 100,
          "query-qrcode-info: %d %s", s, out);

    /* 2. update-qrcode binds a bill to a fixed code. */
    char fixed_id[40], fixed_bill[40];
    s = ums_get_qrcode(client, "{}", out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_str(out, "qrCodeId", fixed_id, sizeof fixed_id), "fixed code: %d %s", s, out);
    new_id(client, fixed_bill, sizeof fixed_bill);
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"billNo\":\"%s\",\"billDate\":\"%s\",\"totalAmount\":\"50\"}",
             fixed_id, fixed_bill, today());
    s = ums_update_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, fixed_bill) != NULL, "update-qrcode: %d %s", s, out);

    /* 3. The customer pays (raw HTTP to the control endpoint). */
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"amount\":100,\"signType\":\"MD5\"}", qr_code_id);
    int status = http(port, "POST", "/_sandbox/pay", req, resp, sizeof resp);
    CHECK(status == 200 && strstr(resp, "\"ok\":true") != NULL, "pay: %d %s", status, resp);
    CHECK(json_str(resp, "notifyId", notify_id, sizeof notify_id) && strlen(notify_id) == 36, "notifyId: %s", resp);
    status = http(port, "POST", "/_sandbox/pay", req, resp, sizeof resp);
    CHECK(status == 409 && strstr(resp, "ALREADY_PAID") != NULL, "a one-off code is paid once: %d %s", status,
          resp);

    /* 4. The notification: refused once, retried with the same notifyId. */
    int posts = wait_posts(&receiver, 2);
    CHECK(posts >= 2, "two notification attempts arrived (%d)", posts);
    if (posts >= 2) {
        struct note first = note_at(&receiver, 0), second = note_at(&receiver, 1);
        CHECK(first.verified && second.verified, "both attempts verify with ums_verify_notify");
        CHECK(strcmp(first.notify_id, notify_id) == 0 && strcmp(second.notify_id, notify_id) == 0,
              "same notifyId on retry: %s %s %s", first.notify_id, second.notify_id, notify_id);
        CHECK(strcmp(first.bill_status, "PAID") == 0 && strcmp(first.bill_no, bill_no) == 0, "paid %s %s",
              first.bill_status, first.bill_no);
        CHECK(strcmp(first.sign_type, "MD5") == 0, "signType %s", first.sign_type);
    }
    snprintf(path, sizeof path, "/_sandbox/notifications?notifyId=%s", notify_id);
    int delivered = 0;
    for (int i = 0; i < 250 && !delivered; i++) {
        status = http(port, "GET", path, NULL, resp, sizeof resp);
        delivered = status == 200 && strstr(resp, "\"status\":\"delivered\"") != NULL;
        if (!delivered) sleep_ms(20);
    }
    CHECK(delivered && json_int(resp, "attempts") == 2, "delivery record: %s", resp);

    /* 5. The bill is paid. */
    snprintf(req, sizeof req, "{\"billNo\":\"%s\",\"billDate\":\"%s\"}", bill_no, today());
    s = ums_query_bill(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, "\"billStatus\":\"PAID\"") != NULL && strstr(out, "\"billPayment\"") != NULL,
          "query: %d %s", s, out);

    /* 6. A partial refund, and its record. */
    char refund_id[40], refund_target[64], again_target[64];
    new_id(client, refund_id, sizeof refund_id);
    char refund_req[512];
    snprintf(refund_req, sizeof refund_req,
             "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"refundAmount\":30,\"refundOrderId\":\"%s\"}", bill_no, today(),
             refund_id);
    s = ums_refund(client, refund_req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_int(out, "refundAmount") == 30 && strstr(out, "\"refundStatus\":\"SUCCESS\"") != NULL,
          "refund: %d %s", s, out);
    CHECK(json_str(out, "refundTargetOrderId", refund_target, sizeof refund_target), "refundTargetOrderId: %s", out);

    snprintf(req, sizeof req, "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"refundOrderId\":\"%s\"}", bill_no, today(),
             refund_id);
    s = ums_query_bill(client, req, out, sizeof out, &out_len);
    const char *record = strstr(out, "\"refundBillPayment\"");
    CHECK(s == UMS_OK && record != NULL && json_int(record, "refundAmount") == 30 &&
              strstr(out, "\"billStatus\":\"REFUND\"") != NULL,
          "query with refundOrderId: %d %s", s, out);

    /* The same refundOrderId again: the first result, nothing refunded twice. */
    s = ums_refund(client, refund_req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_str(out, "refundTargetOrderId", again_target, sizeof again_target) &&
              strcmp(again_target, refund_target) == 0,
          "repeated refundOrderId: %d %s", s, out);

    /* 7. Beyond the balance (70 left): rejected by the gateway. */
    char refund_id2[40];
    new_id(client, refund_id2, sizeof refund_id2);
    snprintf(req, sizeof req, "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"refundAmount\":80,\"refundOrderId\":\"%s\"}",
             bill_no, today(), refund_id2);
    s = ums_refund(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_ERR_GATEWAY_REJECTED && strstr(out, "OPERATION_NOT_ALLOWED") != NULL, "over the balance: %d %s", s,
          out);
    snprintf(req, sizeof req, "{\"billNo\":\"%s\",\"billDate\":\"%s\"}", bill_no, today());
    s = ums_query_bill(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_int(out, "refundAmount") == 30, "refunded total stays 30: %d %s", s, out);

    /* 8. Close the code; the refund notification arrives; paying is refused. */
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\"}", qr_code_id);
    s = ums_close_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, qr_code_id) != NULL, "close: %d %s", s, out);
    posts = wait_posts(&receiver, 3);
    CHECK(posts == 3, "the refund notification arrived once (%d)", posts);
    if (posts >= 3) {
        struct note refund = note_at(&receiver, 2);
        CHECK(refund.verified && strcmp(refund.bill_status, "REFUND") == 0 && strcmp(refund.notify_id, notify_id) != 0,
              "refund notification: %s %s", refund.bill_status, refund.notify_id);
    }
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"amount\":100}", qr_code_id);
    status = http(port, "POST", "/_sandbox/pay", req, resp, sizeof resp);
    CHECK(status == 409 && strstr(resp, "\"ok\":false") != NULL, "a closed code cannot be paid: %d %s", status,
          resp);

    /* Let a late attempt (if any) finish, then tear down. */
    sleep_ms(100);
    CHECK(wait_posts(&receiver, 0) == 3, "no extra notifications");
    receiver_stop(&receiver);
    ums_client_free(client);
    return CHECK_SUMMARY();
}
