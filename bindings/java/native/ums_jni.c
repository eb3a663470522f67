/*
 * ums_jni.c: the JNI glue between com.chinaums.ums.NativeLib and libums.
 *
 * Text crosses the boundary as byte[] holding real UTF-8 (never JNI's
 * "modified UTF-8"): Java encodes with StandardCharsets.UTF_8, this file
 * copies the bytes into a NUL-terminated C buffer, and results come back as
 * byte[] that Java decodes as UTF-8. Every call's UmsStatus is written into
 * status_out[0]; the returned byte[] is the library's document (result or
 * error). A NULL return always comes with a pending Java exception.
 *
 * Nothing here keeps state between calls: the UmsClient handle is owned by
 * the Java UmsClient, which guarantees it is not freed while calls run. The
 * only process-wide state is the log trampoline's JavaVM and the cached
 * NativeLib.dispatchLog method (set once, before the callback is installed).
 *
 * Output buffers: every call starts with a 64 KiB buffer. When a document
 * does not fit (UMS_ERR_BUFFER_TOO_SMALL):
 *  - an operation export (one that may send a request: the OPS[] below and
 *    ums_call) is NEVER called again, since that would send a new request:
 *    the answer the library kept is taken with ums_take_answer, by the
 *    answerId of the small document
 *    {"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":N,"answerId":"…",…},
 *    with a buffer of the size needed (grown while the library still asks);
 *  - a local export (ums_client_new, ums_prepare, ums_new_id, ...; nothing
 *    sent) is simply called again once with the exact size.
 */
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ums.h"

/* First buffer size (at least UMS_MIN_OUT_CAP, below which an operation
   sends nothing). */
#define FIRST_CAP ((size_t)64 * 1024)

#ifndef UMS_MIN_OUT_CAP
#define UMS_MIN_OUT_CAP 256
#endif
#ifndef UMS_ERR_ANSWER_GONE
#define UMS_ERR_ANSWER_GONE 20
#endif

/* How many times ums_take_answer may ask for a bigger buffer for one answer
   (the kept document does not change, so once is the norm). */
#define TAKE_ATTEMPTS 4

/* Longest answerId accepted from a small document (the library's are 32 hex). */
#define MAX_ANSWER_ID 64

/* The operation exports of ums.h (client, request JSON, output buffer), by
   name: Java passes the export's name (NativeLib.OP_*), so nothing depends on
   an order. OP() makes each name from the function itself, and the compiler
   checks each function against op_fn. The Java tests check that this list,
   the header's operation exports and NativeLib.OP_* are the same set. */
typedef UmsStatus (*op_fn)(const UmsClient *, const char *, char *, size_t, size_t *);
#define OP(fn) {#fn, fn}
static const struct {
    const char *name;
    op_fn fn;
} OPS[] = {
    OP(ums_get_qrcode),     OP(ums_update_qrcode),     OP(ums_close_qrcode),
    OP(ums_query_bill),     OP(ums_refund),            OP(ums_query_qrcode_info),
    OP(ums_preauth_complete), OP(ums_preauth_cancel),  OP(ums_secure_cancel),
    OP(ums_secure_complete),
};
#undef OP

/* The operation export called name, or NULL. */
static op_fn find_op(const char *name) {
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        if (strcmp(OPS[i].name, name) == 0) {
            return OPS[i].fn;
        }
    }
    return NULL;
}

static void throw_named(JNIEnv *env, const char *cls_name, const char *msg) {
    if ((*env)->ExceptionCheck(env)) {
        return; /* keep the first exception */
    }
    jclass cls = (*env)->FindClass(env, cls_name);
    if (cls != NULL) {
        (*env)->ThrowNew(env, cls, msg);
        (*env)->DeleteLocalRef(env, cls);
    }
}

static void throw_oom(JNIEnv *env) {
    throw_named(env, "java/lang/OutOfMemoryError", "libumsjni: out of native memory");
}

/* Overwrites memory that held a secret; volatile so the compiler keeps it. */
static void wipe(void *p, size_t n) {
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n--) {
        *v++ = 0;
    }
}

/* A native copy of a Java byte[] argument. data is NULL when the Java array
   was null (the library then reports UMS_ERR_NULL_POINTER or, for the
   optional timestamp/nonce, uses its defaults). */
typedef struct {
    char *data;
    size_t len;
} Bytes;

