package com.chinaums.ums;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A ChinaUMS client: signs, fills, validates and sends requests through
 * libums and classifies every result.
 *
 * <p>Every operation takes the request as a JSON object text and returns the
 * gateway's answer exactly as received; the {@code Map} overloads do the JSON
 * conversion. Failures are checked {@link UmsException}s (see the subclasses).
 *
 * <p>Threads: one client may be shared by any number of threads. Calls run
 * concurrently; {@link #close()} waits for running calls to finish, is
 * idempotent, and later calls throw {@link ClientClosedException} (a
 * {@link ValidationException}: kind "client_closed", nothing sent). Close the
 * client (try-with-resources) to free its native resources.
 */
public final class UmsClient implements AutoCloseable {
    // Readers are calls, the writer is close(): the handle is never freed
    // while a call uses it.
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle; // guarded by lock; 0 once closed
    private final String info;

    /**
     * Creates a client from a JSON configuration (README "Configuration").
     * {@code environment}, {@code appId} and {@code appKey} are required, e.g.
     * {@code {"environment":"production","appId":..,"appKey":..,"mid":..,"tid":..}};
     * against the ums-sandbox simulator, {@code environment} is the URL it
     * prints ({@code http://127.0.0.1:PORT}) with its demo app. There is no
     * default environment.
     *
     * @throws ConfigException a bad, missing or unknown key; getField() names it
     */
    public UmsClient(String configJson) throws UmsException {
        NativeLib.ensureLoaded();
        byte[] config = Text.utf8(configJson, "configJson");
        long[] h = new long[1];
        int[] status = new int[1];
        byte[] doc;
        try {
            doc = NativeLib.clientNew(config, h, status);
        } finally {
            Arrays.fill(config, (byte) 0); // the config may hold the appKey and notifyKey
        }
        this.info = Text.check(status[0], doc);
        this.handle = h[0];
        if (handle == 0) {
            throw UmsException.local(UmsStatus.INTERNAL, "internal",
                    "ums_client_new succeeded without a handle", null);
        }
    }

    /** Creates a client from a configuration given as a Map (written as JSON). */
    public UmsClient(Map<String, Object> config) throws UmsException {
        this(Text.json(config, "config"));
    }

    /**
     * The library's description of this client (no secrets):
     * {@code {"status":"UMS_OK","version","appId","baseUrl","auth"}}.
     */
    public String getInfo() {
        return info;
    }

    /** True once {@link #close()} ran. */
    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return handle == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Frees the native client after running calls have finished. Idempotent.
     * Calls made afterwards throw {@link ClientClosedException}.
     */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                NativeLib.clientFree(handle);
                handle = 0;
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** One native call with the handle, under the read lock. */
    private interface NativeCall {
        byte[] run(long handle, int[] status);
    }

    private String invoke(NativeCall call) throws UmsException {
        lock.readLock().lock();
        try {
            if (handle == 0) {
                throw new ClientClosedException();
            }
            int[] status = new int[1];
            byte[] doc = call.run(handle, status);
            return Text.check(status[0], doc);
        } finally {
            lock.readLock().unlock();
        }
    }

    private String operation(final String op, String requestJson) throws UmsException {
        final byte[] request = Text.utf8(requestJson, "requestJson");
        try {
            return invoke(new NativeCall() {
                @Override
                public byte[] run(long h, int[] status) {
                    return NativeLib.operation(op, h, request, status);
                }
            });
        } finally {
            Arrays.fill(request, (byte) 0); // may hold real-name values
        }
    }

    private Map<String, Object> operation(String op, Map<String, Object> request)
            throws UmsException {
        return Text.object(operation(op, Text.json(request, "request")));
    }

    // ---- operations: JSON text in, the gateway's answer out ----

    /** {@code bills/get-qrcode}: creates a QR code (one-off with billNo, billDate, totalAmount; or fixed). */
    public String getQrcode(String requestJson) throws UmsException {
        return operation(NativeLib.OP_GET_QRCODE, requestJson);
    }

    public Map<String, Object> getQrcode(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_GET_QRCODE, request);
    }

    /** {@code bills/update-qrcode}: binds a new bill to an existing QR code. */
    public String updateQrcode(String requestJson) throws UmsException {
        return operation(NativeLib.OP_UPDATE_QRCODE, requestJson);
    }

    public Map<String, Object> updateQrcode(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_UPDATE_QRCODE, request);
    }

    /** {@code bills/close-qrcode}: closes a QR code (attachRefund refunds a paid one-off code). */
    public String closeQrcode(String requestJson) throws UmsException {
        return operation(NativeLib.OP_CLOSE_QRCODE, requestJson);
    }

    public Map<String, Object> closeQrcode(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_CLOSE_QRCODE, request);
    }

    /** {@code bills/query}: a bill's status and payment; with refundOrderId, that refund. */
    public String queryBill(String requestJson) throws UmsException {
        return operation(NativeLib.OP_QUERY_BILL, requestJson);
    }

    public Map<String, Object> queryBill(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_QUERY_BILL, request);
    }

    /**
     * {@code bills/refund}: give every refund its own refundOrderId (see
     * {@link #newId()}). Returns only when the refund is done: refundStatus
     * PROCESSING or UNKNOWN throws {@link PendingException} (query until
     * final, never resend), FAIL throws {@link OperationFailedException}
     * (nothing moved).
     */
    public String refund(String requestJson) throws UmsException {
        return operation(NativeLib.OP_REFUND, requestJson);
    }

    public Map<String, Object> refund(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_REFUND, request);
    }

    /** {@code bills/query-qrcode-info}: the bill a QR code carries (qrCodeId, systemId). */
    public String queryQrcodeInfo(String requestJson) throws UmsException {
        return operation(NativeLib.OP_QUERY_QRCODE_INFO, requestJson);
    }

    public Map<String, Object> queryQrcodeInfo(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_QUERY_QRCODE_INFO, request);
    }

    /** {@code bills/preauthed}: completes a pre-authorisation. */
    public String preauthComplete(String requestJson) throws UmsException {
        return operation(NativeLib.OP_PREAUTH_COMPLETE, requestJson);
    }

    public Map<String, Object> preauthComplete(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_PREAUTH_COMPLETE, request);
    }

    /** {@code bills/preauth-cancel}: cancels a pre-authorisation. */
    public String preauthCancel(String requestJson) throws UmsException {
        return operation(NativeLib.OP_PREAUTH_CANCEL, requestJson);
    }

    public Map<String, Object> preauthCancel(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_PREAUTH_CANCEL, request);
    }

    /** {@code secure-cancel}: cancels a guaranteed trade (merOrderId). */
    public String secureCancel(String requestJson) throws UmsException {
        return operation(NativeLib.OP_SECURE_CANCEL, requestJson);
    }

    public Map<String, Object> secureCancel(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_SECURE_CANCEL, request);
    }

    /** {@code secure-complete}: completes a guaranteed trade (merOrderId, completedAmount). */
    public String secureComplete(String requestJson) throws UmsException {
        return operation(NativeLib.OP_SECURE_COMPLETE, requestJson);
    }

    public Map<String, Object> secureComplete(Map<String, Object> request) throws UmsException {
        return operation(NativeLib.OP_SECURE_COMPLETE, request);
    }

    /**
     * Calls any {@code /v1/...} service path. A known bills path gets that
     * operation's defaults and checks. A request that is exactly
     * {@code {"data":{...}}} is the official SDKs' needDataTag envelope.
     */
    public String call(String servicePath, String requestJson) throws UmsException {
        final byte[] path = Text.utf8(servicePath, "servicePath");
        final byte[] request = Text.utf8(requestJson, "requestJson");
        try {
            return invoke(new NativeCall() {
                @Override
                public byte[] run(long h, int[] status) {
                    return NativeLib.call(h, path, request, status);
                }
            });
        } finally {
            Arrays.fill(request, (byte) 0);
        }
    }

    public Map<String, Object> call(String servicePath, Map<String, Object> request)
            throws UmsException {
        return Text.object(call(servicePath, Text.json(request, "request")));
    }

    // ---- no network ----

    /**
     * Prepares a request without sending it: {@code operation} is a name
     * ("update-qrcode", "refund", ...) or a {@code /v1/...} path. Returns
     * {@code {"url","path","body","authorization"}}, body being the exact JSON
     * text that would be sent. {@code timestamp} (yyyyMMddHHmmss) and
     * {@code nonce} may be null for now and a random nonce.
     */
    public String prepare(String operation, String requestJson, String timestamp, String nonce)
            throws UmsException {
        final byte[] op = Text.utf8(operation, "operation");
        final byte[] request = Text.utf8(requestJson, "requestJson");
        final byte[] ts = Text.utf8OrNull(timestamp, "timestamp");
        final byte[] n = Text.utf8OrNull(nonce, "nonce");
        try {
            return invoke(new NativeCall() {
                @Override
                public byte[] run(long h, int[] status) {
                    return NativeLib.prepare(h, op, request, ts, n, status);
                }
            });
        } finally {
            Arrays.fill(request, (byte) 0);
        }
    }

    /** {@link #prepare(String, String, String, String)} with now and a random nonce. */
    public String prepare(String operation, String requestJson) throws UmsException {
        return prepare(operation, requestJson, null, null);
    }

    /**
     * A new 28-character merchant identifier (msgSrcId + Beijing time + 7
     * digits) for billNo, merOrderId, refundOrderId; unique across threads.
     * Needs msgSrcId in the configuration (ConfigException naming it otherwise).
     */
    public String newId() throws UmsException {
        String doc = invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.newId(h, status);
            }
        });
        Object id = Text.object(doc).get("id");
        if (!(id instanceof String)) {
            throw UmsException.local(UmsStatus.INTERNAL, "internal", "ums_new_id gave no id", null);
        }
        return (String) id;
    }

    /**
     * The OPEN-BODY-SIG Authorization header for {@code body} (send exactly
     * these bytes), for integrators with their own HTTP stack. Returns
     * {@code {"authorization","timestamp","nonce"}}; timestamp and nonce may be null.
     */
    public String signBody(final byte[] body, String timestamp, String nonce) throws UmsException {
        if (body == null) {
            throw UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `body` is null", "body");
        }
        final byte[] ts = Text.utf8OrNull(timestamp, "timestamp");
        final byte[] n = Text.utf8OrNull(nonce, "nonce");
        return invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.signBody(h, body, ts, n, status);
            }
        });
    }

    public String signBody(byte[] body) throws UmsException {
        return signBody(body, null, null);
    }

    /** The signed token request body ({@code POST /v1/token/access}); timestamp and nonce may be null. */
    public String tokenRequest(String timestamp, String nonce) throws UmsException {
        final byte[] ts = Text.utf8OrNull(timestamp, "timestamp");
        final byte[] n = Text.utf8OrNull(nonce, "nonce");
        return invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.tokenRequest(h, ts, n, status);
            }
        });
    }

    public String tokenRequest() throws UmsException {
        return tokenRequest(null, null);
    }

    /**
     * Verifies a notification with the configuration's {@code notifyKey} and
     * {@code notifySignTypes} ({@code ["SHA256"]} refuses MD5-signed
     * notifications, with {@link NotificationException} reason
     * "unknown_sign_type"). The key stays inside libums (ums_client_verify_notify):
     * Java never holds it. Returns
     * {@code {"valid":true,"signType":..,"notifyId":..,"fields":{..}}}.
     *
     * @throws NotificationException forged, damaged, or signed with a refused signType
     * @throws ConfigException no notifyKey configured (getField() is "notifyKey")
     */
    public String verifyNotify(final byte[] rawBody) throws UmsException {
        if (rawBody == null) {
            throw UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `rawBody` is null", "rawBody");
        }
        return invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.clientVerifyNotify(h, rawBody, status);
            }
        });
    }

    /**
     * Advanced: takes an answer libums kept for this client
     * ({@code ums_take_answer}) by the {@code answerId} of a
     * UMS_ERR_BUFFER_TOO_SMALL document. The binding does this itself
     * whenever an answer does not fit its buffer (it never calls an operation
     * twice), so you only need it to retry with an answerId found in an
     * exception's document. Returns the answer exactly as received, or throws
     * the kept error's exception; never sends anything.
     *
     * @throws AnswerGoneException the id is unknown, expired (120 s), evicted or
     *         already taken: the request's outcome is unknown, query before deciding
     */
    public String takeAnswer(String answerId) throws UmsException {
        final byte[] id = Text.utf8(answerId, "answerId");
        return invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.takeAnswer(h, id, status);
            }
        });
    }

    public Map<String, Object> verifyNotifyMap(byte[] rawBody) throws UmsException {
        return Text.object(verifyNotify(rawBody));
    }

    // ---- notification claims (several receivers) ----

    /**
     * Claims a verified notification (its {@code notifyId}) for processing,
     * across every receiver sharing the configuration's {@code claimStore}
     * (a Redis URL; default the {@code tokenStore}'s Redis, else this
     * process's memory).
     *
     * <p>true: process it, then answer SUCCESS; if processing fails call
     * {@link #releaseNotification(String)} and answer FAILED (ChinaUMS
     * resends). false: another receiver (or an earlier delivery) handled or is
     * handling it: answer SUCCESS without processing. A claim lives 25 h. When
     * Redis cannot be reached this process's own claims answer (at worst a
     * notification is processed twice, never lost: keep recording the
     * notifyId with your state change).
     *
     * @throws ValidationException {@code notifyId} is not 1 to 128 printable
     *         ASCII characters without spaces
     */
    public boolean claimNotification(String notifyId) throws UmsException {
        final byte[] id = Text.utf8(notifyId, "notifyId");
        String doc = invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.notifyClaim(h, id, status);
            }
        });
        return Boolean.TRUE.equals(Text.object(doc).get("claimed"));
    }

    /**
     * Releases a claim made by {@link #claimNotification(String)} (processing
     * failed), so that ChinaUMS's next resend is processed, here or by another
     * receiver. When Redis cannot be reached the release is sent once it
     * answers again.
     */
    public void releaseNotification(String notifyId) throws UmsException {
        final byte[] id = Text.utf8(notifyId, "notifyId");
        invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.notifyRelease(h, id, status);
            }
        });
    }

    /**
     * What became of a money-moving call whose outcome is unknown
     * ({@code ums_resolve}), from read-only queries: it never resends.
     * {@code inputJson} is the error document of the call
     * ({@link UmsException#getDocumentJson()}, which carries
     * {@code resolveWith}), {@code {"operation":"refund","request":{...}}}, or
     * an entry of {@link #journalPending()}. Returns
     * {@code {"verdict":"applied"|"not_applied"|"pending"|"cannot_tell",
     * "safeToResend",...}}.
     */
    public Map<String, Object> resolve(String inputJson) throws UmsException {
        final byte[] input = Text.utf8(inputJson, "inputJson");
        return Text.object(invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.resolve(h, input, status);
            }
        }));
    }

    /** {@link #resolve(String)} of the exception a call threw. */
    public Map<String, Object> resolve(UmsException outcome) throws UmsException {
        return resolve(outcome.getDocumentJson());
    }

    /**
     * The open entries of the client's journal (config {@code "journal"};
     * {@code ums_journal_pending}), oldest first: calls whose outcome is not
     * known yet, each a valid {@link #resolve(String)} input.
     * ConfigException when the client has no journal.
     */
    @SuppressWarnings("unchecked")
    public java.util.List<Map<String, Object>> journalPending() throws UmsException {
        String doc = invoke(new NativeCall() {
            @Override
            public byte[] run(long h, int[] status) {
                return NativeLib.journalPending(h, status);
            }
        });
        Object pending = Text.object(doc).get("pending");
        java.util.List<Map<String, Object>> out = new java.util.ArrayList<Map<String, Object>>();
        if (pending instanceof java.util.List) {
            for (Object entry : (java.util.List<Object>) pending) {
                out.add((Map<String, Object>) entry);
            }
        }
        return out;
    }
}
