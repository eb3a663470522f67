/*
 * A bill's whole life through the C ABI, against the ums-sandbox simulator (a
 * separate process started by support.h, with the demo app):
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
 * No sleeping as synchronisation: the receiver signals each notification it
 * gets (a condition variable) and is stopped through a pipe; what only the
 * simulator knows (whether a delivery is recorded as done) is asked of it
 * until it says so (wait_delivered).
 *
 * Prints "N passed, N failed" and exits non-zero on any failure. Built and
 * run by the Makefile, also under valgrind and AddressSanitizer.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ums.h"
#include "check.h"
#include "support.h"

#define MAX_NOTES 16

static char out[16384];
static size_t out_len;

/* ---- small helpers ---------------------------------------------------- */

static void new_id(UmsClient *client, char *dst, size_t cap) {
    UmsStatus s = ums_new_id(client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && json_str(out, "id", dst, cap) && strlen(dst) == 28, "ums_new_id: %d %s", s, out);
}

/*
 * Asks the simulator (GET /_sandbox/notifications) until the delivery of
 * notifyId is recorded as done ("delivered", "failed", ...: anything but
 * "pending"), at most 15 s; the record goes to resp. 1 when it is done. The
 * simulator records a delivery after the receiver's answer has reached it,
 * which nothing in this process can observe: asking is the only way.
 */
static int wait_delivered(const char *notify_id, char *resp, size_t cap) {
    char path[256];
    snprintf(path, sizeof path, "/_sandbox/notifications?notifyId=%s", notify_id);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        int status = sandbox_http("GET", path, NULL, resp, cap);
        if (status == 200 && strstr(resp, "\"status\":\"") != NULL && strstr(resp, "\"status\":\"pending\"") == NULL)
            return 1;
        /* A pause between two questions (a poll interval, not a guess at
           how long the delivery takes: the loop ends on the answer). */
        struct timespec pause = {0, 5 * 1000000L};
        nanosleep(&pause, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 15);
    return 0;
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
    int fd;      /* the listening socket */
    int wake[2]; /* a pipe: a byte written to wake[1] stops the thread */
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t arrived; /* signalled on each notification */
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
        struct pollfd p[2];
        p[0].fd = r->fd;
        p[0].events = POLLIN;
        p[0].revents = 0;
        p[1].fd = r->wake[0];
        p[1].events = POLLIN;
        p[1].revents = 0;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents != 0) break; /* receiver_stop */
        if (p[0].revents == 0) continue;
        int conn = accept(r->fd, NULL, NULL);
        if (conn < 0) continue;
        set_timeouts(conn, 5);
        size_t len = 0;
        char *body = read_post(conn, &len);
        struct note note;
        memset(&note, 0, sizeof note);
        if (body != NULL) {
            size_t doc_len = 0;
            UmsStatus s = ums_verify_notify(DEMO_NOTIFY_KEY, (const uint8_t *)body, len, doc, 16384, &doc_len);
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
            pthread_cond_broadcast(&r->arrived);
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

/* Closes what receiver_start opened (r->fd may be -1). */
static void receiver_close(struct receiver *r) {
    if (r->fd >= 0) close(r->fd);
    close(r->wake[0]);
    close(r->wake[1]);
}

static int receiver_start(struct receiver *r) {
    memset(r, 0, sizeof *r);
    if (pipe(r->wake) != 0) return -1;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(r->fd, 16) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        receiver_close(r);
        return -1;
    }
    r->port = ntohs(addr.sin_port);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->arrived, NULL);
    if (pthread_create(&r->thread, NULL, receiver_main, r) != 0) {
        pthread_cond_destroy(&r->arrived);
        pthread_mutex_destroy(&r->mu);
        receiver_close(r);
        return -1;
    }
    return 0;
}

static void receiver_stop(struct receiver *r) {
    char byte = 1;
    while (write(r->wake[1], &byte, 1) < 0 && errno == EINTR) {
    }
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->arrived);
    pthread_mutex_destroy(&r->mu);
    receiver_close(r);
}

/* Waits (at most 15 s) until the receiver has at least `count`
   notifications; returns how many it has, or -1 on time-out. */