/* Copies arr into a fresh buffer with a NUL appended. Returns 0 and throws on
   failure. */
static int copy_arg(JNIEnv *env, jbyteArray arr, Bytes *out) {
    out->data = NULL;
    out->len = 0;
    if (arr == NULL) {
        return 1;
    }
    jsize n = (*env)->GetArrayLength(env, arr);
    if (n < 0) {
        throw_named(env, "java/lang/IllegalArgumentException", "libumsjni: bad array");
        return 0;
    }
    char *p = malloc((size_t)n + 1);
    if (p == NULL) {
        throw_oom(env);
        return 0;
    }
    (*env)->GetByteArrayRegion(env, arr, 0, n, (jbyte *)p);
    if ((*env)->ExceptionCheck(env)) {
        free(p);
        return 0;
    }
    p[n] = '\0';
    out->data = p;
    out->len = (size_t)n;
    return 1;
}

/* Frees a copy; secret copies are wiped first. */
static void free_arg(Bytes *b, int secret) {
    if (b->data != NULL) {
        if (secret) {
            wipe(b->data, b->len);
        }
        free(b->data);
        b->data = NULL;
    }
}

/* Returns a Java byte[] holding n bytes of p (NULL with an exception on failure). */
static jbyteArray to_java(JNIEnv *env, const char *p, size_t n) {
    if (n > (size_t)INT32_MAX) {
        throw_named(env, "java/lang/OutOfMemoryError", "libumsjni: document too large");
        return NULL;
    }
    jbyteArray arr = (*env)->NewByteArray(env, (jsize)n);
    if (arr == NULL) {
        return NULL; /* OutOfMemoryError pending */
    }
    if (n > 0) {
        (*env)->SetByteArrayRegion(env, arr, 0, (jsize)n, (const jbyte *)p);
        if ((*env)->ExceptionCheck(env)) {
            (*env)->DeleteLocalRef(env, arr);
            return NULL;
        }
    }
    return arr;
}

static jbyteArray static_string(JNIEnv *env, const char *s) {
    return to_java(env, s, s == NULL ? 0 : strlen(s));
}

/* One library call with its arguments bound; run_call supplies the buffer. */
typedef struct Invocation Invocation;
struct Invocation {
    UmsStatus (*invoke)(const Invocation *inv, char *buf, size_t cap, size_t *len);
    const UmsClient *client;
    op_fn op;
    const char *a; /* first text argument (request, path, operation, key) */
    const char *b; /* second text argument (request) */
    const char *c; /* timestamp or NULL */
    const char *d; /* nonce or NULL */
    const uint8_t *body;
    size_t body_len;
    UmsClient **new_client; /* ums_client_new only */
    int sends; /* an operation export: never called twice (see the top) */
};

/* Finds "key": in a small JSON document the library wrote; returns a pointer
   just after the colon and any blanks, or NULL. */
static const char *json_value(const char *doc, const char *key) {
    size_t klen = strlen(key);
    const char *p = doc;
    while ((p = strchr(p, '"')) != NULL) {
        if (strncmp(p + 1, key, klen) == 0 && p[1 + klen] == '"') {
            const char *v = p + 2 + klen;
            while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
                v++;
            }
            if (*v != ':') {
                p++;
                continue;
            }
            v++;
            while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') {
                v++;
            }
            return v;
        }
        p++;
    }
    return NULL;
}

/* Reads "answerId":"<id>" (letters, digits, '-', '_'; at most MAX_ANSWER_ID)
   into id (MAX_ANSWER_ID + 1 bytes). Returns 1 when found. */
static int small_doc_id(const char *doc, char *id) {
    const char *v = json_value(doc, "answerId");
    if (v == NULL || *v != '"') {
        return 0;
    }
    v++;
    size_t n = 0;
    while (v[n] != '"') {
        char c = v[n];
        int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 c == '-' || c == '_';
        if (!ok || n >= MAX_ANSWER_ID) {
            return 0;
        }
        n++;
    }
    if (n == 0) {
        return 0;
    }
    memcpy(id, v, n);
    id[n] = '\0';
    return 1;
}

/* Reads "needed":N; 0 when absent or unreadable. */
static size_t small_doc_needed(const char *doc) {
    const char *v = json_value(doc, "needed");
    size_t n = 0;
    if (v == NULL || *v < '0' || *v > '9') {
        return 0;
    }
    while (*v >= '0' && *v <= '9') {
        size_t d = (size_t)(*v - '0');
        if (n > (SIZE_MAX - d) / 10) {
            return 0;
        }
        n = n * 10 + d;
        v++;
    }
    return n;
}

