/*
 * ums.hpp: a header-only C++11 interface to libums, the ChinaUMS (银联商务)
 * Open Platform client, over the C ABI of ums.h. Link with -lums.
 *
 *   ums::Client client(config_json);                    // RAII, move-only
 *   std::string answer = client.update_qrcode(request); // the gateway's answer
 *
 * What it does for the caller:
 *
 *  - Buffers: every call gets a buffer big enough for its whole document.
 *    An operation (update_qrcode .. secure_complete, call) is NEVER called
 *    twice: when its answer did not fit, libums kept it under an answerId
 *    and this header takes it with ums_take_answer and a buffer of the size
 *    libums asked for. Local functions (no network) are called again with
 *    the exact size.
 *  - Errors: every status other than UMS_OK throws a subclass of ums::Error
 *    chosen by the status (the same hierarchy as the Python, PHP and Java
 *    bindings). Each carries the status, the library's error document and
 *    its fields: kind, message, field, errCode, errMsg, httpStatus, phase,
 *    outcomeUnknown, nothingSent, stateField, state, response. what() is
 *    "<kind>: <message>" followed by what the message leaves out:
 *    (field 'x'), (errCode X: errMsg), (HTTP n), as in the other bindings.
 *    OutcomeUnknownError means the request may have been processed: never
 *    resend a money-moving call, query the bill first.
 *  - Text: request arguments are ums::Text, made from a std::string or a
 *    const char * (NUL-terminated UTF-8). A null pointer or a std::string
 *    holding a NUL byte is a ValidationError naming the argument; nothing
 *    is sent.
 *  - Ownership: a Client owns one UmsClient handle and frees it in its
 *    destructor. It can be moved, not copied; a moved-from Client holds no
 *    handle and every call on it throws ClientClosedError (a
 *    ValidationError: nothing sent), never touches freed memory.
 *  - Threads: one Client may be used by any number of threads at once (as
 *    a UmsClient), as long as no thread moves, assigns or destroys it
 *    meanwhile.
 *
 * Secrets (appKey, notification key, tokens, signatures, real-name values)
 * never appear in error documents, so never in what(). Needs C++11; no
 * dependency beyond the standard library and ums.h.
 */
#ifndef UMS_HPP
#define UMS_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ums.h"

