/*
 * test_client.cpp: include/ums.hpp against the ums-sandbox simulator
 * (started from UMS_SANDBOX, tests/cpp/support.hpp). Built with
 * -Wall -Wextra -Werror -pedantic under -std=c++11 and -std=c++17
 * (`make test-cpp`). Prints one line per test; exit status 1 on any failure.
 */
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "support.hpp"
#include "ums.hpp"

using support::contains;
using support::kUpdatePath;
using support::Sandbox;

static_assert(!std::is_copy_constructible<ums::Client>::value, "a Client is not copyable");
static_assert(!std::is_copy_assignable<ums::Client>::value, "a Client is not copy-assignable");
static_assert(std::is_nothrow_move_constructible<ums::Client>::value, "a Client moves without throwing");
static_assert(std::is_nothrow_move_assignable<ums::Client>::value, "a Client move-assigns without throwing");
static_assert(std::is_base_of<ums::OutcomeUnknownError, ums::AnswerGoneError>::value, "hierarchy");
static_assert(std::is_base_of<ums::ValidationError, ums::ClientClosedError>::value, "hierarchy");
static_assert(std::is_base_of<ums::TransportError, ums::TlsError>::value, "hierarchy");
static_assert(std::is_base_of<std::runtime_error, ums::Error>::value, "hierarchy");

static void test_success(const Sandbox &sb) {
    ums::Client client(support::demo_config(sb));
    CHECK(contains(client.info(), "\"status\":\"UMS_OK\""), client.info());
    CHECK(ums::version().compare(0, 4, "0.1.") == 0, ums::version());
    std::string bill = client.new_id();
    CHECK(bill.size() == 28 && bill.compare(0, 4, "3194") == 0, bill);
    std::string answer = client.update_qrcode(support::update_request(bill));
    CHECK(contains(answer, "\"errCode\":\"SUCCESS\""), answer);
    CHECK(ums::detail::string_member(answer, "billNo") == bill, answer);

    // const char * in, through call() too.
    std::string second = client.new_id();
    std::string request = support::update_request(second);
    answer = client.call(kUpdatePath, request.c_str());
    CHECK(ums::detail::string_member(answer, "billNo") == second, answer);
}

static void test_validation_names_the_field(const Sandbox &sb) {
    ums::Client client(support::demo_config(sb));
    long before = sb.requests(kUpdatePath);
    try {
        client.update_qrcode(support::update_request(client.new_id(), ",\"walletOption\":\"TRIPLE\""));
        CHECK(false, "no exception");
    } catch (const ums::ValidationError &e) {
        CHECK(e.status() == UMS_ERR_VALIDATION, e.status_name());
        CHECK(e.field() == "walletOption", e.field());
        CHECK(contains(e.what(), "walletOption"), e.what());
        CHECK(e.kind() == "validation", e.kind());
        CHECK(e.phase() == "local" && e.nothing_sent() && !e.outcome_unknown(), e.document());
    }
    CHECK(sb.requests(kUpdatePath) == before, "nothing sent");
}

static void test_gateway_rejection_says_errcode_and_errmsg(const Sandbox &sb) {
    ums::Client client(support::demo_config(sb));
    std::string request = support::update_request(client.new_id());
    client.update_qrcode(request);
    try {
        client.update_qrcode(request);  // the same billNo again
        CHECK(false, "no exception");
    } catch (const ums::GatewayRejectedError &e) {
        CHECK(e.status() == UMS_ERR_GATEWAY_REJECTED && !e.token_rejected(), e.status_name());
        CHECK(e.err_code() == "DUP_ORDER", e.err_code());
        CHECK(e.err_msg() == "账单号重复", e.err_msg());
        CHECK(contains(e.what(), "DUP_ORDER") && contains(e.what(), "账单号重复"), e.what());
        CHECK(contains(e.what(), "(errCode DUP_ORDER: 账单号重复)"), e.what());
        CHECK(e.http_status() == 200, e.document());
        CHECK(contains(e.response(), "\"errCode\":\"DUP_ORDER\""), e.response());
        CHECK(!e.outcome_unknown() && e.phase() == "sent", e.document());
        // Copies (catch by value, rethrow) keep everything.
        ums::Error copy = e;
        CHECK(std::string(copy.what()) == e.what() && copy.err_msg() == e.err_msg(), copy.what());
    }
}

