/*
 * support.h: what the C tests share to run against the ums-sandbox gateway
 * simulator, a separate program (the library has no simulator in it).
 *
 *  - sandbox_start() runs getenv("UMS_SANDBOX") (the Makefile exports the
 *    absolute path of target/release/ums-sandbox) with `--port 0`, reads the
 *    first line it prints, `ums-sandbox listening on http://127.0.0.1:PORT`,
 *    with a blocking read of a pipe (no sleeping, no polling), and stops it
 *    at exit (kill + waitpid). The child also dies with this process
 *    (PR_SET_PDEATHSIG), so a crashed test leaves no simulator behind. Call
 *    it first in main(), before any thread exists.
 *  - demo_config() builds a client configuration for that simulator with the
 *    public demo credentials it prints in its banner (not secrets).
 *  - sandbox_http() sends one request to the simulator's control endpoints
 *    (/_sandbox/stats, /_sandbox/pay, ...); sandbox_stat() reads a counter
 *    of GET /_sandbox/stats.
 *  - json_str() / json_number(): the small JSON look-ups the tests need;
 *    today(): the date in Beijing time, as billDate wants it.
 *
 * Everything here is static (one copy per test program) and marked unused,
 * so a test includes it whole and uses what it needs. Needs
 * -D_POSIX_C_SOURCE=200809L (the Makefile's CPPFLAGS).
 */
#ifndef UMS_TEST_SUPPORT_H
#define UMS_TEST_SUPPORT_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The simulator's public demo app (printed in its banner; not secrets). */
#define DEMO_APP_ID "10037e6f66f2d0f901672aa27d690006"
#define DEMO_APP_KEY "47ace12ae3b348fe93ab46cee97c6fde"
#define DEMO_NOTIFY_KEY "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR"
#define DEMO_MSG_SRC "WWW.TEST.COM"
#define DEMO_MSG_SRC_ID "3194"
#define DEMO_MID "898340149000005"
#define DEMO_MID2 "898340149000006"
#define DEMO_TID "00000001"

#define SUPPORT_FN static __attribute__((unused))

static struct {
    pid_t pid;   /* the simulator process, or -1 */
    int out_fd;  /* read end of its stdout, or -1 */
    int port;    /* its port on 127.0.0.1 */
    char url[64]; /* "http://127.0.0.1:PORT" */
} sandbox = {-1, -1, 0, ""};

/* Stops the simulator (SIGKILL: it keeps no state worth saving) and reaps it. */
SUPPORT_FN void sandbox_stop(void) {
    if (sandbox.pid > 0) {
        kill(sandbox.pid, SIGKILL);
        while (waitpid(sandbox.pid, NULL, 0) < 0 && errno == EINTR) {
        }
        sandbox.pid = -1;
    }
    if (sandbox.out_fd >= 0) {
        close(sandbox.out_fd);
        sandbox.out_fd = -1;
    }
}

/* Starts the simulator; returns its base URL. Exits the test program (status
   2) when it cannot be started: nothing else can be tested then. */