namespace ums {

/* ------------------------------------------------------------------------
 * Statuses
 * ------------------------------------------------------------------------ */

/* The name of a status ("UMS_ERR_GATEWAY_REJECTED"), or "UMS_STATUS_<n>"
   for a value this header does not know. */
inline std::string status_name(UmsStatus status) {
    switch (status) {
    case UMS_OK: return "UMS_OK";
    case UMS_ERR_NULL_POINTER: return "UMS_ERR_NULL_POINTER";
    case UMS_ERR_INVALID_UTF8: return "UMS_ERR_INVALID_UTF8";
    case UMS_ERR_INVALID_JSON: return "UMS_ERR_INVALID_JSON";
    case UMS_ERR_BUFFER_TOO_SMALL: return "UMS_ERR_BUFFER_TOO_SMALL";
    case UMS_ERR_INVALID_ARGUMENT: return "UMS_ERR_INVALID_ARGUMENT";
    case UMS_ERR_CONFIG: return "UMS_ERR_CONFIG";
    case UMS_ERR_VALIDATION: return "UMS_ERR_VALIDATION";
    case UMS_ERR_CONNECT: return "UMS_ERR_CONNECT";
    case UMS_ERR_TLS: return "UMS_ERR_TLS";
    case UMS_ERR_GATEWAY_REJECTED: return "UMS_ERR_GATEWAY_REJECTED";
    case UMS_ERR_OUTCOME_UNKNOWN: return "UMS_ERR_OUTCOME_UNKNOWN";
    case UMS_ERR_TOKEN_REJECTED: return "UMS_ERR_TOKEN_REJECTED";
    case UMS_ERR_NOTIFY_BAD_SIGNATURE: return "UMS_ERR_NOTIFY_BAD_SIGNATURE";
    case UMS_ERR_NOTIFY_MISSING_SIGN: return "UMS_ERR_NOTIFY_MISSING_SIGN";
    case UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE: return "UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE";
    case UMS_ERR_NOTIFY_DUPLICATE_FIELD: return "UMS_ERR_NOTIFY_DUPLICATE_FIELD";
    case UMS_ERR_NOTIFY_MALFORMED: return "UMS_ERR_NOTIFY_MALFORMED";
    case UMS_ERR_PENDING: return "UMS_ERR_PENDING";
    case UMS_ERR_OPERATION_FAILED: return "UMS_ERR_OPERATION_FAILED";
    case UMS_ERR_ANSWER_GONE: return "UMS_ERR_ANSWER_GONE";
    case UMS_ERR_INTERNAL: return "UMS_ERR_INTERNAL";
    case UMS_ERR_PANIC: return "UMS_ERR_PANIC";
    default: return "UMS_STATUS_" + std::to_string(static_cast<long long>(status));
    }
}

/* libums's static description of a status. */
inline std::string status_string(UmsStatus status) { return ums_status_str(status); }

/* The loaded library's version, e.g. "0.1.0". */
inline std::string version() { return ums_version(); }

/* "SUCCESS" (handled) or "FAILED": the text to answer a notification with. */
inline std::string notify_reply(bool handled) { return ums_notify_reply(handled ? 1 : 0); }

/* ------------------------------------------------------------------------
 * A tiny reader for the top-level members of libums's JSON documents (the
 * error documents and the small results such as {"id":..}). Not a general
 * JSON library: enough to read what libums writes.
 * ------------------------------------------------------------------------ */
namespace detail {

/* One member: `text` is the decoded string for a JSON string, the raw JSON
   text otherwise (a number, true, an object ...). */
struct Member {
    bool is_string;
    std::string text;
};
typedef std::map<std::string, Member> Members;

inline void skip_space(const std::string &s, std::size_t &i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
}

inline void append_utf8(std::string &out, unsigned long cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/* Four hex digits at s[i..i+4), or -1. */
inline long hex4(const std::string &s, std::size_t i) {
    if (i + 4 > s.size()) return -1;
    long v = 0;
    for (std::size_t k = i; k < i + 4; ++k) {
        char c = s[k];
        int d = (c >= '0' && c <= '9') ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Reads the JSON string starting at s[i] == '"' into out; i ends past it. */
inline bool read_string(const std::string &s, std::size_t &i, std::string &out) {
    if (i >= s.size() || s[i] != '"') return false;
    ++i;
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') return true;
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i >= s.size()) return false;
        char e = s[i++];
        switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
            long cp = hex4(s, i);
            if (cp < 0) return false;
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
                long low = hex4(s, i + 2);
                if (low >= 0xDC00 && low < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
            }
            append_utf8(out, static_cast<unsigned long>(cp));
            break;
        }
        default: return false;
        }
    }
    return false;
}

/* Skips one JSON value starting at s[i]; i ends past it. */
inline bool skip_value(const std::string &s, std::size_t &i) {
    skip_space(s, i);
    if (i >= s.size()) return false;
    if (s[i] == '"') {
        std::string ignored;
        return read_string(s, i, ignored);
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            char c = s[i];
            if (c == '"') {
                std::string ignored;
                if (!read_string(s, i, ignored)) return false;
                continue;
            }
            ++i;
            if (c == '{' || c == '[') ++depth;
            if ((c == '}' || c == ']') && --depth == 0) return true;
        }
        return false;
    }
    std::size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' &&
           s[i] != '\r' && s[i] != '\t')
        ++i;
    return i > start;
}

/* The top-level members of a JSON object (what could be read of it: a
   malformed document gives the members before the fault). */
inline Members members(const std::string &doc) {
    Members out;
    std::size_t i = 0;
    skip_space(doc, i);
    if (i >= doc.size() || doc[i] != '{') return out;
    ++i;
    for (;;) {
        skip_space(doc, i);
        std::string key;
        if (!read_string(doc, i, key)) return out;
        skip_space(doc, i);
        if (i >= doc.size() || doc[i] != ':') return out;
        ++i;
        skip_space(doc, i);
        Member m;
        m.is_string = i < doc.size() && doc[i] == '"';
        std::size_t start = i;
        if (m.is_string) {
            if (!read_string(doc, i, m.text)) return out;
        } else {
            if (!skip_value(doc, i)) return out;
            m.text = doc.substr(start, i - start);
        }
        out[key] = m;
        skip_space(doc, i);
        if (i >= doc.size() || doc[i] != ',') return out;
        ++i;
    }
}

/* A string member of doc, "" when absent or not a string. */
inline std::string string_member(const std::string &doc, const std::string &key) {
    Members m = members(doc);
    Members::const_iterator it = m.find(key);
    return it != m.end() && it->second.is_string ? it->second.text : std::string();
}

