/*
 * ums.h: the C ABI of libums, the ChinaUMS (银联商务) Open Platform client.
 *
 * API conventions (every function follows them):
 *
 *  - Status: every fallible function returns a UmsStatus. UMS_OK is 0; each
 *    other value names one class of failure and is never reused. Use
 *    ums_status_str() for a static description.
 *  - Results: functions write a NUL-terminated UTF-8 JSON document into the
 *    caller's buffer (out_buf, out_cap) and its length, without the NUL, into
 *    *out_len. On UMS_OK it is the result (for gateway calls, the gateway's
 *    answer exactly as received); otherwise it is an error document:
 *      {"status":"UMS_ERR_...","kind":..,"message":..,"field":..,
 *       "errCode":..,"errMsg":..,"httpStatus":..,"outcomeUnknown":..,
 *       "nothingSent":..,"phase":"local"|"connect"|"sent","response":{..}}
 *    ("phase": where the call was when it ended: "local" = nothing left the
 *    process, "connect" = setting up the connection, nothing of the request
 *    written, "sent" = the request was handed to the connection.)
 *    No thread-local "last error": everything is in the document.
 *  - Small buffers, local functions (no network): when out_cap is too small
 *    the function returns UMS_ERR_BUFFER_TOO_SMALL and *out_len is the
 *    document's length: call again with out_cap >= *out_len + 1.
 *  - Small buffers, notification claims (ums_notify_claim,
 *    ums_notify_release): out_cap must be at least UMS_MIN_OUT_CAP (256);
 *    below it nothing is claimed or released (UMS_ERR_BUFFER_TOO_SMALL,
 *    *out_len = 255), since claiming twice would answer "already claimed".
 *  - Small buffers, operations (ums_update_qrcode .. ums_secure_complete,
 *    ums_call): out_cap must be at least UMS_MIN_OUT_CAP (256); below it
 *    nothing is sent (UMS_ERR_BUFFER_TOO_SMALL, *out_len = 255,
 *    {"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":256,"nothingSent":true}).
 *    When the document of a call (answer or error document) does not fit,
 *    the request WAS sent and its document is kept in the client under a new
 *    random answer id: UMS_ERR_BUFFER_TOO_SMALL, *out_len = the document's
 *    length, and the buffer holds
 *      {"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":N,
 *       "answerId":"<32 hex>","answerStatus":"UMS_OK"}
 *    Fetch it with ums_take_answer(client, answerId, buf, N, &len), which
 *    returns the kept status. Calling the operation again sends a NEW
 *    request: no call ever receives another call's answer. A kept answer
 *    lives exactly 120 s from when it was kept; a client keeps at most 16
 *    (the oldest is evicted), so it holds at most 16 documents of at most
 *    about maxResponseBytes plus the error document each. A missing answer
 *    gives UMS_ERR_ANSWER_GONE: query before deciding.
 *  - NULL: every pointer is checked. out_len must not be NULL; out_buf may be
 *    NULL only when out_cap is 0. Other NULLs give UMS_ERR_NULL_POINTER.
 *  - Text: arguments are NUL-terminated UTF-8 (UMS_ERR_INVALID_UTF8
 *    otherwise); JSON arguments must be JSON objects (UMS_ERR_INVALID_JSON).
 *  - Money safety: UMS_ERR_OUTCOME_UNKNOWN means the request may have been
 *    processed; never resend a money-moving call then, query the bill first.
 *    The library itself never resends one.
 *  - Ownership: UmsClient handles come from ums_client_new and go back to
 *    ums_client_free exactly once; ums_client_free(NULL) is a no-op. Strings
 *    returned as const char * are static: never free them. The library keeps
 *    no pointer the caller passed in once the call returns, except the log
 *    callback and its userdata (see UmsLogCallback) and a token store's
 *    callbacks and userdata (see UmsTokenStore), kept until
 *    ums_client_free of that client returns.
 *  - Threads: a UmsClient may be used from any number of threads at once.
 *  - Panics: every function catches panics and returns UMS_ERR_PANIC; the
 *    process is never aborted by the library. The document's "phase" says
 *    whether the request had been sent ("sent": outcome unknown, query
 *    before deciding) or not ("local": nothing sent).
 *  - Secrets: the appKey, signatures, tokens, the notification key and the
 *    real-name fields never appear in error documents.
 *  - Unloading: the library is linked with -z nodelete and must not be
 *    unloaded (dlclose is a no-op for it).
 *
 * Types (ownership and threads):
 *
 *  - UmsClient: an opaque handle to one configured client. ums_client_new
 *    creates it (on UMS_OK only; on any failure *out_client is NULL and
 *    nothing needs freeing) and ums_client_free frees it, exactly once. A
 *    handle is immutable after creation and may be used by any number of
 *    threads at the same time with no locking by the caller (its token
 *    cache, connection pool and kept answers are synchronised inside). The
 *    caller must make sure no other thread is in a call with the handle when
 *    it frees it, and must not use it after. Kept answers (ums_take_answer)
 *    belong to the handle and are freed with it.
 *  - UmsStatus: a plain int32_t, returned by value: UMS_OK (0) or one of the
 *    UMS_ERR_* values below. A value never changes meaning; later versions
 *    may add values, so treat any value you do not know as an error.
 *    ums_status_str() describes every value, known or not, with a static
 *    string.
 *  - UmsTokenStore: userdata and three callbacks (get, put, invalidate)
 *    through which ums_client_new_with_token_store's client shares its
 *    access token with the other processes of a fleet. The struct is
 *    copied; userdata must stay valid until ums_client_free of that client
 *    returns. The callbacks are called from any thread using the client,
 *    concurrently, with no library lock held; they must not call exports of
 *    that client. A failing callback (negative return) never fails a call:
 *    the client works alone for a few seconds, with one warning.
 *  - UmsLogCallback: void (*)(void *userdata, int32_t level, const char
 *    *message), installed process-wide by ums_set_log_callback (one at a
 *    time: installing replaces the previous one, NULL removes it). It is
 *    called from any thread (the caller's, or one the library started),
 *    possibly from several threads at once, so it must be thread-safe. The
 *    library holds none of its locks while it runs, so it may call any
 *    export, ums_set_log_callback included. `level` is one of UMS_LOG_*;
 *    `message` is NUL-terminated UTF-8, owned by the library and valid only
 *    during the call (copy it to keep it). `userdata` is passed back exactly
 *    as given and never dereferenced by the library; it must stay valid as
 *    long as the callback can run: until ums_set_log_callback has replaced
 *    or removed it AND every library call that was running on another thread
 *    at that moment has returned (such a call may deliver one last message
 *    to the callback it started with).
 *
 * Versions and linking: UMS_VERSION_MAJOR/MINOR/PATCH are this header's
 * version (the workspace version in Cargo.toml); ums_version() is the loaded
 * library's. The SONAME changes with every incompatible release:
 * libums.so.0.MINOR for 0.x (libums.so.0.1 for 0.1.x), libums.so.MAJOR from
 * 1.0 on. Link with -lums (libums.so, a link to the real file
 * libums.so.MAJOR.MINOR.PATCH) or statically with libums.a.
 *
 * This header is plain C89 (it compiles with -std=c89 -pedantic-errors) and
 * C++ (its declarations are extern "C" there). It includes only <stddef.h>
 * and <stdint.h>.
 */

