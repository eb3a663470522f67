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
 * the Java UmsClient, which guarantees it is not freed while calls run.
 */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ums.h"

/* First buffer size; on UMS_ERR_BUFFER_TOO_SMALL the call is repeated once
   with the exact size (the library keeps a gateway answer for that retry). */
#define FIRST_CAP ((size_t)64 * 1024)

/* Indices of the operations, in the order of NativeLib.OP_* in Java. */
typedef UmsStatus (*op_fn)(const UmsClient *, const char *, char *, size_t, size_t *);
static const op_fn OPS[] = {
    ums_get_qrcode,       ums_update_qrcode,    ums_close_qrcode,  ums_query_bill,
    ums_refund,           ums_query_qrcode_info, ums_preauth_complete,
    ums_preauth_cancel,   ums_secure_cancel,    ums_secure_complete,
};
#define OP_COUNT ((jint)(sizeof OPS / sizeof OPS[0]))

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
};

/* Runs inv with a 64 KiB buffer, retries once with the exact size, writes
   the status into status_out[0] and returns the document. On a status whose
   document did not fit even then, returns an empty array: Java turns that
   into an InternalException. */
static jbyteArray run_call(JNIEnv *env, jintArray status_out, const Invocation *inv) {
    size_t cap = FIRST_CAP;
    size_t len = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        throw_oom(env);
        return NULL;
    }
    UmsStatus status = inv->invoke(inv, buf, cap, &len);
    if (status == UMS_ERR_BUFFER_TOO_SMALL && len < SIZE_MAX - 1 && len + 1 > cap) {
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
    size_t doc_len = len;
    if (status == UMS_ERR_BUFFER_TOO_SMALL || doc_len >= cap) {
        doc_len = 0; /* nothing trustworthy was written */
    }
    jbyteArray result = to_java(env, buf, doc_len);
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

JNIEXPORT jbyteArray JNICALL Java_com_chinaums_ums_NativeLib_operation(JNIEnv *env, jclass cls,
                                                                     jint op, jlong handle,
                                                                     jbyteArray request,
                                                                     jintArray status_out) {
    (void)cls;
    if (op < 0 || op >= OP_COUNT) {
        throw_named(env, "java/lang/IllegalArgumentException", "libumsjni: unknown operation");
        return NULL;
    }
    Bytes req;
    if (!copy_arg(env, request, &req)) {
        return NULL;
    }
    Invocation inv = {0};
    inv.invoke = inv_op;
    inv.client = handle_of(handle);
    inv.op = OPS[op];
    inv.a = req.data;
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