static void test_outcome_unknown_is_not_resent(const Sandbox &sb) {
    ums::Client client(support::demo_config(sb));
    std::string bill = client.new_id();
    CHECK(sb.queue_fault(kUpdatePath, "close-after-body"), "fault queued");
    long before = sb.requests(kUpdatePath);
    try {
        client.update_qrcode(support::update_request(bill));
        CHECK(false, "no exception");
    } catch (const ums::OutcomeUnknownError &e) {
        CHECK(e.status() == UMS_ERR_OUTCOME_UNKNOWN, e.status_name());
        CHECK(e.outcome_unknown() && !e.nothing_sent() && e.phase() == "sent", e.document());
        CHECK(contains(e.what(), "outcome_unknown"), e.what());
        // resolve() finds the bill on the code with read-only queries.
        std::string verdict = client.resolve(e.document());
        CHECK(contains(verdict, "\"verdict\":\"applied\"") && contains(verdict, "\"safeToResend\":false"), verdict);
    }
    CHECK(sb.requests(kUpdatePath) == before + 1, "exactly one request reached the simulator (resolve never resends)");
    try {
        client.journal_pending();
        CHECK(false, "no exception");
    } catch (const ums::ConfigError &e) {
        CHECK(e.field() == "journal", e.what());
    }

    // An errCode that leaves the outcome unknown: what() carries errCode and errMsg.
    CHECK(sb.queue_fault(kUpdatePath, "errcode-TIMEOUT"), "fault queued");
    try {
        client.update_qrcode(support::update_request(client.new_id()));
        CHECK(false, "no exception");
    } catch (const ums::OutcomeUnknownError &e) {
        CHECK(e.err_code() == "TIMEOUT" && !e.err_msg().empty(), e.document());
        CHECK(contains(e.what(), "TIMEOUT") && contains(e.what(), e.err_msg()), e.what());
    }
}

static void test_big_answers_are_taken_not_resent(const Sandbox &sb) {
    // A first buffer of UMS_MIN_OUT_CAP: an ordinary answer does not fit,
    // libums keeps it and the header takes it by its answerId.
    ums::Client small(support::demo_config(sb));
    small.set_first_buffer_size(0);  // clamped to UMS_MIN_OUT_CAP
    long before = sb.requests(kUpdatePath);
    std::string bill = small.new_id();
    std::string answer = small.update_qrcode(support::update_request(bill));
    CHECK(answer.size() > UMS_MIN_OUT_CAP, answer);
    CHECK(ums::detail::string_member(answer, "billNo") == bill, answer);
    CHECK(sb.requests(kUpdatePath) == before + 1, "one request");

    // A 5 MiB answer (the oversized-json fault) with the default 64 KiB buffer.
    ums::Client client(support::demo_config(sb, ",\"maxResponseBytes\":8388608"));
    CHECK(sb.queue_fault(kUpdatePath, "oversized-json"), "fault queued");
    bill = client.new_id();
    answer = client.update_qrcode(support::update_request(bill));
    CHECK(answer.size() > 5 * 1024 * 1024 - 1024, std::to_string(static_cast<unsigned long long>(answer.size())));
    CHECK(ums::detail::string_member(answer, "billNo") == bill, "the answer of this request");
    CHECK(sb.requests(kUpdatePath) == before + 2, "one request more");

    // A kept answer that is not there: AnswerGoneError, nothing sent.
    try {
        client.take_answer("00000000000000000000000000000000");
        CHECK(false, "no exception");
    } catch (const ums::AnswerGoneError &e) {
        CHECK(e.outcome_unknown(), e.document());
        CHECK(e.kind() == "answer_gone", e.kind());
    }
    CHECK(sb.requests(kUpdatePath) == before + 2, "nothing sent by take_answer");
}

static void test_move_semantics(const Sandbox &sb) {
    ums::Client a(support::demo_config(sb));
    const UmsClient *handle = a.handle();
    ums::Client b(std::move(a));
    CHECK(!a.valid() && !a && a.handle() == nullptr, "moved from");
    CHECK(b.valid() && b.handle() == handle, "moved to");
    CHECK(contains(b.update_qrcode(support::update_request(b.new_id())), "SUCCESS"), "b works");

    long before = sb.requests(kUpdatePath);
    try {
        a.update_qrcode(support::update_request("31940000000000000000000001"));
        CHECK(false, "no exception");
    } catch (const ums::ClientClosedError &e) {
        CHECK(e.kind() == "client_closed" && e.phase() == "local" && e.nothing_sent(), e.document());
        CHECK(contains(e.what(), "moved"), e.what());
    }
    try {
        a.new_id();
        CHECK(false, "no exception");
    } catch (const ums::ValidationError &e) {  // ClientClosedError is a ValidationError
        CHECK(e.kind() == "client_closed", e.what());
    }
    CHECK(sb.requests(kUpdatePath) == before, "nothing sent by a moved-from client");

    // Move assignment frees the target's own handle and takes the other's.
    ums::Client c(support::demo_config(sb));
    c = std::move(b);
    CHECK(c.handle() == handle && !b.valid(), "assigned");
    CHECK(contains(c.update_qrcode(support::update_request(c.new_id())), "SUCCESS"), "c works");
    a = std::move(c);  // into a moved-from client
    CHECK(a.valid() && !c.valid(), "assigned back");
}