/* The text at the start of buf when it is NUL-terminated within cap, else "". */
static const char *terminated(const char *buf, size_t cap) {
    return memchr(buf, '\0', cap) != NULL ? buf : "";
}

/* The document the glue writes when it cannot deliver a kept answer: the
   request reached the gateway (or may have) and was not resent, so its
   outcome is unknown to the caller (Java: AnswerGoneException, an
   OutcomeUnknownException). */
static void gone_doc(char *note, size_t note_cap, const char *why, const char *id) {
    snprintf(note, note_cap,
             "{\"status\":\"UMS_ERR_ANSWER_GONE\",\"kind\":\"answer_gone\",\"message\":\"libumsjni: %s:"
             " the request was not sent again and its outcome is unknown; query before deciding,"
             " do not resend\",\"outcomeUnknown\":true,\"nothingSent\":false,\"phase\":\"sent\""
             "%s%s%s}",
             why, id != NULL ? ",\"answerId\":\"" : "", id != NULL ? id : "", id != NULL ? "\"" : "");
}

/* Outcome of take_answer. */
enum { TAKE_OK, TAKE_NOTE, TAKE_OOM };

/* ums_take_answer with a buffer of at least cap bytes, grown while the
   library still answers UMS_ERR_BUFFER_TOO_SMALL for the same id. On TAKE_OK
   *buf_io, *cap_io, *len and *status hold the kept document; on
   TAKE_NOTE the glue's own document is in note (status ANSWER_GONE); on
   TAKE_OOM nothing could be allocated. *buf_io is freed or replaced as
   needed and is always either NULL or a live buffer of *cap_io bytes. */
static int take_answer(const UmsClient *client, const char *id, size_t cap, char **buf_io,
                       size_t *cap_io, size_t *len, UmsStatus *status, char *note,
                       size_t note_cap) {
    if (cap < UMS_MIN_OUT_CAP) {
        cap = UMS_MIN_OUT_CAP;
    }
    for (int attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
        if (*buf_io == NULL || *cap_io < cap) {
            char *bigger = malloc(cap);
            if (bigger == NULL) {
                return TAKE_OOM;
            }
            free(*buf_io);
            *buf_io = bigger;
            *cap_io = cap;
        }
        *len = 0;
        *status = ums_take_answer(client, id, *buf_io, *cap_io, len);
        if (*status != UMS_ERR_BUFFER_TOO_SMALL) {
            if (*len >= *cap_io) {
                gone_doc(note, note_cap, "the library reported a kept answer longer than its buffer", id);
                return TAKE_NOTE;
            }
            return TAKE_OK;
        }
        const char *small = terminated(*buf_io, *cap_io);
        char again[MAX_ANSWER_ID + 1];
        if (small_doc_id(small, again) && strcmp(again, id) != 0) {
            gone_doc(note, note_cap, "the library named another answerId while taking a kept answer", id);
            return TAKE_NOTE;
        }
        size_t needed = small_doc_needed(small);
        size_t next = *len < SIZE_MAX ? *len + 1 : SIZE_MAX;
        if (needed > next) {
            next = needed;
        }
        if (next <= *cap_io) {
            gone_doc(note, note_cap, "the library asked for a bigger buffer but needs no more", id);
            return TAKE_NOTE;
        }
        cap = next;
    }
    gone_doc(note, note_cap, "the library asked for a bigger buffer too many times", id);
    return TAKE_NOTE;
}

/* Runs inv with a 64 KiB buffer; on UMS_ERR_BUFFER_TOO_SMALL, takes the kept
   answer (operation exports) or calls again once with the exact size (local
   exports). Writes the status into status_out[0] and returns the document.
   On a status whose document could not be read, returns an empty array:
   Java turns that into an InternalException. */