/* A JSON string literal for `s` (for the documents this header makes). */
inline std::string quote(const std::string &s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

/* What an Error knows, parsed once from the error document. */
struct ErrorInfo {
    UmsStatus status;
    std::string document;
    std::string status_name, kind, message, field, err_code, err_msg, phase;
    std::string state_field, state, response;
    int http_status; /* 0 when absent */
    bool outcome_unknown, nothing_sent, has_settled, settled;
};

inline std::string text_of(const Members &m, const char *key) {
    Members::const_iterator it = m.find(key);
    return it != m.end() && it->second.is_string ? it->second.text : std::string();
}

inline std::string raw_of(const Members &m, const char *key) {
    Members::const_iterator it = m.find(key);
    return it != m.end() && !it->second.is_string ? it->second.text : std::string();
}

inline ErrorInfo parse_error(UmsStatus status, const std::string &document) {
    Members m = members(document);
    ErrorInfo e;
    e.status = status;
    e.document = document;
    e.status_name = text_of(m, "status");
    if (e.status_name.empty()) e.status_name = ums::status_name(status);
    e.kind = text_of(m, "kind");
    if (e.kind.empty() && e.status_name.compare(0, 8, "UMS_ERR_") == 0) {
        e.kind = e.status_name.substr(8);
        for (std::size_t i = 0; i < e.kind.size(); ++i)
            if (e.kind[i] >= 'A' && e.kind[i] <= 'Z') e.kind[i] = static_cast<char>(e.kind[i] - 'A' + 'a');
    }
    e.message = text_of(m, "message");
    if (e.message.empty() && m.empty()) e.message = "the library returned no readable error document";
    e.field = text_of(m, "field");
    e.err_code = text_of(m, "errCode");
    e.err_msg = text_of(m, "errMsg");
    e.phase = text_of(m, "phase");
    e.state_field = text_of(m, "stateField");
    e.state = text_of(m, "state");
    std::string raw_response = raw_of(m, "response");
    e.response = !raw_response.empty() && raw_response[0] == '{' ? raw_response : std::string();
    std::string http = raw_of(m, "httpStatus");
    e.http_status = http.empty() ? 0 : std::atoi(http.c_str());
    e.outcome_unknown = raw_of(m, "outcomeUnknown") == "true";
    e.nothing_sent = raw_of(m, "nothingSent") == "true";
    std::string settled = raw_of(m, "settled");
    e.has_settled = settled == "true" || settled == "false";
    e.settled = settled == "true";
    return e;
}

/* "<kind>: <message>" and, each only when set and not already in the
   message: (field 'x'), (errCode X: errMsg) or (errMsg M), (HTTP n). The
   same text as the other bindings' messages. Built from the document only,
   which holds no secrets. */
inline std::string summary(const ErrorInfo &e) {
    std::string out = e.kind.empty() ? e.status_name : e.kind;
    if (!e.message.empty()) out += ": " + e.message;
    if (!e.field.empty() && e.message.find(e.field) == std::string::npos) out += " (field '" + e.field + "')";
    if (!e.err_code.empty()) {
        out += " (errCode " + e.err_code;
        if (!e.err_msg.empty()) out += ": " + e.err_msg;
        out += ")";
    } else if (!e.err_msg.empty() && e.message.find(e.err_msg) == std::string::npos) {
        out += " (errMsg " + e.err_msg + ")";
    }
    if (e.http_status != 0 && e.message.find("HTTP") == std::string::npos)
        out += " (HTTP " + std::to_string(static_cast<long long>(e.http_status)) + ")";
    return out;
}

} // namespace detail

/* ------------------------------------------------------------------------
 * Exceptions: one class per kind of failure, chosen by the status.
 *
 *   ums::Error
 *   ├── ConfigError            UMS_ERR_CONFIG: bad configuration (field() names the key)
 *   ├── ValidationError        VALIDATION, INVALID_JSON/UTF8/ARGUMENT, NULL_POINTER: nothing sent
 *   │   └── ClientClosedError  a call on a moved-from Client
 *   ├── GatewayRejectedError   GATEWAY_REJECTED, TOKEN_REJECTED: err_code(), err_msg(), http_status()
 *   ├── PendingError           accepted, not final (refundStatus PROCESSING): query until final, never resend
 *   ├── OperationFailedError   processed and failed for good (refundStatus FAIL): nothing moved
 *   ├── OutcomeUnknownError    may have been processed: query, never resend
 *   │   └── AnswerGoneError    a kept answer expired or was taken (the request was not resent)
 *   ├── TransportError         CONNECT: no connection, nothing sent
 *   │   └── TlsError           TLS handshake failed, nothing sent
 *   ├── NotificationError      NOTIFY_*: forged, unsigned, malformed notification (reason())
 *   └── InternalError          INTERNAL, PANIC, BUFFER_TOO_SMALL left over, unknown statuses
 * ------------------------------------------------------------------------ */