static void test_text_arguments(const Sandbox &sb) {
    ums::Client client(support::demo_config(sb));
    try {
        client.update_qrcode(nullptr);
        CHECK(false, "no exception");
    } catch (const ums::ValidationError &e) {
        CHECK(e.status() == UMS_ERR_NULL_POINTER && e.field() == "request_json", e.what());
        CHECK(contains(e.what(), "request_json"), e.what());
    }
    const char *null_text = nullptr;
    try {
        client.query_bill(null_text);
        CHECK(false, "no exception");
    } catch (const ums::ValidationError &e) {
        CHECK(e.status() == UMS_ERR_NULL_POINTER, e.what());
    }
    try {
        client.update_qrcode(std::string("{\"a\":1}\0{}", 10));
        CHECK(false, "no exception");
    } catch (const ums::ValidationError &e) {
        CHECK(e.status() == UMS_ERR_INVALID_ARGUMENT && contains(e.what(), "NUL"), e.what());
    }
    try {
        client.update_qrcode("[1,2]");
        CHECK(false, "no exception");
    } catch (const ums::ValidationError &e) {
        CHECK(e.status() == UMS_ERR_INVALID_JSON, e.what());
    }
}

static void test_config_and_transport_errors(const Sandbox &sb) {
    try {
        ums::Client client("{\"environment\":\"" + sb.url() + "\"}");
        CHECK(false, "no exception");
    } catch (const ums::ConfigError &e) {
        CHECK(e.field() == "appId", e.field());
        CHECK(contains(e.what(), "appId") && e.nothing_sent(), e.what());
    }
    // A port bound but not listening: connection refused, nothing sent.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    CHECK(bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0, "bind");
    CHECK(getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0, "getsockname");
    std::string url = "http://127.0.0.1:" + std::to_string(static_cast<unsigned long long>(ntohs(addr.sin_port)));
    ums::Client client(std::string("{\"environment\":\"") + url + "\",\"appId\":\"" + support::kDemoAppId +
                       "\",\"appKey\":\"" + support::kDemoAppKey + "\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"}");
    try {
        client.update_qrcode(support::update_request("31940000000000000000000002"));
        CHECK(false, "no exception");
    } catch (const ums::TransportError &e) {
        CHECK(e.status() == UMS_ERR_CONNECT && e.nothing_sent() && !e.outcome_unknown(), e.document());
    }
    close(fd);
}

static void test_local_functions(const Sandbox &sb) {
    ums::Client client(support::demo_config(sb));
    std::string prepared = client.prepare("update-qrcode", support::update_request("31940000000000000000000003"),
                                          "20261127120000", "nonce1");
    CHECK(contains(ums::detail::string_member(prepared, "authorization"), "OPEN-BODY-SIG"), prepared);
    CHECK(contains(client.sign_body("{}"), "OPEN-BODY-SIG"), "sign_body");
    CHECK(contains(client.token_request(), support::kDemoAppId), "token_request");
    CHECK(ums::notify_reply(true) == "SUCCESS" && ums::notify_reply(false) == "FAILED", "notify_reply");
    CHECK(ums::status_name(UMS_ERR_OUTCOME_UNKNOWN) == "UMS_ERR_OUTCOME_UNKNOWN", "status_name");
    CHECK(ums::status_name(12345) == "UMS_STATUS_12345", "unknown status");
    try {
        client.verify_notify("mid=1&sign=00&signType=SHA256");
        CHECK(false, "no exception");
    } catch (const ums::NotificationError &e) {
        CHECK(e.reason() == "bad_signature", e.what());
    }
    try {
        ums::verify_notify(support::kDemoNotifyKey, std::string("a=1"));
        CHECK(false, "no exception");
    } catch (const ums::NotificationError &e) {
        CHECK(e.reason() == "missing_sign", e.what());
        CHECK(!contains(e.what(), support::kDemoNotifyKey), "no key in messages");
    }
    CHECK(client.claim_notification("cpp-notify-1"), "first claim");
    CHECK(!client.claim_notification("cpp-notify-1"), "second claim");
    client.release_notification("cpp-notify-1");
    CHECK(client.claim_notification("cpp-notify-1"), "claim after release");
}