static int wait_posts(struct receiver *r, int count) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 15;
    pthread_mutex_lock(&r->mu);
    int timed_out = 0;
    while (r->posts < count && !timed_out) timed_out = pthread_cond_timedwait(&r->arrived, &r->mu, &deadline) != 0;
    int n = r->posts >= count ? r->posts : -1;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static struct note note_at(struct receiver *r, int i) {
    pthread_mutex_lock(&r->mu);
    struct note n = r->notes[i];
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- the test ----------------------------------------------------------- */

int main(void) {
    sandbox_start();
    char config[1024];
    demo_config(config, sizeof config, ",\"mid\":\"" DEMO_MID "\",\"tid\":\"" DEMO_TID "\"");
    UmsClient *client = NULL;
    UmsStatus s = ums_client_new(config, &client, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && client != NULL, "ums_client_new: %d %s", s, out);
    if (client == NULL) return CHECK_SUMMARY();

    struct receiver receiver;
    int listening = receiver_start(&receiver) == 0;
    CHECK(listening, "the receiver listens on 127.0.0.1");
    if (!listening) {
        ums_client_free(client);
        return CHECK_SUMMARY();
    }

    char req[2048], resp[65536], bill_no[40], qr_code_id[40], notify_id[64];

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
    CHECK(s == UMS_OK && strstr(out, bill_no) != NULL && json_number(out, "totalAmount") == 100,
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
    int status = sandbox_http("POST", "/_sandbox/pay", req, resp, sizeof resp);
    CHECK(status == 200 && strstr(resp, "\"ok\":true") != NULL, "pay: %d %s", status, resp);
    CHECK(json_str(resp, "notifyId", notify_id, sizeof notify_id) && strlen(notify_id) == 36, "notifyId: %s", resp);
    status = sandbox_http("POST", "/_sandbox/pay", req, resp, sizeof resp);
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
    CHECK(wait_delivered(notify_id, resp, sizeof resp) && strstr(resp, "\"status\":\"delivered\"") != NULL &&
              json_number(resp, "attempts") == 2,
          "delivery record: %s", resp);

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
    CHECK(s == UMS_OK && json_number(out, "refundAmount") == 30 && strstr(out, "\"refundStatus\":\"SUCCESS\"") != NULL,
          "refund: %d %s", s, out);
    CHECK(json_str(out, "refundTargetOrderId", refund_target, sizeof refund_target), "refundTargetOrderId: %s", out);

    snprintf(req, sizeof req, "{\"billNo\":\"%s\",\"billDate\":\"%s\",\"refundOrderId\":\"%s\"}", bill_no, today(),
             refund_id);
    s = ums_query_bill(client, req, out, sizeof out, &out_len);
    const char *record = strstr(out, "\"refundBillPayment\"");
    CHECK(s == UMS_OK && record != NULL && json_number(record, "refundAmount") == 30 &&
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
    CHECK(s == UMS_OK && json_number(out, "refundAmount") == 30, "refunded total stays 30: %d %s", s, out);

    /* 8. Close the code; the refund notification arrives; paying is refused. */
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\"}", qr_code_id);
    s = ums_close_qrcode(client, req, out, sizeof out, &out_len);
    CHECK(s == UMS_OK && strstr(out, qr_code_id) != NULL, "close: %d %s", s, out);
    posts = wait_posts(&receiver, 3);
    CHECK(posts == 3, "the refund notification arrived once (%d)", posts);
    struct note refund;
    memset(&refund, 0, sizeof refund);
    if (posts >= 3) {
        refund = note_at(&receiver, 2);
        CHECK(refund.verified && strcmp(refund.bill_status, "REFUND") == 0 && strcmp(refund.notify_id, notify_id) != 0,
              "refund notification: %s %s", refund.bill_status, refund.notify_id);
    }
    snprintf(req, sizeof req, "{\"qrCodeId\":\"%s\",\"amount\":100}", qr_code_id);
    status = sandbox_http("POST", "/_sandbox/pay", req, resp, sizeof resp);
    CHECK(status == 409 && strstr(resp, "\"ok\":false") != NULL, "a closed code cannot be paid: %d %s", status,
          resp);

    /* Both deliveries are recorded as done (answered SUCCESS): the
       simulator makes no further attempt, so the count is final. */
    CHECK(refund.notify_id[0] != '\0' && wait_delivered(refund.notify_id, resp, sizeof resp) &&
              strstr(resp, "\"status\":\"delivered\"") != NULL && json_number(resp, "attempts") == 1,
          "refund delivery record: %s", resp);
    CHECK(wait_posts(&receiver, 0) == 3, "no extra notifications");
    receiver_stop(&receiver);
    ums_client_free(client);
    return CHECK_SUMMARY();
}