class Error : public std::runtime_error {
public:
    /* An error for `status` and its error document (JSON text; may be
       empty or malformed: the getters then say what they can). */
    Error(UmsStatus status, const std::string &document)
        : Error(std::make_shared<const detail::ErrorInfo>(detail::parse_error(status, document))) {}

    /* The library status (UMS_ERR_*). */
    UmsStatus status() const noexcept { return info_->status; }
    /* Its name, e.g. "UMS_ERR_GATEWAY_REJECTED". */
    const std::string &status_name() const noexcept { return info_->status_name; }
    /* The library's short name of the failure, e.g. "gateway_rejected". */
    const std::string &kind() const noexcept { return info_->kind; }
    /* The library's explanation alone (what() adds the details). */
    const std::string &message() const noexcept { return info_->message; }
    /* The config key or request field at fault, "" when none. */
    const std::string &field() const noexcept { return info_->field; }
    /* The gateway's errCode / errMsg when it answered, "" otherwise. */
    const std::string &err_code() const noexcept { return info_->err_code; }
    const std::string &err_msg() const noexcept { return info_->err_msg; }
    /* The HTTP status of the gateway's answer, 0 when there was none. */
    int http_status() const noexcept { return info_->http_status; }
    /* "local" (nothing left the process), "connect" (nothing of the request
       written) or "sent"; "" when the document has none. */
    const std::string &phase() const noexcept { return info_->phase; }
    /* True when the request may have been processed: query, never resend. */
    bool outcome_unknown() const noexcept { return info_->outcome_unknown; }
    /* True when libums is sure nothing reached the gateway. */
    bool nothing_sent() const noexcept { return info_->nothing_sent; }
    /* Pending / operation failed: the answer's state field ("refundStatus")
       and its value ("PROCESSING"); "" otherwise. */
    const std::string &state_field() const noexcept { return info_->state_field; }
    const std::string &state() const noexcept { return info_->state; }
    /* The gateway's answer (JSON object text) when there was one, else "". */
    const std::string &response() const noexcept { return info_->response; }
    /* The whole error document (JSON text). */
    const std::string &document() const noexcept { return info_->document; }

protected:
    explicit Error(const std::shared_ptr<const detail::ErrorInfo> &info)
        : std::runtime_error(detail::summary(*info)), info_(info) {}

private:
    /* Shared, so that copying an exception never throws. */
    std::shared_ptr<const detail::ErrorInfo> info_;
};

class ConfigError : public Error {
public:
    using Error::Error;
};

class ValidationError : public Error {
public:
    using Error::Error;
};

class ClientClosedError : public ValidationError {
public:
    ClientClosedError()
        : ValidationError(UMS_ERR_NULL_POINTER,
                          "{\"status\":\"UMS_ERR_NULL_POINTER\",\"kind\":\"client_closed\","
                          "\"message\":\"the client was moved from: it holds no handle\","
                          "\"outcomeUnknown\":false,\"nothingSent\":true,\"phase\":\"local\"}") {}
};

class GatewayRejectedError : public Error {
public:
    using Error::Error;
    /* True when the token endpoint refused (UMS_ERR_TOKEN_REJECTED). */
    bool token_rejected() const noexcept { return status() == UMS_ERR_TOKEN_REJECTED; }
};

class PendingError : public Error {
public:
    using Error::Error;
};

class OperationFailedError : public Error {
public:
    using Error::Error;
};

class OutcomeUnknownError : public Error {
public:
    using Error::Error;
};

class AnswerGoneError : public OutcomeUnknownError {
public:
    using OutcomeUnknownError::OutcomeUnknownError;
};

class TransportError : public Error {
public:
    using Error::Error;
};

class TlsError : public TransportError {
public:
    using TransportError::TransportError;
};

class NotificationError : public Error {
public:
    using Error::Error;
    /* "bad_signature", "missing_sign", "unknown_sign_type",
       "duplicate_field" (field() names it) or "malformed": the same words in
       every binding. */
    std::string reason() const {
        switch (status()) {
        case UMS_ERR_NOTIFY_BAD_SIGNATURE: return "bad_signature";
        case UMS_ERR_NOTIFY_MISSING_SIGN: return "missing_sign";
        case UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE: return "unknown_sign_type";
        case UMS_ERR_NOTIFY_DUPLICATE_FIELD: return "duplicate_field";
        case UMS_ERR_NOTIFY_MALFORMED: return "malformed";
        default: return "invalid";
        }
    }
};

class InternalError : public Error {
public:
    using Error::Error;
};