static void test_one_client_many_threads(const Sandbox &sb) {
    const ums::Client client(support::demo_config(sb));
    long before = sb.requests(kUpdatePath);
    std::atomic<int> succeeded(0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.push_back(std::thread([&client, &succeeded]() {
            for (int i = 0; i < 4; ++i) {
                try {
                    std::string bill = client.new_id();
                    std::string answer = client.update_qrcode(support::update_request(bill));
                    if (ums::detail::string_member(answer, "billNo") == bill) ++succeeded;
                } catch (const ums::Error &e) {
                    std::fprintf(stderr, "thread: %s\n", e.what());
                }
            }
        }));
    }
    for (std::size_t t = 0; t < threads.size(); ++t) threads[t].join();
    CHECK(succeeded.load() == 32, std::to_string(static_cast<long long>(succeeded.load())));
    CHECK(sb.requests(kUpdatePath) == before + 32, "one request per call");
}

/* A token store in this process's memory, shared by two clients. */
struct MemoryStore {
    std::mutex lock;
    std::string token;
    int64_t expires_at = 0;
    int gets = 0, puts = 0;
};

static int store_get(void *userdata, char *buf, size_t cap, size_t *len, int64_t *expires_at) {
    MemoryStore *store = static_cast<MemoryStore *>(userdata);
    std::lock_guard<std::mutex> guard(store->lock);
    ++store->gets;
    if (store->token.empty() || store->token.size() > cap) return 1;
    std::memcpy(buf, store->token.data(), store->token.size());
    *len = store->token.size();
    *expires_at = store->expires_at;
    return 0;
}

static int store_put(void *userdata, const char *token, int64_t expires_at) {
    MemoryStore *store = static_cast<MemoryStore *>(userdata);
    std::lock_guard<std::mutex> guard(store->lock);
    ++store->puts;
    store->token = token;
    store->expires_at = expires_at;
    return 0;
}

static int store_invalidate(void *userdata, const char *token) {
    MemoryStore *store = static_cast<MemoryStore *>(userdata);
    std::lock_guard<std::mutex> guard(store->lock);
    if (store->token == token) store->token.clear();
    return 0;
}

static long tokens_issued(const Sandbox &sb) {
    std::string stats;
    if (sb.http("GET", "/_sandbox/stats", "", &stats) != 200) return -1;
    std::size_t at = stats.find("\"tokensIssued\":");
    return at == std::string::npos ? -1 : std::atol(stats.c_str() + at + 15);
}

static void test_token_store(const Sandbox &sb) {
    MemoryStore memory;
    UmsTokenStore store;
    store.userdata = &memory;
    store.get = store_get;
    store.put = store_put;
    store.invalidate = store_invalidate;
    long before = tokens_issued(sb);
    {
        ums::Client first(support::demo_config(sb, ",\"auth\":\"token\""), store);
        CHECK(contains(first.info(), "\"tokenStore\":\"callback\""), first.info());
        first.update_qrcode(support::update_request(first.new_id()));
        ums::Client second(support::demo_config(sb, ",\"auth\":\"token\""), store);
        second.update_qrcode(support::update_request(second.new_id()));
    }
    CHECK(memory.puts == 1 && memory.gets >= 2, "one put, the second client got it");
    CHECK(tokens_issued(sb) == before + 1, "one token for both clients");
}

int main() {
    Sandbox sandbox;
    struct {
        const char *name;
        void (*run)(const Sandbox &);
    } tests[] = {
        {"success", test_success},
        {"validation names the field", test_validation_names_the_field},
        {"gateway rejection says errCode and errMsg", test_gateway_rejection_says_errcode_and_errmsg},
        {"outcome unknown is not resent", test_outcome_unknown_is_not_resent},
        {"big answers are taken, not resent", test_big_answers_are_taken_not_resent},
        {"move semantics", test_move_semantics},
        {"text arguments", test_text_arguments},
        {"config and transport errors", test_config_and_transport_errors},
        {"local functions", test_local_functions},
        {"one client, many threads", test_one_client_many_threads},
        {"token store", test_token_store},
    };
    for (std::size_t i = 0; i < sizeof tests / sizeof tests[0]; ++i) {
        int before = support::failures();
        try {
            tests[i].run(sandbox);
        } catch (const std::exception &e) {
            ++support::failures();
            std::fprintf(stderr, "unexpected exception: %s\n", e.what());
        }
        std::printf("%s %s\n", support::failures() == before ? "ok  " : "FAIL", tests[i].name);
    }
    std::printf("C++ %ld: %d failure(s)\n", static_cast<long>(__cplusplus), support::failures());
    return support::failures() == 0 ? 0 : 1;
}
