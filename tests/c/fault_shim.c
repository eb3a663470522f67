/*
 * fault_shim: an LD_PRELOAD object that makes the socket calls of one
 * process fail at a chosen point, for the fault matrix (tests/fault_matrix.rs).
 *
 *   cc -std=c99 -Wall -Wextra -Werror -shared -fPIC fault_shim.c -o fault_shim.so -ldl
 *
 * Only sockets connected to the port UMS_SHIM_PORT are affected (tracked
 * from connect() to close()). UMS_SHIM_POINT chooses the fault:
 *
 *   count          no fault; the report says how many calls there were
 *   resolve        getaddrinfo(UMS_SHIM_HOST) fails (EAI_SYSTEM, errno set), every time
 *   connect:N      the N-th connect() to the port fails; `connect:all`: every one
 *   write:N        the N-th write-type call (write, writev, send, sendto,
 *                  sendmsg) fails without writing
 *   write-half:N   the N-th write-type call writes the first half of its bytes
 *                  and returns that short count; the next write on that
 *                  socket fails
 *   read:N         the N-th read-type call (read, readv, recv, recvfrom,
 *                  recvmsg) fails without reading
 *
 * A point may end in `+down` (`read:2+down`): once the fault has fired, every
 * later connect() to the port fails with the same errno too, as when the
 * network goes down and stays down; a retry cannot succeed.
 *
 * UMS_SHIM_ERRNO is the errno of the failure. Once a fault has fired on a
 * socket, every later read or write on it fails with the same errno (a dead
 * connection). Calls are numbered from 1 across all affected sockets of the
 * process, in the order they are made.
 *
 * At exit the shim writes to the file UMS_SHIM_REPORT (when set) one line:
 *   writes W reads R connects C connected K lookups L fired F bytes-out B
 * the write-type and read-type calls made on affected sockets, the connect()
 * calls to the port (K of them reached the real connect() and did not fail
 * at once), the lookups of UMS_SHIM_HOST, how many times the fault fired and
 * how many bytes were really written to affected sockets.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum point { P_NONE, P_COUNT, P_RESOLVE, P_CONNECT, P_WRITE, P_WRITE_HALF, P_READ };

/* Per-descriptor state; descriptors beyond MAX_FD are never affected. */
#define MAX_FD 4096
enum { FD_OFF = 0, FD_ON = 1, FD_HALF = 2, FD_DEAD = 3 };
static unsigned char fd_state[MAX_FD];

static struct {
    int ready;
    enum point point;
    long nth;      /* the N of the point; 0 for "all" */
    int err;       /* errno of the fault */
    int port;      /* affected port */
    char host[256];
    char report[4096];
    int trace;     /* UMS_SHIM_TRACE set: every affected call on stderr */
    int down;      /* "+down": once the fault fired, every connect fails */
} cfg;

static long n_writes, n_reads, n_connects, n_connected, n_lookups, n_fired, n_bytes_out;

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_getaddrinfo)(const char *, const char *, const struct addrinfo *,
                               struct addrinfo **);

/* Dies with `message` on stderr, written by the system call itself: the
 * interposed write() cannot be used before set-up is done. */
static void die(const char *message) {
    (void)!syscall(SYS_write, 2, message, strlen(message));
    abort();
}

/* The next definition of `name` (libc's) into the function pointer at
 * `slot`. dlsym returns void *; POSIX guarantees it converts to a function
 * pointer, done through memcpy to stay within ISO C. */
static void resolve_symbol(void *slot, const char *name) {
    void *sym = dlsym(RTLD_NEXT, name);
    if (sym == NULL) die("fault_shim: a libc symbol is missing\n");
    memcpy(slot, &sym, sizeof sym);
}

static long parse_nth(const char *text) {
    if (strcmp(text, "all") == 0) return 0;
    char *end = NULL;
    long n = strtol(text, &end, 10);
    return (end != text && *end == '\0' && n > 0) ? n : -1;
}