/* Throws the exception of `status` with its error document. */
[[noreturn]] inline void throw_error(UmsStatus status, const std::string &document) {
    switch (status) {
    case UMS_ERR_CONFIG: throw ConfigError(status, document);
    case UMS_ERR_NULL_POINTER:
    case UMS_ERR_INVALID_UTF8:
    case UMS_ERR_INVALID_JSON:
    case UMS_ERR_INVALID_ARGUMENT:
    case UMS_ERR_VALIDATION: throw ValidationError(status, document);
    case UMS_ERR_GATEWAY_REJECTED:
    case UMS_ERR_TOKEN_REJECTED: throw GatewayRejectedError(status, document);
    case UMS_ERR_OUTCOME_UNKNOWN: throw OutcomeUnknownError(status, document);
    case UMS_ERR_ANSWER_GONE: throw AnswerGoneError(status, document);
    case UMS_ERR_PENDING: throw PendingError(status, document);
    case UMS_ERR_OPERATION_FAILED: throw OperationFailedError(status, document);
    case UMS_ERR_CONNECT: throw TransportError(status, document);
    case UMS_ERR_TLS: throw TlsError(status, document);
    case UMS_ERR_NOTIFY_BAD_SIGNATURE:
    case UMS_ERR_NOTIFY_MISSING_SIGN:
    case UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE:
    case UMS_ERR_NOTIFY_DUPLICATE_FIELD:
    case UMS_ERR_NOTIFY_MALFORMED: throw NotificationError(status, document);
    default: throw InternalError(status, document);
    }
}

/* ------------------------------------------------------------------------
 * Text arguments
 * ------------------------------------------------------------------------ */

/* A text argument: a view of a std::string or a NUL-terminated const char *
   (UTF-8), or null. It does not copy: use it only as a parameter. */
class Text {
public:
    Text() noexcept : data_(nullptr), size_(0) {}
    Text(std::nullptr_t) noexcept : data_(nullptr), size_(0) {}
    Text(const char *text) noexcept : data_(text), size_(text ? std::strlen(text) : 0) {}
    Text(const std::string &text) noexcept : data_(text.c_str()), size_(text.size()) {}

    bool is_null() const noexcept { return data_ == nullptr; }
    const char *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

    /* The NUL-terminated pointer for libums; throws ValidationError (nothing
       sent) for a null required argument or a NUL byte inside the text,
       which libums would otherwise see cut short. */
    const char *c_str(const char *name, bool optional = false) const {
        if (data_ == nullptr) {
            if (optional) return nullptr;
            local_error(UMS_ERR_NULL_POINTER, "null_pointer", std::string("argument `") + name + "` is null", name);
        }
        if (std::strlen(data_) != size_)
            local_error(UMS_ERR_INVALID_ARGUMENT, "invalid_argument",
                        std::string("argument `") + name + "` contains a NUL byte", name);
        return data_;
    }

private:
    [[noreturn]] static void local_error(UmsStatus status, const char *kind, const std::string &message,
                                         const char *field) {
        throw_error(status, "{\"status\":" + detail::quote(ums::status_name(status)) +
                                ",\"kind\":" + detail::quote(kind) + ",\"message\":" + detail::quote(message) +
                                ",\"field\":" + detail::quote(field) +
                                ",\"outcomeUnknown\":false,\"nothingSent\":true,\"phase\":\"local\"}");
    }

    const char *data_;
    std::size_t size_;
};

/* ------------------------------------------------------------------------
 * Buffer handling
 * ------------------------------------------------------------------------ */