static jbyteArray run_call(JNIEnv *env, jintArray status_out, const Invocation *inv) {
    size_t cap = FIRST_CAP;
    size_t len = 0;
    char note[768];
    const char *doc = NULL; /* what goes back to Java: buf or note */
    char *buf = malloc(cap);
    if (buf == NULL) {
        throw_oom(env);
        return NULL;
    }
    UmsStatus status = inv->invoke(inv, buf, cap, &len);
    if (status == UMS_ERR_BUFFER_TOO_SMALL && inv->sends) {
        /* Never call the operation again: take what the library kept. */
        char id[MAX_ANSWER_ID + 1];
        const char *small = terminated(buf, cap);
        if (!small_doc_id(small, id)) {
            gone_doc(note, sizeof note, "the library answered UMS_ERR_BUFFER_TOO_SMALL without an answerId",
                     NULL);
            status = UMS_ERR_ANSWER_GONE;
            doc = note;
        } else {
            size_t needed = small_doc_needed(small);
            size_t want = len < SIZE_MAX ? len + 1 : SIZE_MAX;
            if (needed > want) {
                want = needed;
            }
            switch (take_answer(inv->client, id, want, &buf, &cap, &len, &status, note, sizeof note)) {
            case TAKE_OK:
                doc = buf;
                break;
            case TAKE_NOTE:
                status = UMS_ERR_ANSWER_GONE;
                doc = note;
                break;
            default:
                /* The answer stays kept under id; say so rather than lose it. */
                gone_doc(note, sizeof note, "out of native memory for a kept answer", id);
                status = UMS_ERR_ANSWER_GONE;
                doc = note;
                break;
            }
        }
    } else if (status == UMS_ERR_BUFFER_TOO_SMALL && len < SIZE_MAX - 1 && len + 1 > cap) {
        free(buf);
        cap = len + 1;
        buf = malloc(cap);
        if (buf == NULL) {
            throw_oom(env);
            return NULL;
        }
        len = 0;
        status = inv->invoke(inv, buf, cap, &len);
    }
    size_t doc_len;
    if (doc == note) {
        doc_len = strlen(note);
    } else {
        doc = buf;
        doc_len = len;
        if (status == UMS_ERR_BUFFER_TOO_SMALL || doc_len >= cap) {
            doc_len = 0; /* nothing trustworthy was written */
        }
    }
    jbyteArray result = to_java(env, doc != NULL ? doc : "", doc_len);
    free(buf);
    if (result == NULL) {
        return NULL;
    }
    jint s = (jint)status;
    (*env)->SetIntArrayRegion(env, status_out, 0, 1, &s);
    if ((*env)->ExceptionCheck(env)) {
        return NULL;
    }
    return result;
}

static UmsStatus inv_client_new(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_client_new(inv->a, inv->new_client, buf, cap, len);
}

static UmsStatus inv_op(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return inv->op(inv->client, inv->a, buf, cap, len);
}

static UmsStatus inv_call(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_call(inv->client, inv->a, inv->b, buf, cap, len);
}

static UmsStatus inv_prepare(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_prepare(inv->client, inv->a, inv->b, inv->c, inv->d, buf, cap, len);
}

static UmsStatus inv_new_id(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_new_id(inv->client, buf, cap, len);
}

static UmsStatus inv_sign_body(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_sign_body(inv->client, inv->body, inv->body_len, inv->c, inv->d, buf, cap, len);
}

static UmsStatus inv_token_request(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_token_request(inv->client, inv->c, inv->d, buf, cap, len);
}

static UmsStatus inv_verify_notify(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_verify_notify(inv->a, inv->body, inv->body_len, buf, cap, len);
}

static UmsStatus inv_client_verify_notify(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_client_verify_notify(inv->client, inv->body, inv->body_len, buf, cap, len);
}

static UmsStatus inv_take_answer(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_take_answer(inv->client, inv->a, buf, cap, len);
}

static UmsStatus inv_notify_claim(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_notify_claim(inv->client, inv->a, buf, cap, len);
}

static UmsStatus inv_notify_release(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_notify_release(inv->client, inv->a, buf, cap, len);
}

static UmsStatus inv_resolve(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_resolve(inv->client, inv->a, buf, cap, len);
}

static UmsStatus inv_journal_pending(const Invocation *inv, char *buf, size_t cap, size_t *len) {
    return ums_journal_pending(inv->client, buf, cap, len);
}

static const UmsClient *handle_of(jlong handle) {
    return (const UmsClient *)(intptr_t)handle;
}