static void setup(void) {
    if (__atomic_load_n(&cfg.ready, __ATOMIC_ACQUIRE)) return;
    static int lock;
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {
    }
    if (!cfg.ready) {
        resolve_symbol(&real_connect, "connect");
        resolve_symbol(&real_close, "close");
        resolve_symbol(&real_write, "write");
        resolve_symbol(&real_writev, "writev");
        resolve_symbol(&real_send, "send");
        resolve_symbol(&real_sendto, "sendto");
        resolve_symbol(&real_sendmsg, "sendmsg");
        resolve_symbol(&real_read, "read");
        resolve_symbol(&real_readv, "readv");
        resolve_symbol(&real_recv, "recv");
        resolve_symbol(&real_recvfrom, "recvfrom");
        resolve_symbol(&real_recvmsg, "recvmsg");
        resolve_symbol(&real_getaddrinfo, "getaddrinfo");
        const char *port = getenv("UMS_SHIM_PORT");
        const char *point = getenv("UMS_SHIM_POINT");
        const char *err = getenv("UMS_SHIM_ERRNO");
        const char *host = getenv("UMS_SHIM_HOST");
        const char *report = getenv("UMS_SHIM_REPORT");
        cfg.trace = getenv("UMS_SHIM_TRACE") != NULL;
        cfg.port = port ? atoi(port) : -1;
        cfg.err = err ? atoi(err) : ECONNRESET;
        snprintf(cfg.host, sizeof cfg.host, "%s", host ? host : "");
        snprintf(cfg.report, sizeof cfg.report, "%s", report ? report : "");
        cfg.point = P_NONE;
        char spec[64] = "";
        if (point != NULL) {
            snprintf(spec, sizeof spec, "%s", point);
            size_t len = strlen(spec);
            if (len > 5 && strcmp(spec + len - 5, "+down") == 0) {
                spec[len - 5] = '\0';
                cfg.down = 1;
            }
            point = spec;
            static const struct {
                const char *prefix;
                enum point point;
            } names[] = {
                {"connect:", P_CONNECT},
                {"write:", P_WRITE},
                {"write-half:", P_WRITE_HALF},
                {"read:", P_READ},
            };
            if (strcmp(point, "count") == 0) cfg.point = P_COUNT;
            if (strcmp(point, "resolve") == 0) cfg.point = P_RESOLVE;
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                size_t len = strlen(names[i].prefix);
                if (strncmp(point, names[i].prefix, len) == 0) {
                    cfg.nth = parse_nth(point + len);
                    cfg.point = cfg.nth < 0 ? P_NONE : names[i].point;
                }
            }
            if (cfg.point == P_NONE) die("fault_shim: unknown UMS_SHIM_POINT\n");
        }
        __atomic_store_n(&cfg.ready, 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void write_report(void) {
    if (!cfg.ready || cfg.report[0] == '\0') return;
    FILE *f = fopen(cfg.report, "w");
    if (f == NULL) return;
    fprintf(f, "writes %ld reads %ld connects %ld connected %ld lookups %ld fired %ld bytes-out %ld\n",
            __atomic_load_n(&n_writes, __ATOMIC_SEQ_CST), __atomic_load_n(&n_reads, __ATOMIC_SEQ_CST),
            __atomic_load_n(&n_connects, __ATOMIC_SEQ_CST),
            __atomic_load_n(&n_connected, __ATOMIC_SEQ_CST),
            __atomic_load_n(&n_lookups, __ATOMIC_SEQ_CST), __atomic_load_n(&n_fired, __ATOMIC_SEQ_CST),
            __atomic_load_n(&n_bytes_out, __ATOMIC_SEQ_CST));
    fclose(f);
}

static int tracked(int fd) {
    return fd >= 0 && fd < MAX_FD && __atomic_load_n(&fd_state[fd], __ATOMIC_SEQ_CST) != FD_OFF;
}

static void set_state(int fd, unsigned char state) {
    if (fd >= 0 && fd < MAX_FD) __atomic_store_n(&fd_state[fd], state, __ATOMIC_SEQ_CST);
}

static void fire(void) {
    __atomic_add_fetch(&n_fired, 1, __ATOMIC_SEQ_CST);
}

/* What a write-type call on `fd` of `total` bytes does: 0 pass through,
 * -1 fail with cfg.err, or a positive number of bytes to write (a short
 * write). */
static ssize_t before_write(int fd, size_t total) {
    setup();
    if (!tracked(fd)) return 0;
    long n = __atomic_add_fetch(&n_writes, 1, __ATOMIC_SEQ_CST);
    unsigned char state = __atomic_load_n(&fd_state[fd], __ATOMIC_SEQ_CST);
    if (state == FD_DEAD) return -1;
    if (state == FD_HALF) {
        set_state(fd, FD_DEAD);
        return -1;
    }
    if (cfg.point == P_WRITE && n == cfg.nth) {
        fire();
        set_state(fd, FD_DEAD);
        return -1;
    }
    if (cfg.point == P_WRITE_HALF && n == cfg.nth) {
        fire();
        set_state(fd, FD_HALF);
        size_t half = total / 2;
        return (ssize_t)(half > 0 ? half : total);
    }
    return 0;
}

/* Whether a read-type call on `fd` fails. */
static int read_fails(int fd) {
    setup();
    if (!tracked(fd)) return 0;
    long n = __atomic_add_fetch(&n_reads, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&fd_state[fd], __ATOMIC_SEQ_CST) == FD_DEAD) return 1;
    if (cfg.point == P_READ && n == cfg.nth) {
        fire();
        set_state(fd, FD_DEAD);
        return 1;
    }
    return 0;
}

/* With UMS_SHIM_TRACE: one line per call on an affected socket. */
static ssize_t traced(const char *what, int fd, size_t asked, ssize_t result) {
    if (cfg.trace && tracked(fd)) {
        int saved = errno;
        char line[160];
        int n = snprintf(line, sizeof line, "fault_shim: %s fd %d asked %zu -> %zd (errno %d)\n",
                         what, fd, asked, result, result < 0 ? saved : 0);
        if (n > 0) (void)!syscall(SYS_write, 2, line, (size_t)n);
        errno = saved;
    }
    return result;
}

static int port_of(const struct sockaddr *addr, socklen_t len) {
    if (addr == NULL) return -1;
    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, addr, sizeof in);
        return ntohs(in.sin_port);
    }
    if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, addr, sizeof in6);
        return ntohs(in6.sin6_port);
    }
    return -1;
}