namespace detail {

/* The first buffer of every call: most documents fit. */
const std::size_t kFirstBuffer = 64 * 1024;
/* How many times a call asks again for a bigger buffer before giving up
   (libums asks once; more would be a library bug). */
const int kMaxGrowth = 4;

/* The document libums wrote: `len` bytes when they fit in `buf`, else the
   small NUL-terminated note it wrote instead. */
inline std::string document_of(const std::vector<char> &buf, std::size_t len) {
    if (len < buf.size()) return std::string(&buf[0], len);
    return std::string(buf.begin(), std::find(buf.begin(), buf.end(), '\0'));
}

/* A local export (no network): called again with the exact size when the
   buffer was too small. Fn: UmsStatus(char *buf, size_t cap, size_t *len). */
template <class Fn>
std::string run_local(Fn fn) {
    std::vector<char> buf(kFirstBuffer, '\0');
    std::size_t len = 0;
    UmsStatus status = fn(&buf[0], buf.size(), &len);
    for (int i = 0; status == UMS_ERR_BUFFER_TOO_SMALL && len >= buf.size() && i < kMaxGrowth; ++i) {
        buf.assign(len + 1, '\0');
        status = fn(&buf[0], buf.size(), &len);
    }
    std::string doc = document_of(buf, len);
    if (status != UMS_OK) throw_error(status, doc);
    return doc;
}

/* ums_take_answer with a buffer of the size libums asks for. */
inline std::string take_kept(const UmsClient *client, const char *answer_id, std::size_t needed) {
    std::vector<char> buf(needed > UMS_MIN_OUT_CAP ? needed : UMS_MIN_OUT_CAP, '\0');
    std::size_t len = 0;
    UmsStatus status = ums_take_answer(client, answer_id, &buf[0], buf.size(), &len);
    for (int i = 0; status == UMS_ERR_BUFFER_TOO_SMALL && len >= buf.size() && i < kMaxGrowth; ++i) {
        buf.assign(len + 1, '\0');
        status = ums_take_answer(client, answer_id, &buf[0], buf.size(), &len);
    }
    std::string doc = document_of(buf, len);
    if (status != UMS_OK) throw_error(status, doc);
    return doc;
}

/* An operation export: called ONCE. When its document did not fit, libums
   kept it under an answerId and sent nothing more: take it by that id
   (calling again would send a second request). */
template <class Fn>
std::string run_operation(const UmsClient *client, std::size_t first_buffer, Fn fn) {
    std::vector<char> buf(first_buffer > UMS_MIN_OUT_CAP ? first_buffer : UMS_MIN_OUT_CAP, '\0');
    std::size_t len = 0;
    UmsStatus status = fn(&buf[0], buf.size(), &len);
    std::string doc = document_of(buf, len);
    if (status == UMS_ERR_BUFFER_TOO_SMALL) {
        std::string answer_id = string_member(doc, "answerId");
        if (!answer_id.empty()) return take_kept(client, answer_id.c_str(), len + 1);
    }
    if (status != UMS_OK) throw_error(status, doc);
    return doc;
}

} // namespace detail

/* Verifies a payment notification with a key: `body` is the raw form body
   exactly as received. Returns {"valid":true,"signType":..,"notifyId":..,
   "fields":{..}}; throws NotificationError for a forged or damaged one. */
inline std::string verify_notify(const Text &notify_key, const void *body, std::size_t body_len) {
    const char *key = notify_key.c_str("notify_key");
    const uint8_t *bytes = static_cast<const uint8_t *>(body);
    static const uint8_t empty = 0;
    if (bytes == nullptr && body_len == 0) bytes = &empty;
    return detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
        return ums_verify_notify(key, bytes, body_len, buf, cap, len);
    });
}

inline std::string verify_notify(const Text &notify_key, const std::string &body) {
    return verify_notify(notify_key, body.data(), body.size());
}

/* Installs libums's process-wide log callback (see ums_set_log_callback:
   it may run on any thread, concurrently); nullptr removes it. */
inline void set_log_callback(UmsLogCallback callback, void *userdata, int32_t max_level) {
    UmsStatus status = ums_set_log_callback(callback, userdata, max_level);
    if (status != UMS_OK)
        throw_error(status, "{\"status\":" + detail::quote(status_name(status)) +
                                ",\"message\":\"ums_set_log_callback failed\",\"phase\":\"local\"}");
}

/* ------------------------------------------------------------------------
 * The client
 * ------------------------------------------------------------------------ */