SUPPORT_FN const char *sandbox_start(void) {
    static const char prefix[] = "ums-sandbox listening on ";
    const char *path = getenv("UMS_SANDBOX");
    if (path == NULL || path[0] == '\0') {
        fprintf(stderr, "UMS_SANDBOX is not set: the path of the ums-sandbox program (`make` exports it)\n");
        exit(2);
    }
    if (sandbox.pid > 0) return sandbox.url;
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        if (fds[1] != STDOUT_FILENO) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[1]);
        }
        close(fds[0]);
        execl(path, path, "--port", "0", "--quiet", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    sandbox.pid = pid;
    sandbox.out_fd = fds[0];
    atexit(sandbox_stop);

    /* The first line, byte by byte (the banner that follows stays in the
       pipe). A blocking read: it returns when the simulator listens, or at
       end of file when it could not start. The poll is only a safety net
       against a simulator that hangs before printing anything. */
    char line[256];
    size_t n = 0;
    for (;;) {
        struct pollfd p;
        p.fd = sandbox.out_fd;
        p.events = POLLIN;
        p.revents = 0;
        int ready = poll(&p, 1, 60000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        char c;
        ssize_t got = read(sandbox.out_fd, &c, 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0 || c == '\n' || n + 1 == sizeof line) break;
        line[n++] = c;
    }
    line[n] = '\0';
    const char *colon = strrchr(line, ':');
    if (strncmp(line, prefix, sizeof prefix - 1) != 0 || colon == NULL || atoi(colon + 1) <= 0 ||
        strlen(line + sizeof prefix - 1) >= sizeof sandbox.url) {
        fprintf(stderr, "%s did not start: first line \"%s\"\n", path, line);
        sandbox_stop();
        exit(2);
    }
    memcpy(sandbox.url, line + sizeof prefix - 1, strlen(line + sizeof prefix - 1) + 1);
    sandbox.port = atoi(colon + 1);
    return sandbox.url;
}

/* A configuration for the simulator with the demo app (appId, appKey,
   msgSrc, msgSrcId, notifyKey); `extra` ("" or `,"key":value...`) is spliced
   into the object. Returns buf. */
SUPPORT_FN char *demo_config(char *buf, size_t cap, const char *extra) {
    snprintf(buf, cap,
             "{\"environment\":\"%s\",\"appId\":\"" DEMO_APP_ID "\",\"appKey\":\"" DEMO_APP_KEY
             "\",\"msgSrc\":\"" DEMO_MSG_SRC "\",\"msgSrcId\":\"" DEMO_MSG_SRC_ID "\",\"notifyKey\":\"" DEMO_NOTIFY_KEY
             "\"%s}",
             sandbox.url, extra);
    return buf;
}

/* Copies the string value of the first "key":"..." in doc; 1 if found. */
SUPPORT_FN int json_str(const char *doc, const char *key, char *dst, size_t cap) {
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

/* The non-negative integer of the first "key":123 in doc, or -1 when the key
   is absent or its value is not a number. */
SUPPORT_FN long json_number(const char *doc, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(doc, pattern);
    if (p == NULL) return -1;
    p += strlen(pattern);
    if (*p < '0' || *p > '9') return -1;
    return strtol(p, NULL, 10);
}

/* Today in Beijing time (UTC+8, no DST), yyyy-MM-dd (a static buffer). */
SUPPORT_FN const char *today(void) {
    static char date[16];
    time_t t = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    return date;
}

/* Sends all of buf on a socket; 0 on success. */
SUPPORT_FN int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Send and receive time limits of a socket, so a test cannot hang on it. */
SUPPORT_FN void set_timeouts(int fd, int seconds) {
    struct timeval tv;
    tv.tv_sec = seconds;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/*
 * One HTTP/1.1 request to the simulator (Connection: close), for its
 * control endpoints (/_sandbox/...): `body` (JSON, or NULL for none). The body of
 * the answer goes to resp (NUL-terminated, cut at cap - 1). Returns the HTTP
 * status, or -1 on a transport failure.
 */
SUPPORT_FN int sandbox_http(const char *method, const char *path, const char *body, char *resp, size_t cap) {
    if (cap > 0) resp[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    set_timeouts(fd, 10);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)sandbox.port);
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
                            method, path, sandbox.port, body_len);
    if (head_len < 0 || (size_t)head_len >= sizeof head || write_all(fd, head, (size_t)head_len) != 0 ||
        (body_len > 0 && write_all(fd, body, body_len) != 0)) {
        close(fd);
        return -1;
    }
    size_t raw_cap = 65536, got = 0;
    char *raw = malloc(raw_cap + 1);
    if (raw == NULL) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (got == raw_cap) {
            char *bigger = realloc(raw, raw_cap * 2 + 1);
            if (bigger == NULL) break;
            raw = bigger;
            raw_cap *= 2;
        }
        ssize_t n = recv(fd, raw + got, raw_cap - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    raw[got] = '\0';
    close(fd);
    int status = -1;
    if (sscanf(raw, "HTTP/1.1 %d", &status) != 1) status = -1;
    const char *start = strstr(raw, "\r\n\r\n");
    if (cap > 0) snprintf(resp, cap, "%s", start ? start + 4 : "");
    free(raw);
    return status;
}

/* A counter of GET /_sandbox/stats: `key` is a top-level counter
   ("tokensIssued") or a service path ("/v1/netpay/bills/query": the
   requests received on it). 0 when absent, -1 when stats cannot be read. */
SUPPORT_FN long sandbox_stat(const char *key) {
    static char stats[65536];
    if (sandbox_http("GET", "/_sandbox/stats", NULL, stats, sizeof stats) != 200) return -1;
    const char *requests = strstr(stats, "\"requests\":{");
    long n = json_number(key[0] == '/' && requests ? requests : stats, key);
    return n < 0 ? 0 : n;
}

#endif