/* The result of a real write-type call on `fd`, counted. */
static ssize_t wrote(const char *what, int fd, size_t asked, ssize_t result) {
    if (result > 0 && tracked(fd)) __atomic_add_fetch(&n_bytes_out, (long)result, __ATOMIC_SEQ_CST);
    return traced(what, fd, asked, result);
}

/* A call that fails with the fault's errno. */
static ssize_t failed(const char *what, int fd, size_t asked) {
    errno = cfg.err;
    return traced(what, fd, asked, -1);
}

/* ---- interposed functions ----------------------------------------------- */

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    setup();
    if (node != NULL && cfg.host[0] != '\0' && strcmp(node, cfg.host) == 0) {
        __atomic_add_fetch(&n_lookups, 1, __ATOMIC_SEQ_CST);
        if (cfg.point == P_RESOLVE) {
            fire();
            errno = cfg.err;
            return EAI_SYSTEM;
        }
    }
    return real_getaddrinfo(node, service, hints, res);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    setup();
    if (cfg.point != P_NONE && cfg.port > 0 && port_of(addr, len) == cfg.port) {
        long n = __atomic_add_fetch(&n_connects, 1, __ATOMIC_SEQ_CST);
        if (cfg.point == P_CONNECT && (cfg.nth == 0 || n == cfg.nth)) {
            fire();
            set_state(fd, FD_OFF);
            errno = cfg.err;
            return -1;
        }
        if (cfg.down && __atomic_load_n(&n_fired, __ATOMIC_SEQ_CST) > 0) {
            set_state(fd, FD_OFF); /* the network stays down */
            errno = cfg.err;
            return -1;
        }
        set_state(fd, FD_ON);
        int result = real_connect(fd, addr, len);
        if (result == 0 || errno == EINPROGRESS) __atomic_add_fetch(&n_connected, 1, __ATOMIC_SEQ_CST);
        return result;
    }
    set_state(fd, FD_OFF);
    return real_connect(fd, addr, len);
}