#ifndef UMS_H
#define UMS_H

/* Generated by cbindgen 0.29.4 from src/. Do not edit: run `make header`. */

#include <stddef.h>
#include <stdint.h>

/*
 * The version of this header, from the workspace version in Cargo.toml
 * (the loaded library's is ums_version()).
 */
#define UMS_VERSION_MAJOR 0
#define UMS_VERSION_MINOR 1
#define UMS_VERSION_PATCH 0

#ifdef __cplusplus
extern "C" {
#endif

/*
 The smallest `out_cap` an operation export (`ums_update_qrcode` ...
 `ums_secure_complete`, `ums_call`) accepts. Below it nothing is sent and
 nothing is parsed beyond the NULL checks: the status is
 `UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` is `UMS_MIN_OUT_CAP - 1` and the
 buffer receives (when it fits)
 `{"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":256,"nothingSent":true}`.
 With at least this much room, the small document that names a kept answer
 (`answerId`) always fits.
 */
#define UMS_MIN_OUT_CAP 256

/*
 Log levels for `ums_set_log_callback`.
 */
#define UMS_LOG_ERROR 1

/*
 A warning: a rejection, a refused token.
 */
#define UMS_LOG_WARN 2

/*
 One line per call: path, outcome, errCode, duration.
 */
#define UMS_LOG_INFO 3

/*
 Also each request's path and size before it is sent.
 */
#define UMS_LOG_DEBUG 4

/*
 The largest token a `UmsTokenStore` `get` callback may return, in bytes:
 the size of the buffer the library passes it.
 */
#define UMS_TOKEN_MAX_LEN 1024

/*
 An opaque handle to one configured client. `ums_client_new` creates it
 (on `UMS_OK` only; on failure `*out_client` is NULL and nothing needs
 freeing); `ums_client_free` frees it, exactly once (`ums_client_free(NULL)`
 is a no-op). Immutable after creation: any number of threads may use one
 handle at the same time without locking (its token cache, connection pool
 and kept answers are synchronised inside). No thread may be in a call with
 the handle when it is freed, and it must not be used after. It keeps at
 most 16 answers that did not fit their caller's buffer (`ums_take_answer`),
 each for 120 s, freed with it: at most 16 times the largest document,
 about `maxResponseBytes` plus the error document around it.
 */
typedef struct UmsClient UmsClient;

/*
 The result of every fallible export: a plain `int32_t` returned by value,
 `UMS_OK` (0) or one of the `UMS_ERR_*` values. A value never changes
 meaning; later versions may add values, so treat unknown values as
 errors. `ums_status_str` describes any value, known or not, with a static
 string.
 */
typedef int32_t UmsStatus;

/*
 `get` of a `UmsTokenStore`: copies the shared token's bytes (no NUL
 needed) into `buf` (`cap` = `UMS_TOKEN_MAX_LEN` bytes), its length into
 `*len` and the instant after which it must not be used (Unix
 milliseconds, as given to `put`) into `*expires_at_unix_ms`. Returns 0
 when a token was found, 1 when there is none, a negative value on
 failure.
 */
typedef int (*UmsTokenStoreGet)(void *userdata,
                                char *buf,
                                size_t cap,
                                size_t *len,
                                int64_t *expires_at_unix_ms);

/*
 `put` of a `UmsTokenStore`: stores `token` (NUL-terminated, printable
 ASCII, valid only during the call) for every process, replacing any
 other, until `expires_at_unix_ms` (Unix milliseconds; it already
 includes the library's safety margin before the gateway's expiry, so use
 it as the entry's expiry). Returns 0 (or any non-negative value) on
 success, a negative value on failure.
 */
typedef int (*UmsTokenStorePut)(void *userdata,
                                const char *token,
                                int64_t expires_at_unix_ms);

/*
 `invalidate` of a `UmsTokenStore`: compare-and-delete. Deletes the
 stored token ONLY IF it is still `token` (the one the gateway refused;
 NUL-terminated, valid only during the call); a different token another
 process stored meanwhile must stay, or a late refusal would evict a
 fresh token and make the fleet fetch again. Do it atomically where the
 cache allows (a Lua script, a compare-and-swap). Returns 0 (or any
 non-negative value) whether or not it deleted, a negative value on
 failure.
 */
typedef int (*UmsTokenStoreInvalidate)(void *userdata,
                                       const char *token);

/*
 A shared token store of the integrator's (memcached, a database, an
 APCu segment shared by php-fpm workers ...) for
 `ums_client_new_with_token_store`: `userdata` and three callbacks, none
 of them NULL. One store serves one appId.

 The library copies the struct: it need not outlive the call. `userdata`
 is passed back as given, never dereferenced, and must stay valid, with
 what the callbacks use, until `ums_client_free` of that client has
 returned.

 The callbacks are called from any thread that uses the client, possibly
 from several at once: they must be thread-safe. They run while a call
 waits for its token, so they should answer within a fraction of a
 second; they must not call exports of the same client (the call waits
 for the token they are fetching), nor free it. No library lock is held
 while they run.

 A callback that fails (a negative return, a `get` whose token is empty,
 longer than `cap`, not printable ASCII, or of a non-positive expiry)
 never fails a payment call: the client works alone (its own token
 cache) and tries the store again after a few seconds, with one warning
 through the log callback.

 There is no fleet-wide lock through callbacks: processes that find no
 token at the same moment may each fetch one (each then stores its own;
 all stay valid as long as fewer than ten appear at once). Redis
 (`"tokenStore":"redis://..."`) has the lock.
 */
typedef struct UmsTokenStore {
  void *userdata;
  UmsTokenStoreGet get;
  UmsTokenStorePut put;
  UmsTokenStoreInvalidate invalidate;
} UmsTokenStore;

/*
 A log callback. `level` is one of `UMS_LOG_*`; `message` is NUL-terminated
 UTF-8, owned by the library and valid only during the call. Called from
 any thread (the caller's or one the library started), possibly from
 several at once: it must be thread-safe. No library lock is held while it
 runs, so it may call any export, `ums_set_log_callback` included.
 `userdata` is passed back as given and never dereferenced by the library.
 */
typedef void (*UmsLogCallback)(void *userdata,
                               int32_t level,
                               const char *message);

/*
 Success.
 */
#define UMS_OK 0

/*
 A required pointer argument was NULL.
 */
#define UMS_ERR_NULL_POINTER 1

/*
 A text argument was not valid UTF-8.
 */
#define UMS_ERR_INVALID_UTF8 2

/*
 A JSON argument was not valid JSON, or not a JSON object.
 */
#define UMS_ERR_INVALID_JSON 3

/*
 `out_cap` is too small: `*out_len + 1` bytes are needed.

 Local exports (no network): call again with a bigger buffer.

 Operation exports (`ums_update_qrcode` ... `ums_secure_complete`,
 `ums_call`), two cases, told apart by the small document in the buffer:
 - `"nothingSent":true`: `out_cap` was below `UMS_MIN_OUT_CAP`; nothing
   was sent (`*out_len` is `UMS_MIN_OUT_CAP - 1`). Call again with at least
   `UMS_MIN_OUT_CAP` bytes.
 - `"answerId":"..."`: THE REQUEST WAS SENT and its document (of status
   `answerStatus`) is kept for 120 s: fetch it with
   `ums_take_answer(client, answerId, ...)` and a buffer of `needed`
   bytes. DO NOT call the operation again to get it: that sends a NEW
   request (a second QR code, a second refund attempt), and no call ever
   receives another call's answer.
 */
#define UMS_ERR_BUFFER_TOO_SMALL 4

/*
 An argument is invalid (service path, size, timestamp or nonce format).
 */
#define UMS_ERR_INVALID_ARGUMENT 5

/*
 The client configuration is invalid; the document's `field` names the key.
 */
#define UMS_ERR_CONFIG 6

/*
 A request field breaks a rule; the document's `field` names it. Nothing was sent.
 */
#define UMS_ERR_VALIDATION 7

/*
 No connection to the gateway could be made. Nothing was sent.
 */
#define UMS_ERR_CONNECT 8

/*
 The TLS handshake failed (unknown CA, expired certificate, wrong host). Nothing was sent.
 */
#define UMS_ERR_TLS 9

/*
 The gateway refused the request; `errCode`/`errMsg` are in the document.
 */
#define UMS_ERR_GATEWAY_REJECTED 10

/*
 The request may have reached the gateway and its effect is unknown: do not
 resend a money-moving call, query the bill first.
 */
#define UMS_ERR_OUTCOME_UNKNOWN 11

/*
 The token endpoint refused to issue an access token. The business request was not sent.
 */
#define UMS_ERR_TOKEN_REJECTED 12

/*
 A notification's signature does not match: do not trust it.
 */
#define UMS_ERR_NOTIFY_BAD_SIGNATURE 13

/*
 A notification has no `sign` field.
 */
#define UMS_ERR_NOTIFY_MISSING_SIGN 14

/*
 A notification's `signType` is neither MD5 nor SHA256, or is MD5 and the
 client's `notifySignTypes` accepts only SHA256.
 */
#define UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE 15

/*
 A notification repeats a field name.
 */
#define UMS_ERR_NOTIFY_DUPLICATE_FIELD 16

/*
 A notification body is not a well-formed form.
 */
#define UMS_ERR_NOTIFY_MALFORMED 17

/*
 The gateway accepted the request but its effect is not final yet
 (`refundStatus` PROCESSING or UNKNOWN, or another non-final state; the
 document's `stateField`/`state` say which): no money has settled for
 sure. Query (`ums_query_bill`) until the state is final; never resend.
 */
#define UMS_ERR_PENDING 18

/*
 The gateway processed the request and reports that it failed (for
 example `refundStatus` FAIL): final, nothing moved. A new request (with a
 new identifier) may be sent.
 */
#define UMS_ERR_OPERATION_FAILED 19

/*
 `ums_take_answer`: no kept answer has this id. It expired (120 s after it
 was kept), was evicted (16 newer answers were kept by this client) or was
 already taken. The request it answered was NOT sent again: its outcome is
 unknown to this caller (`"outcomeUnknown":true`), so query before deciding.
 */
#define UMS_ERR_ANSWER_GONE 20

/*
 A bug in the library (never a caller error).
 */
#define UMS_ERR_INTERNAL 98

/*
 The library panicked; the call was abandoned and the process is intact.
 */
#define UMS_ERR_PANIC 99

/*
 The library version as a static NUL-terminated string, e.g. "0.1.0".
 Never NULL; the caller must not free it.
 */
const char *ums_version(void);

/*
 A static description of `status`. Never NULL, even for an unknown value;
 the caller must not free it.
 */
const char *ums_status_str(UmsStatus status);

/*
 Creates a client from a JSON configuration (see the README's
 "Configuration"). On success `*out_client` receives the handle and the
 buffer a document describing it (no secrets:
 `{"status":"UMS_OK","version":..,"appId":..,"baseUrl":..,"auth":..,
 "tokenStore":"memory"|"redis://host:port/db","claimStore":..}`); on
 failure `*out_client` is set to NULL and the buffer receives the error
 document, whose `field` names the bad key. No Redis server is contacted
 here: one that is down does not stop a client from being created.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_client_new(const char *config_json,
                         struct UmsClient **out_client,
                         char *out_buf,
                         size_t out_cap,
                         size_t *out_len);

/*
 Creates a client (as `ums_client_new`) that shares its access token
 (token mode) through the integrator's own store: see `UmsTokenStore` for
 the callbacks, their thread rules and what `userdata` must outlive. The
 config's `tokenStore` must then be absent or `"memory"`
 (`UMS_ERR_CONFIG` otherwise). `store` is copied; NULL is
 `UMS_ERR_NULL_POINTER`, a NULL callback `UMS_ERR_INVALID_ARGUMENT`. The
 document says `"tokenStore":"callback"`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble;
 the callbacks and `userdata` as described at `UmsTokenStore`.
 */
UmsStatus ums_client_new_with_token_store(const char *config_json,
                                          const struct UmsTokenStore *store,
                                          struct UmsClient **out_client,
                                          char *out_buf,
                                          size_t out_cap,
                                          size_t *out_len);

/*
 Frees a client. `ums_client_free(NULL)` does nothing. The handle must not
 be used after, nor freed twice, nor freed while another thread uses it.

 # Safety
 `client` must be NULL or a handle from `ums_client_new`.
 */
void ums_client_free(struct UmsClient *client);

/*
 Sends `bills/update-qrcode`. `request_json` is the request object as on
 the ChinaUMS page; `requestTimestamp`, `mid`, `tid` and `instMid` are
 filled from the clock and the config only when absent. On `UMS_OK` the
 buffer holds the gateway's answer exactly as received.

 Buffers (every operation export): `out_cap` must be at least
 `UMS_MIN_OUT_CAP` (256), else nothing is sent (`UMS_ERR_BUFFER_TOO_SMALL`,
 `*out_len` = 255, `"nothingSent":true`). When the document (answer or
 error document, whatever the status) does not fit, it is kept in the
 client for 120 s under a new answer id: the status is
 `UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` the document's length, and the
 buffer holds
 `{"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":N,"answerId":"<32 hex>","answerStatus":"UMS_OK"}`
 (`answerStatus`: the status the document came with). Fetch it with
 `ums_take_answer(client, answerId, ...)` and a buffer of `needed` bytes.
 Calling the operation again sends a NEW request.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_update_qrcode(const struct UmsClient *client,
                            const char *request_json,
                            char *out_buf,
                            size_t out_cap,
                            size_t *out_len);

/*
 Calls any `/v1/...` service path with the client's signing, transport and
 result handling. A path of a known bills operation gets that operation's
 defaults and checks; any other path is sent as given. An operation name
 (`"refund"`) is not a path: `UMS_ERR_INVALID_ARGUMENT`; use the named
 exports or `ums_prepare`. Same buffer rules
 as `ums_update_qrcode` (`UMS_MIN_OUT_CAP`, kept answers).

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_call(const struct UmsClient *client,
                   const char *service_path,
                   const char *request_json,
                   char *out_buf,
                   size_t out_cap,
                   size_t *out_len);

/*
 Hands over an answer kept after an operation returned
 `UMS_ERR_BUFFER_TOO_SMALL` with an `answerId`. Never sends anything.

 - Kept and fits: writes the document, returns the status it was kept with
   (`UMS_OK`, `UMS_ERR_OUTCOME_UNKNOWN`, ...) and forgets it.
 - Kept but still does not fit: `UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` the
   document's length, the same small document (same `answerId`); it stays
   kept, its expiry unchanged.
 - Otherwise (expired 120 s after it was kept, evicted because 16 newer
   answers were kept, already taken, or never issued): `UMS_ERR_ANSWER_GONE`
   with an error document (`"outcomeUnknown":true`, `"phase":"sent"`): the
   request was not sent again, so query before deciding.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_take_answer(const struct UmsClient *client,
                          const char *answer_id,
                          char *out_buf,
                          size_t out_cap,
                          size_t *out_len);

/*
 `bills/get-qrcode`: creates a QR code (one-off with `billNo`, `billDate`, `totalAmount`; fixed with or without an amount).
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_get_qrcode(const struct UmsClient *client,
                         const char *request_json,
                         char *out_buf,
                         size_t out_cap,
                         size_t *out_len);

/*
 `bills/close-qrcode`: closes a QR code (`qrCodeId`; `attachRefund` refunds a paid one-off code).
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_close_qrcode(const struct UmsClient *client,
                           const char *request_json,
                           char *out_buf,
                           size_t out_cap,
                           size_t *out_len);

/*
 `bills/query`: a bill's status and payment (`billNo`, `billDate`); with `refundOrderId`, that refund's record.
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_query_bill(const struct UmsClient *client,
                         const char *request_json,
                         char *out_buf,
                         size_t out_cap,
                         size_t *out_len);

/*
 `bills/refund`: refunds `refundAmount` fen of a paid bill. Give every refund its own `refundOrderId` (see `ums_new_id`): a repeated `refundOrderId` answers the first refund's result instead of refunding twice.
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_refund(const struct UmsClient *client,
                     const char *request_json,
                     char *out_buf,
                     size_t out_cap,
                     size_t *out_len);

/*
 `bills/query-qrcode-info`: the bill a QR code carries (`qrCodeId`, `systemId`; no `tid`).
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_query_qrcode_info(const struct UmsClient *client,
                                const char *request_json,
                                char *out_buf,
                                size_t out_cap,
                                size_t *out_len);

/*
 `bills/preauthed`: completes a pre-authorisation.
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_preauth_complete(const struct UmsClient *client,
                               const char *request_json,
                               char *out_buf,
                               size_t out_cap,
                               size_t *out_len);

/*
 `bills/preauth-cancel`: cancels a pre-authorisation.
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_preauth_cancel(const struct UmsClient *client,
                             const char *request_json,
                             char *out_buf,
                             size_t out_cap,
                             size_t *out_len);

/*
 `secure-cancel`: cancels a guaranteed trade (`merOrderId`).
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_secure_cancel(const struct UmsClient *client,
                            const char *request_json,
                            char *out_buf,
                            size_t out_cap,
                            size_t *out_len);

/*
 `secure-complete`: completes a guaranteed trade (`merOrderId`, `completedAmount`).
 Same conventions as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_secure_complete(const struct UmsClient *client,
                              const char *request_json,
                              char *out_buf,
                              size_t out_cap,
                              size_t *out_len);

/*
 Finds out what became of a money-moving call whose outcome is unknown
 (or not final), with read-only queries only: it never sends the request
 again. `json_in` is one of:
 - the error document the call returned (its `resolveWith` member);
 - `{"operation":"refund","request":{...}}`: the request as sent (its
   `requestTimestamp` is needed), optionally with `"bill":{"billNo",
   "billDate"}` (the bill of a guaranteed trade, for `secure-*`);
 - an entry of `ums_journal_pending`.

 On `UMS_OK` the buffer holds
 `{"verdict":"applied"|"not_applied"|"pending"|"cannot_tell",
 "safeToResend":bool,"operation":..,"message":..,"evidence":{"query":..,
 "answer":{..}},"retryAfter":"yyyy-MM-dd HH:mm:ss","request":{..},
 "journalId":N,"journalClosed":bool}`: applied (do not resend), not
 applied (safe to send again: `safeToResend` is true only then), pending
 (ask again after `retryAfter`), cannot tell (the protocol offers no
 proof: see the README's resolve table). A final verdict closes the call's
 journal entry. When a confirming query fails, its status and error
 document are returned (nothing was resent; call `ums_resolve` again).
 Same buffer rules as `ums_update_qrcode` (`UMS_MIN_OUT_CAP`, kept
 answers); calling it again is safe.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_resolve(const struct UmsClient *client,
                      const char *json_in,
                      char *out_buf,
                      size_t out_cap,
                      size_t *out_len);

/*
 Lists the open entries of the client's journal (`"journal"` in the
 config): money-moving calls recorded before they were sent whose outcome
 is not known yet (outcome unknown, pending, or the process died). The
 buffer receives `{"count":N,"pending":[{"journalId","operation",
 "request":{..},"startedAtUnixMs","pid","lastVerdict"?},...]}`, oldest
 first (at most 10000); each entry is a valid input of `ums_resolve`.
 `UMS_ERR_CONFIG` (`"field":"journal"`) when the client has no journal.
 Sends nothing. Same buffer rules as `ums_update_qrcode`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_journal_pending(const struct UmsClient *client,
                              char *out_buf,
                              size_t out_cap,
                              size_t *out_len);

/*
 Prepares a request without sending it: `operation` is an operation name
 (`"update-qrcode"`, `"refund"`, ...) or a `/v1/...` service path. Defaults,
 normalisation and validation are applied as for a real call;
 `requestTimestamp` defaults to `timestamp`. The buffer receives
 `{"url":..,"path":..,"body":"<exact JSON text>","authorization":"OPEN-BODY-SIG ..."}`.
 With a fixed `timestamp` (`yyyyMMddHHmmss`) and `nonce` the result is the
 same in every language; NULL means now and a random nonce.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_prepare(const struct UmsClient *client,
                      const char *operation,
                      const char *request_json,
                      const char *timestamp,
                      const char *nonce,
                      char *out_buf,
                      size_t out_cap,
                      size_t *out_len);

/*
 Makes a new merchant identifier for `billNo`, `merOrderId`,
 `refundOrderId` or a self-generated `qrCodeId`: the configured `msgSrcId`,
 `yyyyMMddHHmmssSSS` (Beijing time) and 7 digits, 28 characters, unique
 across threads. The buffer receives `{"id":"3194..."}`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_new_id(const struct UmsClient *client,
                     char *out_buf,
                     size_t out_cap,
                     size_t *out_len);

/*
 The text to answer a notification with: "SUCCESS" when `handled` is
 non-zero (verified and processed; ChinaUMS stops retrying), "FAILED"
 otherwise (ChinaUMS retries). Static; never NULL.
 */
const char *ums_notify_reply(int32_t handled);

/*
 Claims a payment notification for processing, across every receiver
 sharing the client's `claimStore` (Redis; or this process's memory).
 Call it after the notification verified, with its `notifyId`. The buffer
 receives `{"claimed":true,"store":"redis"}` the first time: process the
 notification, then answer SUCCESS, or call `ums_notify_release` and
 answer FAILED if processing failed. `{"claimed":false,...}`: another
 receiver (or an earlier delivery) handled or is handling it: answer
 SUCCESS without processing. A claim lives 25 h (ChinaUMS resends for
 24 h). When Redis fails, this process's own claims answer
 (`"store":"memory"`): a notification is then at worst processed twice,
 never lost, so keep recording the notifyId with your state change.

 `out_cap` must be at least `UMS_MIN_OUT_CAP` (256): below it nothing is
 claimed (`UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` = 255), so a claim is
 never made for a caller who cannot read its answer. `notify_id`: 1 to
 128 printable ASCII characters without spaces (`UMS_ERR_INVALID_ARGUMENT`
 otherwise).

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_notify_claim(const struct UmsClient *client,
                           const char *notify_id,
                           char *out_buf,
                           size_t out_cap,
                           size_t *out_len);

/*
 Releases the claim on a notification (after `ums_notify_claim` said
 claimed and processing failed), so that ChinaUMS's next resend is
 processed: by this receiver or another one. The buffer receives
 `{"released":true,"store":"redis"}`; `"store":"memory"` when Redis could
 not be reached: the release is then sent when it answers again (if this
 process ends first, the claim expires after 25 h). Same buffer and
 `notify_id` rules as `ums_notify_claim`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_notify_release(const struct UmsClient *client,
                             const char *notify_id,
                             char *out_buf,
                             size_t out_cap,
                             size_t *out_len);

/*
 Verifies a payment notification: `body` is the raw form body exactly as
 received (not re-encoded), `notify_key` the communication key. On `UMS_OK`
 the buffer holds `{"valid":true,"signType":..,"notifyId":..,"fields":{..}}`
 with JSON-text fields such as `billPayment` parsed. A forged or damaged
 notification gets its own status; answer ChinaUMS `SUCCESS` only after
 `UMS_OK`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble;
 `body` must point to `body_len` bytes.
 */
UmsStatus ums_verify_notify(const char *notify_key,
                            const uint8_t *body,
                            size_t body_len,
                            char *out_buf,
                            size_t out_cap,
                            size_t *out_len);

/*
 Verifies a payment notification with the client's configured `notifyKey`
 and its `notifySignTypes` policy (`["SHA256"]` refuses MD5-signed ones
 with `UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE`). `body` is the raw form body
 exactly as received. Same document and statuses as `ums_verify_notify`;
 `UMS_ERR_CONFIG` (`"field":"notifyKey"`) when the client has no key.
 Never sends anything.

 # Safety
 Pointers must be NULL or valid as described in the header preamble;
 `body` must point to `body_len` bytes.
 */
UmsStatus ums_client_verify_notify(const struct UmsClient *client,
                                   const uint8_t *body,
                                   size_t body_len,
                                   char *out_buf,
                                   size_t out_cap,
                                   size_t *out_len);

/*
 Computes the OPEN-BODY-SIG `Authorization` header for `body` with the
 client's appId and appKey, for integrators with their own HTTP stack. Send
 exactly these body bytes. `timestamp` (`yyyyMMddHHmmss`, Beijing time) and
 `nonce` may be NULL for now and a random nonce. The buffer receives
 `{"authorization":"OPEN-BODY-SIG ...","timestamp":..,"nonce":..}`.

 # Safety
 Pointers must be NULL or valid as described in the header preamble;
 `body` must point to `body_len` bytes.
 */
UmsStatus ums_sign_body(const struct UmsClient *client,
                        const uint8_t *body,
                        size_t body_len,
                        const char *timestamp,
                        const char *nonce,
                        char *out_buf,
                        size_t out_cap,
                        size_t *out_len);

/*
 Builds the token request body (`POST /v1/token/access`) with the client's
 appId and appKey, for integrators with their own HTTP stack. `timestamp`
 and `nonce` may be NULL for now and a random nonce. The buffer receives the
 JSON body to send.

 # Safety
 Pointers must be NULL or valid as described in the header preamble.
 */
UmsStatus ums_token_request(const struct UmsClient *client,
                            const char *timestamp,
                            const char *nonce,
                            char *out_buf,
                            size_t out_cap,
                            size_t *out_len);

/*
 Installs a process-wide log callback receiving messages up to
 `max_level` (`UMS_LOG_ERROR` .. `UMS_LOG_DEBUG`); NULL removes it.
 Messages never contain the appKey, signatures, tokens, the notification
 key, request bodies or real-name fields. The callback may be called from
 any thread, concurrently; `userdata` is passed back as given and must stay
 valid as long as the callback can run: until `ums_set_log_callback` has
 replaced or removed it and every library call that was running on another
 thread at that moment has returned.
 */
UmsStatus ums_set_log_callback(UmsLogCallback callback,
                               void *userdata,
                               int32_t max_level);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* UMS_H */