/* ---- exports (names follow com.chinaums.ums.NativeLib) ---- */

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return static_string(env, ums_version());
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_statusStr(JNIEnv *env, jclass cls,
                                                                     jint status) {
    (void)cls;
    return static_string(env, ums_status_str((UmsStatus)status));
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_notifyReply(JNIEnv *env, jclass cls,
                                                                       jboolean handled) {
    (void)cls;
    return static_string(env, ums_notify_reply(handled ? 1 : 0));
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_clientNew(JNIEnv *env, jclass cls,
                                                                     jbyteArray config,
                                                                     jlongArray handle_out,
                                                                     jintArray status_out) {
    (void)cls;
    Bytes cfg;
    if (!copy_arg(env, config, &cfg)) {
        return NULL;
    }
    UmsClient *client = NULL;
    Invocation inv = {0};
    inv.invoke = inv_client_new;
    inv.a = cfg.data;
    inv.new_client = &client;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&cfg, 1); /* the config may hold the appKey */
    if (client != NULL) {
        jlong h = (jlong)(intptr_t)client;
        if (doc != NULL) {
            (*env)->SetLongArrayRegion(env, handle_out, 0, 1, &h);
        }
        if (doc == NULL || (*env)->ExceptionCheck(env)) {
            ums_client_free(client); /* Java never saw the handle */
            return NULL;
        }
    }
    return doc;
}

JNIEXPORT void JNICALL Java_com_chinaums_ums_NativeLib_clientFree(JNIEnv *env, jclass cls,
                                                                 jlong handle) {
    (void)env;
    (void)cls;
    ums_client_free((UmsClient *)(intptr_t)handle);
}

/* Runs the operation export named by export_name (e.g. "ums_refund"). */
JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_operation(JNIEnv *env, jclass cls,
                                                                     jbyteArray export_name,
                                                                     jlong handle,
                                                                     jbyteArray request,
                                                                     jintArray status_out) {
    (void)cls;
    Bytes name;
    if (!copy_arg(env, export_name, &name)) {
        return NULL;
    }
    op_fn op = name.data != NULL ? find_op(name.data) : NULL;
    if (op == NULL) {
        char msg[160];
        snprintf(msg, sizeof msg, "libumsjni: no operation export named \"%.64s\"",
                 name.data != NULL ? name.data : "(null)");
        free_arg(&name, 0);
        throw_named(env, "java/lang/IllegalArgumentException", msg);
        return NULL;
    }
    free_arg(&name, 0);
    Bytes req;
    if (!copy_arg(env, request, &req)) {
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = inv_op;
    inv.client = handle_of(handle);
    inv.op = op;
    inv.a = req.data;
    inv.sends = 1;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&req, 1); /* requests may hold real-name fields */
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_call(JNIEnv *env, jclass cls,
                                                                jlong handle, jbyteArray path,
                                                                jbyteArray request,
                                                                jintArray status_out) {
    (void)cls;
    Bytes p, req;
    if (!copy_arg(env, path, &p)) {
        return NULL;
    }
    if (!copy_arg(env, request, &req)) {
        free_arg(&p, 0);
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = inv_call;
    inv.client = handle_of(handle);
    inv.a = p.data;
    inv.b = req.data;
    inv.sends = 1;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&p, 0);
    free_arg(&req, 1);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_prepare(
    JNIEnv *env, jclass cls, jlong handle, jbyteArray operation, jbyteArray request,
    jbyteArray timestamp, jbyteArray nonce, jintArray status_out) {
    (void)cls;
    Bytes o, req, ts, n;
    jbyteArray doc = NULL;
    req.data = ts.data = n.data = NULL;
    if (!copy_arg(env, operation, &o)) {
        return NULL;
    }
    if (copy_arg(env, request, &req) && copy_arg(env, timestamp, &ts) && copy_arg(env, nonce, &n)) {
        Invocation inv = {0};
        inv.invoke = inv_prepare;
        inv.client = handle_of(handle);
        inv.a = o.data;
        inv.b = req.data;
        inv.c = ts.data;
        inv.d = n.data;
        doc = run_call(env, status_out, &inv);
    }
    free_arg(&o, 0);
    free_arg(&req, 1);
    free_arg(&ts, 0);
    free_arg(&n, 0);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_newId(JNIEnv *env, jclass cls,
                                                                 jlong handle,
                                                                 jintArray status_out) {
    (void)cls;
    Invocation inv = {0};
    inv.invoke = inv_new_id;
    inv.client = handle_of(handle);
    return run_call(env, status_out, &inv);
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_signBody(JNIEnv *env, jclass cls,
                                                                    jlong handle, jbyteArray body,
                                                                    jbyteArray timestamp,
                                                                    jbyteArray nonce,
                                                                    jintArray status_out) {
    (void)cls;
    Bytes b, ts, n;
    jbyteArray doc = NULL;
    ts.data = n.data = NULL;
    if (!copy_arg(env, body, &b)) {
        return NULL;
    }
    if (copy_arg(env, timestamp, &ts) && copy_arg(env, nonce, &n)) {
        Invocation inv = {0};
        inv.invoke = inv_sign_body;
        inv.client = handle_of(handle);
        inv.body = (const uint8_t *)b.data;
        inv.body_len = b.len;
        inv.c = ts.data;
        inv.d = n.data;
        doc = run_call(env, status_out, &inv);
    }
    free_arg(&b, 1);
    free_arg(&ts, 0);
    free_arg(&n, 0);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_tokenRequest(JNIEnv *env, jclass cls,
                                                                        jlong handle,
                                                                        jbyteArray timestamp,
                                                                        jbyteArray nonce,
                                                                        jintArray status_out) {
    (void)cls;
    Bytes ts, n;
    jbyteArray doc = NULL;
    n.data = NULL;
    if (!copy_arg(env, timestamp, &ts)) {
        return NULL;
    }
    if (copy_arg(env, nonce, &n)) {
        Invocation inv = {0};
        inv.invoke = inv_token_request;
        inv.client = handle_of(handle);
        inv.c = ts.data;
        inv.d = n.data;
        doc = run_call(env, status_out, &inv);
    }
    free_arg(&ts, 0);
    free_arg(&n, 0);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_verifyNotify(JNIEnv *env, jclass cls,
                                                                        jbyteArray key,
                                                                        jbyteArray body,
                                                                        jintArray status_out) {
    (void)cls;
    Bytes k, b;
    jbyteArray doc = NULL;
    b.data = NULL;
    if (!copy_arg(env, key, &k)) {
        return NULL;
    }
    if (copy_arg(env, body, &b)) {
        Invocation inv = {0};
        inv.invoke = inv_verify_notify;
        inv.a = k.data;
        /* A null body stays NULL (UMS_ERR_NULL_POINTER); an empty one is a
           valid zero-length pointer. */
        inv.body = (const uint8_t *)b.data;
        inv.body_len = b.len;
        doc = run_call(env, status_out, &inv);
    }
    free_arg(&k, 1); /* the notification key is a secret */
    free_arg(&b, 0);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_clientVerifyNotify(JNIEnv *env,
                                                                              jclass cls,
                                                                              jlong handle,
                                                                              jbyteArray body,
                                                                              jintArray status_out) {
    (void)cls;
    Bytes b;
    if (!copy_arg(env, body, &b)) {
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = inv_client_verify_notify;
    inv.client = handle_of(handle);
    inv.body = (const uint8_t *)b.data;
    inv.body_len = b.len;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&b, 0);
    return doc;
}

/* ums_take_answer by id. Taking never sends anything, so a too-small buffer
   is just grown (the answer stays kept under the same id meanwhile). */
JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_takeAnswer(JNIEnv *env, jclass cls,
                                                                      jlong handle,
                                                                      jbyteArray answer_id,
                                                                      jintArray status_out) {
    (void)cls;
    Bytes id;
    if (!copy_arg(env, answer_id, &id)) {
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = inv_take_answer;
    inv.client = handle_of(handle);
    inv.a = id.data;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&id, 0);
    return doc;
}

/* ums_notify_claim / ums_notify_release by notifyId. The first buffer
   (FIRST_CAP) is far above UMS_MIN_OUT_CAP, below which the library would
   claim or release nothing. */
static jbyteArray notify_claim_call(JNIEnv *env, jlong handle, jbyteArray notify_id,
                                    jintArray status_out,
                                    UmsStatus (*invoke)(const Invocation *, char *, size_t, size_t *)) {
    Bytes id;
    if (!copy_arg(env, notify_id, &id)) {
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = invoke;
    inv.client = handle_of(handle);
    inv.a = id.data;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&id, 0);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_notifyClaim(JNIEnv *env, jclass cls,
                                                                       jlong handle,
                                                                       jbyteArray notify_id,
                                                                       jintArray status_out) {
    (void)cls;
    return notify_claim_call(env, handle, notify_id, status_out, inv_notify_claim);
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_notifyRelease(JNIEnv *env, jclass cls,
                                                                         jlong handle,
                                                                         jbyteArray notify_id,
                                                                         jintArray status_out) {
    (void)cls;
    return notify_claim_call(env, handle, notify_id, status_out, inv_notify_release);
}

/* ums_resolve (queries only, never a resend) and ums_journal_pending: they
   keep a document that does not fit like an operation, so it is taken by
   its answerId (sends = 1), never asked for twice. */
JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_resolve(JNIEnv *env, jclass cls,
                                                                   jlong handle, jbyteArray input,
                                                                   jintArray status_out) {
    (void)cls;
    Bytes in;
    if (!copy_arg(env, input, &in)) {
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = inv_resolve;
    inv.client = handle_of(handle);
    inv.a = in.data;
    inv.sends = 1;
    jbyteArray doc = run_call(env, status_out, &inv);
    free_arg(&in, 0);
    return doc;
}

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_journalPending(JNIEnv *env, jclass cls,
                                                                          jlong handle,
                                                                          jintArray status_out) {
    (void)cls;
    Invocation inv = {0};
    inv.invoke = inv_journal_pending;
    inv.client = handle_of(handle);
    inv.sends = 1;
    return run_call(env, status_out, &inv);
}

/* ---- the log callback ----
   libums calls log_trampoline on the thread that logs (normally the Java
   thread inside a call), with no lock held, so the Java listener may call
   back into the library. The trampoline calls the static
   NativeLib.dispatchLog(int, byte[]), which reads the current listener: the
   glue keeps no reference to listeners. */

static JavaVM *log_vm;
static jclass log_class;      /* global reference to NativeLib */
static jmethodID log_method;  /* NativeLib.dispatchLog(int, byte[]) */

static void log_trampoline(void *userdata, int32_t level, const char *message) {
    (void)userdata;
    JNIEnv *env = NULL;
    int attached = 0;
    jint rc = (*log_vm)->GetEnv(log_vm, (void **)&env, JNI_VERSION_1_6);
    if (rc == JNI_EDETACHED) {
        if ((*log_vm)->AttachCurrentThreadAsDaemon(log_vm, (void **)&env, NULL) != JNI_OK) {
            return;
        }
        attached = 1;
    } else if (rc != JNI_OK) {
        return;
    }
    /* Never clear or shadow an exception that is not ours. */
    if (!(*env)->ExceptionCheck(env)) {
        if ((*env)->PushLocalFrame(env, 4) == 0) {
            jbyteArray text = to_java(env, message, message == NULL ? 0 : strlen(message));
            if (text != NULL) {
                (*env)->CallStaticVoidMethod(env, log_class, log_method, (jint)level, text);
            }
            if ((*env)->ExceptionCheck(env)) {
                (*env)->ExceptionClear(env); /* nothing may unwind through libums */
            }
            (*env)->PopLocalFrame(env, NULL);
        } else {
            (*env)->ExceptionClear(env); /* the OutOfMemoryError of PushLocalFrame */
        }
    }
    if (attached) {
        (*log_vm)->DetachCurrentThread(log_vm);
    }
}

/* Installs (enabled) or removes the trampoline. Java serialises these calls
   (Ums.setLogListener is synchronized), so the first-time set-up below is
   never raced, and it is done before libums can call the trampoline. */
JNIEXPORT jint JNICALL Java_com_chinaums_ums_NativeLib_setLogCallback(JNIEnv *env, jclass cls,
                                                                    jboolean enabled,
                                                                    jint max_level) {
    if (!enabled) {
        return (jint)ums_set_log_callback(NULL, NULL, UMS_LOG_ERROR);
    }
    if (log_class == NULL) {
        if ((*env)->GetJavaVM(env, &log_vm) != JNI_OK) {
            throw_named(env, "java/lang/IllegalStateException", "libumsjni: no JavaVM");
            return -1;
        }
        log_method = (*env)->GetStaticMethodID(env, cls, "dispatchLog", "(I[B)V");
        if (log_method == NULL) {
            return -1; /* NoSuchMethodError pending */
        }
        log_class = (jclass)(*env)->NewGlobalRef(env, cls);
        if (log_class == NULL) {
            throw_oom(env);
            return -1;
        }
    }
    return (jint)ums_set_log_callback(log_trampoline, NULL, (int32_t)max_level);
}