int close(int fd) {
    setup();
    set_state(fd, FD_OFF);
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    ssize_t plan = before_write(fd, count);
    if (plan < 0) return failed("write", fd, count);
    return wrote("write", fd, count, real_write(fd, buf, plan > 0 ? (size_t)plan : count));
}

ssize_t send(int fd, const void *buf, size_t count, int flags) {
    ssize_t plan = before_write(fd, count);
    if (plan < 0) return failed("send", fd, count);
    return wrote("send", fd, count, real_send(fd, buf, plan > 0 ? (size_t)plan : count, flags));
}

ssize_t sendto(int fd, const void *buf, size_t count, int flags, const struct sockaddr *to,
               socklen_t to_len) {
    ssize_t plan = before_write(fd, count);
    if (plan < 0) return failed("sendto", fd, count);
    return wrote("sendto", fd, count,
                  real_sendto(fd, buf, plan > 0 ? (size_t)plan : count, flags, to, to_len));
}

#define MAX_IOV 64

static size_t iov_total(const struct iovec *iov, int n) {
    size_t total = 0;
    for (int i = 0; iov != NULL && i < n; i++) total += iov[i].iov_len;
    return total;
}

/* Copies the first `limit` bytes' worth of `iov` into `out`; the count. */
static int iov_cut(const struct iovec *iov, int n, size_t limit, struct iovec *out) {
    int used = 0;
    for (int i = 0; i < n && limit > 0 && used < MAX_IOV; i++) {
        out[used] = iov[i];
        if (out[used].iov_len > limit) out[used].iov_len = limit;
        limit -= out[used].iov_len;
        used++;
    }
    return used;
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
    size_t total = iov_total(iov, n);
    ssize_t plan = before_write(fd, total);
    if (plan < 0) return failed("writev", fd, total);
    if (plan == 0) return wrote("writev", fd, total, real_writev(fd, iov, n));
    struct iovec cut[MAX_IOV];
    return wrote("writev", fd, total, real_writev(fd, cut, iov_cut(iov, n, (size_t)plan, cut)));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    size_t total = msg != NULL ? iov_total(msg->msg_iov, (int)msg->msg_iovlen) : 0;
    ssize_t plan = before_write(fd, total);
    if (plan < 0) return failed("sendmsg", fd, total);
    if (plan == 0) return wrote("sendmsg", fd, total, real_sendmsg(fd, msg, flags));
    struct iovec cut[MAX_IOV];
    struct msghdr shorter = *msg;
    shorter.msg_iov = cut;
    shorter.msg_iovlen = (size_t)iov_cut(msg->msg_iov, (int)msg->msg_iovlen, (size_t)plan, cut);
    return wrote("sendmsg", fd, total, real_sendmsg(fd, &shorter, flags));
}

ssize_t read(int fd, void *buf, size_t count) {
    if (read_fails(fd)) return failed("read", fd, count);
    return traced("read", fd, count, real_read(fd, buf, count));
}

ssize_t readv(int fd, const struct iovec *iov, int n) {
    size_t total = iov_total(iov, n);
    if (read_fails(fd)) return failed("readv", fd, total);
    return traced("readv", fd, total, real_readv(fd, iov, n));
}

ssize_t recv(int fd, void *buf, size_t count, int flags) {
    if (read_fails(fd)) return failed("recv", fd, count);
    return traced("recv", fd, count, real_recv(fd, buf, count, flags));
}

ssize_t recvfrom(int fd, void *buf, size_t count, int flags, struct sockaddr *from,
                 socklen_t *from_len) {
    if (read_fails(fd)) return failed("recvfrom", fd, count);
    return traced("recvfrom", fd, count, real_recvfrom(fd, buf, count, flags, from, from_len));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    size_t total = msg != NULL ? iov_total(msg->msg_iov, (int)msg->msg_iovlen) : 0;
    if (read_fails(fd)) return failed("recvmsg", fd, total);
    return traced("recvmsg", fd, total, real_recvmsg(fd, msg, flags));
}
