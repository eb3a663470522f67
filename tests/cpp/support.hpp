/*
 * support.hpp: what the C++ tests of include/ums.hpp share (the C++ twin of
 * tests/c/support.h, which is C only).
 *
 *  - Sandbox: runs getenv("UMS_SANDBOX") (the Makefile exports the absolute
 *    path of target/release/ums-sandbox) with `--port 0`, reads the first
 *    line it prints (`ums-sandbox listening on http://127.0.0.1:PORT`) with
 *    a blocking read of a pipe, and kills it in its destructor. The child
 *    also dies with this process (PR_SET_PDEATHSIG).
 *  - Sandbox::http(): one request to its control endpoints (/_sandbox/...);
 *    Sandbox::requests(path): how many requests the simulator received on
 *    a service path (GET /_sandbox/stats).
 *  - demo_config(): a client configuration for the simulator with its public
 *    demo app (printed in its banner; not secrets).
 *  - CHECK(cond, what): counts a failure and says where; checks_failed().
 */
#ifndef UMS_TEST_SUPPORT_HPP
#define UMS_TEST_SUPPORT_HPP

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace support {

inline int &failures() {
    static int n = 0;
    return n;
}

inline void check(bool ok, const char *file, int line, const std::string &what) {
    if (!ok) {
        ++failures();
        std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
    }
}

#define CHECK(cond, what) support::check((cond), __FILE__, __LINE__, std::string(#cond " -- ") + (what))

inline bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

/* The simulator's public demo app (printed in its banner; not secrets). */
const char *const kDemoAppId = "10037e6f66f2d0f901672aa27d690006";
const char *const kDemoAppKey = "47ace12ae3b348fe93ab46cee97c6fde";
const char *const kDemoNotifyKey = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR";
const char *const kSeedQrCode = "31942002267733902130410550";
const char *const kUpdatePath = "/v1/netpay/bills/update-qrcode";

/* Today in Beijing time (UTC+8, no DST), yyyy-MM-dd. */
inline std::string today() {
    std::time_t t = std::time(nullptr) + 8 * 3600;
    std::tm tm;
    gmtime_r(&t, &tm);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
    return date;
}

class Sandbox {
public:
    Sandbox() : pid_(-1), out_fd_(-1), port_(0) {
        const char *path = std::getenv("UMS_SANDBOX");
        if (path == nullptr || *path == '\0')
            throw std::runtime_error("UMS_SANDBOX is not set: the path of the ums-sandbox program");
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_t parent = getpid();
        std::fflush(nullptr);
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            /* The child: only async-signal-safe calls until exec. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
            execl(path, path, "--port", "0", "--quiet", static_cast<char *>(nullptr));
            _exit(127);
        }
        close(fds[1]);
        out_fd_ = fds[0]; /* kept open (unread) until stop(): the banner that follows stays in the pipe */
        std::string line = first_line(out_fd_);
        const std::string prefix = "ums-sandbox listening on ";
        std::size_t colon = line.rfind(':');
        if (line.compare(0, prefix.size(), prefix) != 0 || colon == std::string::npos) {
            stop();
            throw std::runtime_error(std::string(path) + " did not start: first line \"" + line + "\"");
        }
        url_ = line.substr(prefix.size());
        port_ = std::atoi(line.c_str() + colon + 1);
    }

    ~Sandbox() { stop(); }
    Sandbox(const Sandbox &) = delete;
    Sandbox &operator=(const Sandbox &) = delete;

    const std::string &url() const { return url_; }

    /* One HTTP/1.1 request (Connection: close); returns the status and puts
       the body in *body; -1 on a transport failure. */
    int http(const std::string &method, const std::string &path, const std::string &request_body,
             std::string *body) const {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return -1;
        timeval tv;
        tv.tv_sec = 10;
        tv.tv_usec = 0;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr;
        std::memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port_));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
            close(fd);
            return -1;
        }
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                          std::to_string(static_cast<long long>(port_)) + "\r\nContent-Type: application/json\r\n" +
                          "Content-Length: " + std::to_string(static_cast<unsigned long long>(request_body.size())) +
                          "\r\nConnection: close\r\n\r\n" + request_body;
        std::size_t sent = 0;
        while (sent < req.size()) {
            ssize_t n = send(fd, req.data() + sent, req.size() - sent, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                close(fd);
                return -1;
            }
            sent += static_cast<std::size_t>(n);
        }
        std::string raw;
        char chunk[65536];
        for (;;) {
            ssize_t n = recv(fd, chunk, sizeof chunk, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            raw.append(chunk, static_cast<std::size_t>(n));
        }
        close(fd);
        int status = -1;
        if (std::sscanf(raw.c_str(), "HTTP/1.1 %d", &status) != 1) return -1;
        std::size_t start = raw.find("\r\n\r\n");
        if (body) *body = start == std::string::npos ? std::string() : raw.substr(start + 4);
        return status;
    }

    /* Requests the simulator received on a service path; -1 when unreadable. */
    long requests(const std::string &service_path) const {
        std::string stats;
        if (http("GET", "/_sandbox/stats", "", &stats) != 200) return -1;
        std::size_t at = stats.find("\"requests\":{");
        if (at == std::string::npos) return -1;
        std::size_t key = stats.find("\"" + service_path + "\":", at);
        if (key == std::string::npos) return 0;
        return std::atol(stats.c_str() + key + service_path.size() + 3);
    }

    /* Queues a fault for the next request on `path`; true when queued. */
    bool queue_fault(const std::string &path, const std::string &fault) const {
        return http("POST", "/_sandbox/faults", "{\"path\":\"" + path + "\",\"fault\":\"" + fault + "\"}", nullptr) ==
               200;
    }

private:
    /* The first line the simulator prints, read byte by byte (blocking; the
       poll is only a safety net against one that hangs before printing). */
    static std::string first_line(int fd) {
        std::string line;
        for (;;) {
            pollfd p;
            p.fd = fd;
            p.events = POLLIN;
            p.revents = 0;
            int ready = poll(&p, 1, 60000);
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) break;
            char c;
            ssize_t got = read(fd, &c, 1);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0 || c == '\n' || line.size() > 200) break;
            line += c;
        }
        return line;
    }

    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
        if (out_fd_ >= 0) {
            close(out_fd_);
            out_fd_ = -1;
        }
    }

    pid_t pid_;
    int out_fd_; /* read end of its stdout */
    int port_;
    std::string url_;
};

/* A configuration for the simulator with the demo app; `extra` ("" or
   `,"key":value...`) is spliced into the object. */
inline std::string demo_config(const Sandbox &sandbox, const std::string &extra = "") {
    return std::string("{\"environment\":\"") + sandbox.url() + "\",\"appId\":\"" + kDemoAppId + "\",\"appKey\":\"" +
           kDemoAppKey + "\",\"msgSrc\":\"WWW.TEST.COM\",\"msgSrcId\":\"3194\",\"notifyKey\":\"" + kDemoNotifyKey +
           "\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"" + extra + "}";
}

/* The update-qrcode request for the seed QR code with a new bill. */
inline std::string update_request(const std::string &bill_no, const std::string &extra = "") {
    return std::string("{\"qrCodeId\":\"") + kSeedQrCode + "\",\"billNo\":\"" + bill_no + "\",\"billDate\":\"" +
           today() + "\",\"totalAmount\":26" + extra + "}";
}

} // namespace support

#endif