class Client {
public:
    /* Creates a client from a JSON configuration (README "Configuration");
       environment, appId and appKey are required. Throws ConfigError
       (field() names the key). */
    explicit Client(const Text &config_json) : handle_(nullptr), first_buffer_(detail::kFirstBuffer) {
        const char *config = config_json.c_str("config_json");
        info_ = detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_client_new(config, &handle_, buf, cap, len);
        });
    }

    /* A client that shares its access token through the caller's store
       (UmsTokenStore: its callbacks and userdata must outlive the client). */
    Client(const Text &config_json, const UmsTokenStore &store)
        : handle_(nullptr), first_buffer_(detail::kFirstBuffer) {
        const char *config = config_json.c_str("config_json");
        info_ = detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_client_new_with_token_store(config, &store, &handle_, buf, cap, len);
        });
    }

    ~Client() { ums_client_free(handle_); }

    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /* Takes other's handle; other is left empty (its calls throw
       ClientClosedError). */
    Client(Client &&other) noexcept
        : handle_(other.handle_), info_(std::move(other.info_)), first_buffer_(other.first_buffer_) {
        other.handle_ = nullptr;
    }

    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            ums_client_free(handle_);
            handle_ = other.handle_;
            info_ = std::move(other.info_);
            first_buffer_ = other.first_buffer_;
            other.handle_ = nullptr;
        }
        return *this;
    }

    /* False for a moved-from client. */
    bool valid() const noexcept { return handle_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    /* The C handle, for ums.h functions this header does not wrap (still
       owned by this Client); nullptr when moved from. */
    const UmsClient *handle() const noexcept { return handle_; }

    /* The library's description of the client (no secrets):
       {"status":"UMS_OK","version","appId","baseUrl","auth",...}. */
    const std::string &info() const noexcept { return info_; }

    /* The size of the first buffer of each call (default 64 KiB, at least
       UMS_MIN_OUT_CAP). Bigger answers are taken by their answerId anyway;
       set it before sharing the client between threads. */
    void set_first_buffer_size(std::size_t bytes) noexcept {
        first_buffer_ = bytes > UMS_MIN_OUT_CAP ? bytes : UMS_MIN_OUT_CAP;
    }

    /* ---- operations: the request as JSON text in, the gateway's answer
       exactly as received out ---- */

    /* bills/get-qrcode: creates a QR code. */
    std::string get_qrcode(const Text &request_json) const { return operation(ums_get_qrcode, request_json); }
    /* bills/update-qrcode: binds a new bill to an existing QR code. */
    std::string update_qrcode(const Text &request_json) const { return operation(ums_update_qrcode, request_json); }
    /* bills/close-qrcode: closes a QR code. */
    std::string close_qrcode(const Text &request_json) const { return operation(ums_close_qrcode, request_json); }
    /* bills/query: a bill's status and payment; with refundOrderId, that refund. */
    std::string query_bill(const Text &request_json) const { return operation(ums_query_bill, request_json); }
    /* bills/refund: give every refund its own refundOrderId (new_id()).
       PendingError: not final, query until final, never resend;
       OperationFailedError: refundStatus FAIL, nothing moved. */
    std::string refund(const Text &request_json) const { return operation(ums_refund, request_json); }
    /* bills/query-qrcode-info: the bill a QR code carries. */
    std::string query_qrcode_info(const Text &request_json) const {
        return operation(ums_query_qrcode_info, request_json);
    }
    /* bills/preauthed: completes a pre-authorisation. */
    std::string preauth_complete(const Text &request_json) const {
        return operation(ums_preauth_complete, request_json);
    }
    /* bills/preauth-cancel: cancels a pre-authorisation. */
    std::string preauth_cancel(const Text &request_json) const {
        return operation(ums_preauth_cancel, request_json);
    }
    /* secure-cancel: cancels a guaranteed trade. */
    std::string secure_cancel(const Text &request_json) const { return operation(ums_secure_cancel, request_json); }
    /* secure-complete: completes a guaranteed trade. */
    std::string secure_complete(const Text &request_json) const {
        return operation(ums_secure_complete, request_json);
    }

    /* Any /v1/... service path (a known bills path gets its checks). */
    std::string call(const Text &service_path, const Text &request_json) const {
        const UmsClient *c = live();
        const char *path = service_path.c_str("service_path");
        const char *request = request_json.c_str("request_json");
        return detail::run_operation(c, first_buffer_, [&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_call(c, path, request, buf, cap, len);
        });
    }

    /* What became of a money-moving call that ended OutcomeUnknownError or
       PendingError: pass its error document (e.document(), which carries
       "resolveWith"), {"operation":..,"request":{..}}, or an entry of
       journal_pending(). Read-only queries only, never a resend. Returns
       {"verdict":"applied"|"not_applied"|"pending"|"cannot_tell",
       "safeToResend":bool,...}: resend only when safeToResend is true. */
    std::string resolve(const Text &json_in) const { return operation(ums_resolve, json_in); }

    /* The open entries of the client's journal ("journal" in the config):
       {"count":N,"pending":[..]}, each entry an input of resolve().
       ConfigError when the client has no journal. Sends nothing. */
    std::string journal_pending() const {
        const UmsClient *c = live();
        return detail::run_operation(c, first_buffer_, [&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_journal_pending(c, buf, cap, len);
        });
    }

    /* Advanced: the answer libums kept under `answer_id` (this header takes
       kept answers itself). Never sends anything; AnswerGoneError when it
       expired, was evicted or was taken: query before deciding. */
    std::string take_answer(const Text &answer_id) const {
        const UmsClient *c = live();
        return detail::take_kept(c, answer_id.c_str("answer_id"), first_buffer_);
    }

    /* ---- no network ---- */

    /* The exact body and Authorization header a call would send, without
       sending: {"url","path","body","authorization"}. timestamp
       (yyyyMMddHHmmss) and nonce: null for now and a random nonce. */
    std::string prepare(const Text &operation_name, const Text &request_json, const Text &timestamp = Text(),
                        const Text &nonce = Text()) const {
        const UmsClient *c = live();
        const char *op = operation_name.c_str("operation");
        const char *request = request_json.c_str("request_json");
        const char *ts = timestamp.c_str("timestamp", true);
        const char *n = nonce.c_str("nonce", true);
        return detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_prepare(c, op, request, ts, n, buf, cap, len);
        });
    }

    /* A new 28-character identifier (billNo, merOrderId, refundOrderId). */
    std::string new_id() const {
        const UmsClient *c = live();
        std::string doc = detail::run_local(
            [&](char *buf, std::size_t cap, std::size_t *len) { return ums_new_id(c, buf, cap, len); });
        std::string id = detail::string_member(doc, "id");
        if (id.empty()) throw InternalError(UMS_ERR_INTERNAL, "{\"message\":\"ums_new_id gave no id\"}");
        return id;
    }

    /* {"authorization":"OPEN-BODY-SIG ...","timestamp","nonce"} for `body`
       (send exactly these bytes) with your own HTTP stack. */
    std::string sign_body(const std::string &body, const Text &timestamp = Text(), const Text &nonce = Text()) const {
        const UmsClient *c = live();
        const char *ts = timestamp.c_str("timestamp", true);
        const char *n = nonce.c_str("nonce", true);
        const uint8_t *bytes = reinterpret_cast<const uint8_t *>(body.data());
        return detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_sign_body(c, bytes, body.size(), ts, n, buf, cap, len);
        });
    }

    /* The signed token request body (POST /v1/token/access). */
    std::string token_request(const Text &timestamp = Text(), const Text &nonce = Text()) const {
        const UmsClient *c = live();
        const char *ts = timestamp.c_str("timestamp", true);
        const char *n = nonce.c_str("nonce", true);
        return detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_token_request(c, ts, n, buf, cap, len);
        });
    }

    /* Verifies a notification (the raw body as received) with the
       configuration's notifyKey and notifySignTypes: {"valid":true,...};
       NotificationError for a forged or damaged one, ConfigError when no
       notifyKey is configured. */
    std::string verify_notify(const std::string &body) const {
        const UmsClient *c = live();
        const uint8_t *bytes = reinterpret_cast<const uint8_t *>(body.data());
        return detail::run_local([&](char *buf, std::size_t cap, std::size_t *len) {
            return ums_client_verify_notify(c, bytes, body.size(), buf, cap, len);
        });
    }

    /* ---- notification claims (several receivers) ---- */

    /* Claims a verified notification: true = process it (then answer
       SUCCESS, or release_notification() and answer FAILED); false =
       handled or being handled elsewhere: answer SUCCESS. Called once, with
       a buffer always big enough: a claim is never made twice. */
    bool claim_notification(const Text &notify_id) const {
        std::string doc = claim_call(ums_notify_claim, notify_id);
        return detail::members(doc)["claimed"].text == "true";
    }

    /* Releases a claim after processing failed (the next resend is processed). */
    void release_notification(const Text &notify_id) const { claim_call(ums_notify_release, notify_id); }

private:
    typedef UmsStatus (*OperationFn)(const UmsClient *, const char *, char *, std::size_t, std::size_t *);

    /* The handle, or ClientClosedError for a moved-from client. */
    const UmsClient *live() const {
        if (handle_ == nullptr) throw ClientClosedError();
        return handle_;
    }

    std::string operation(OperationFn fn, const Text &request_json) const {
        const UmsClient *c = live();
        const char *request = request_json.c_str("request_json");
        return detail::run_operation(c, first_buffer_, [&](char *buf, std::size_t cap, std::size_t *len) {
            return fn(c, request, buf, cap, len);
        });
    }

    std::string claim_call(OperationFn fn, const Text &notify_id) const {
        const UmsClient *c = live();
        const char *id = notify_id.c_str("notify_id");
        std::vector<char> buf(detail::kFirstBuffer, '\0');
        std::size_t len = 0;
        UmsStatus status = fn(c, id, &buf[0], buf.size(), &len);
        std::string doc = detail::document_of(buf, len);
        if (status != UMS_OK) throw_error(status, doc);
        return doc;
    }

    UmsClient *handle_;
    std::string info_;
    std::size_t first_buffer_;
};

} // namespace ums

#endif /* UMS_HPP */
