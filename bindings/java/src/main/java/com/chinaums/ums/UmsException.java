package com.chinaums.ums;

import com.chinaums.ums.internal.Json;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Base of every libums failure. Carries the library status, its name and the
 * parsed error document
 * ({@code {"status","kind","message","phase","field","errCode","errMsg","httpStatus",
 * "outcomeUnknown","nothingSent","response","settled","stateField","state"}};
 * optional keys only when known).
 * Every getter exists on this class; the getters for optional keys return
 * null when they do not apply ({@link #getReason()} is set for
 * {@link NotificationException} only).
 *
 * <p>{@link #getMessage()} is {@code "<kind>: <message>"} followed by what
 * the message leaves out: {@code (field 'x')}, {@code (errCode X: errMsg)},
 * {@code (HTTP n)}, e.g. {@code gateway_rejected: the gateway rejected the
 * request with BAD_SIGN (errCode BAD_SIGN: 签名错误) (HTTP 200)}: the same
 * text as the Python binding's {@code str(e)} and the PHP binding's
 * getMessage(). {@link #getRawMessage()} is the library's explanation alone.
 *
 * <p>Messages and documents never hold secrets (appKey, notification key,
 * tokens, signatures, real-name values): the library leaves them out and this
 * binding adds none.
 */
public class UmsException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String statusName;
    private final String rawMessage;
    private final Map<String, Object> document;

    /**
     * @param message the library's explanation ({@link #getRawMessage()});
     *        {@link #getMessage()} is built from it and the document
     */
    public UmsException(int status, String message, Map<String, Object> document) {
        this(completed(status, document), status, message);
    }

    private UmsException(Map<String, Object> completed, int status, String message) {
        super(summary(UmsStatus.name(status), message == null ? "" : message, completed));
        this.status = status;
        this.statusName = UmsStatus.name(status);
        this.rawMessage = message == null ? "" : message;
        this.document = Collections.unmodifiableMap(completed);
    }

    /**
     * A copy of the document with what the library always writes and a
     * document made by the binding may lack: the status name, and a kind
     * derived from it.
     */
    private static Map<String, Object> completed(int status, Map<String, Object> document) {
        Map<String, Object> doc = document == null
                ? new LinkedHashMap<String, Object>()
                : new LinkedHashMap<String, Object>(document);
        String name = UmsStatus.name(status);
        if (!doc.containsKey("status")) {
            doc.put("status", name);
        }
        if (!(doc.get("kind") instanceof String) && name.startsWith("UMS_ERR_")) {
            doc.put("kind", name.substring("UMS_ERR_".length()).toLowerCase(java.util.Locale.ROOT));
        }
        return doc;
    }

    /**
     * For the exceptions that are local by definition (ConfigException,
     * ValidationException): the document with phase "local", nothingSent
     * true and outcomeUnknown false where it lacks them.
     */
    static Map<String, Object> withLocalDefaults(Map<String, Object> document) {
        Map<String, Object> doc = document == null
                ? new LinkedHashMap<String, Object>()
                : new LinkedHashMap<String, Object>(document);
        if (!doc.containsKey("phase")) {
            doc.put("phase", "local");
        }
        if (!doc.containsKey("nothingSent")) {
            doc.put("nothingSent", Boolean.TRUE);
        }
        if (!doc.containsKey("outcomeUnknown")) {
            doc.put("outcomeUnknown", Boolean.FALSE);
        }
        return doc;
    }

    /**
     * "<kind>: <message>" and, each only when set and not already in the
     * message, (field 'x'), (errCode X: errMsg) or (errMsg M), (HTTP n).
     * Built only from the document, which holds no secrets.
     */
    private static String summary(String statusName, String message, Map<String, Object> doc) {
        String kind = text(doc.get("kind"));
        StringBuilder sb = new StringBuilder(kind != null && !kind.isEmpty() ? kind : statusName);
        if (!message.isEmpty()) {
            sb.append(": ").append(message);
        }
        String field = text(doc.get("field"));
        if (field != null && !field.isEmpty() && !message.contains(field)) {
            sb.append(" (field ").append(quoted(field)).append(')');
        }
        String errCode = text(doc.get("errCode"));
        String errMsg = text(doc.get("errMsg"));
        if (errCode != null && !errCode.isEmpty()) {
            sb.append(" (errCode ").append(errCode);
            if (errMsg != null && !errMsg.isEmpty()) {
                sb.append(": ").append(errMsg);
            }
            sb.append(')');
        } else if (errMsg != null && !errMsg.isEmpty() && !message.contains(errMsg)) {
            sb.append(" (errMsg ").append(errMsg).append(')');
        }
        Object http = doc.get("httpStatus");
        if (http instanceof Number && !message.contains("HTTP")) {
            sb.append(" (HTTP ").append(((Number) http).longValue()).append(')');
        }
        return sb.toString();
    }

    /** Quoted as Python's repr() quotes a plain string: 'x', or "x'y". */
    private static String quoted(String value) {
        String v = value.replace("\\", "\\\\");
        if (v.indexOf('\'') >= 0 && v.indexOf('"') < 0) {
            return "\"" + v + "\"";
        }
        return "'" + v.replace("'", "\\'") + "'";
    }

    private static String text(Object v) {
        return v instanceof String ? (String) v : null;
    }

    /**
     * The exception for a status and its error document (JSON text, may be
     * empty or malformed): the class follows the status as in the shared
     * hierarchy. Used by the binding; public so adapters can rebuild one.
     */
    public static UmsException fromDocument(int status, String documentJson) {
        Map<String, Object> doc = null;
        if (documentJson != null && !documentJson.isEmpty()) {
            try {
                doc = Json.parseObject(documentJson);
            } catch (IllegalArgumentException e) {
                doc = null; // keep going with a document of our own
            }
        }
        if (doc == null) {
            doc = new LinkedHashMap<String, Object>();
            doc.put("status", UmsStatus.name(status));
            doc.put("kind", "internal");
            doc.put("message", status == UmsStatus.BUFFER_TOO_SMALL
                    ? "the library's document did not fit the buffer even after the retry"
                    : "the library returned no readable error document");
        }
        Object m = doc.get("message");
        String message = m instanceof String ? (String) m : UmsStatus.name(status);
        return create(status, message, doc);
    }

    /** An exception made by the binding itself (before calling the library). */
    static UmsException local(int status, String kind, String message, String field) {
        Map<String, Object> doc = new LinkedHashMap<String, Object>();
        doc.put("status", UmsStatus.name(status));
        doc.put("kind", kind);
        doc.put("message", message);
        if (field != null) {
            doc.put("field", field);
        }
        doc.put("outcomeUnknown", Boolean.FALSE);
        doc.put("nothingSent", Boolean.TRUE);
        doc.put("phase", "local");
        return create(status, message, doc);
    }

    private static UmsException create(int status, String message, Map<String, Object> doc) {
        switch (status) {
            case UmsStatus.CONFIG:
                return new ConfigException(status, message, doc);
            case UmsStatus.NULL_POINTER:
            case UmsStatus.INVALID_UTF8:
            case UmsStatus.INVALID_JSON:
            case UmsStatus.INVALID_ARGUMENT:
            case UmsStatus.VALIDATION:
                return new ValidationException(status, message, doc);
            case UmsStatus.GATEWAY_REJECTED:
            case UmsStatus.TOKEN_REJECTED:
                return new GatewayRejectedException(status, message, doc);
            case UmsStatus.OUTCOME_UNKNOWN:
                return new OutcomeUnknownException(status, message, doc);
            case UmsStatus.ANSWER_GONE:
                return new AnswerGoneException(status, message, doc);
            case UmsStatus.PENDING:
                return new PendingException(status, message, doc);
            case UmsStatus.OPERATION_FAILED:
                return new OperationFailedException(status, message, doc);
            case UmsStatus.CONNECT:
                return new TransportException(status, message, doc);
            case UmsStatus.TLS:
                return new TlsException(status, message, doc);
            case UmsStatus.NOTIFY_BAD_SIGNATURE:
            case UmsStatus.NOTIFY_MISSING_SIGN:
            case UmsStatus.NOTIFY_UNKNOWN_SIGN_TYPE:
            case UmsStatus.NOTIFY_DUPLICATE_FIELD:
            case UmsStatus.NOTIFY_MALFORMED:
                return new NotificationException(status, message, doc);
            default:
                return new InternalException(status, message, doc);
        }
    }

    /** The library status (UmsStatus.*). */
    public int getStatus() {
        return status;
    }

    /** The status name, e.g. "UMS_ERR_GATEWAY_REJECTED". */
    public String getStatusName() {
        return statusName;
    }

    /**
     * The library's short name of the failure, e.g. "validation",
     * "gateway_rejected", "outcome_unknown"; "client_closed" for
     * {@link ClientClosedException}.
     */
    public String getKind() {
        return string("kind");
    }

    /**
     * The library's explanation alone ({@link #getMessage()} is
     * {@code "<kind>: <explanation>"} plus the details it leaves out).
     */
    public String getRawMessage() {
        return rawMessage;
    }

    /**
     * For {@link NotificationException}: why the notification was refused
     * ("bad_signature", "missing_sign", "unknown_sign_type",
     * "duplicate_field", "malformed"). Null for every other exception.
     */
    public String getReason() {
        return null;
    }

    /** The whole error document, parsed (unmodifiable). */
    public Map<String, Object> getDocument() {
        return document;
    }

    /** The error document as JSON text. */
    public String getDocumentJson() {
        return Json.write(document);
    }

    /** The config key or request field at fault (Config/Validation), else null. */
    public String getField() {
        return string("field");
    }

    /** The gateway's errCode when there was an answer, else null. */
    public String getErrCode() {
        return string("errCode");
    }

    /** The gateway's errMsg when there was an answer, else null. */
    public String getErrMsg() {
        return string("errMsg");
    }

    /** The HTTP status of the gateway's answer, or null. */
    public Integer getHttpStatus() {
        Object v = document.get("httpStatus");
        return v instanceof Number ? Integer.valueOf(((Number) v).intValue()) : null;
    }

    /**
     * Where the call was when it failed: "local" (nothing left the process),
     * "connect" (the connection was being set up; not a byte of the request
     * written) or "sent" (the request was handed to the network); null when
     * the document has none.
     */
    public String getPhase() {
        return string("phase");
    }

    /**
     * For {@link PendingException} and {@link OperationFailedException}: the
     * answer's field that says whether the effect is final, e.g.
     * "refundStatus"; else null.
     */
    public String getStateField() {
        return string("stateField");
    }

    /**
     * For {@link PendingException} and {@link OperationFailedException}: the
     * value of that field, e.g. "PROCESSING", "UNKNOWN", "FAIL"; else null.
     */
    public String getState() {
        return string("state");
    }

    /**
     * For {@link PendingException} (false) and {@link OperationFailedException}
     * (true): whether the gateway's state is final; null for the others.
     */
    public Boolean isSettled() {
        Object v = document.get("settled");
        return v instanceof Boolean ? (Boolean) v : null;
    }

    /**
     * True when the request may have been processed: query, never resend.
     * (Every library document says; false when a document lacks it.)
     */
    public boolean isOutcomeUnknown() {
        return Boolean.TRUE.equals(document.get("outcomeUnknown"));
    }

    /**
     * True when the library is sure nothing reached the gateway. (Every
     * library document says; false when a document lacks it.)
     */
    public boolean isNothingSent() {
        return Boolean.TRUE.equals(document.get("nothingSent"));
    }

    /** The gateway's answer as a parsed JSON object when there was one, else null. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> getResponse() {
        Object v = document.get("response");
        return v instanceof Map ? (Map<String, Object>) v : null;
    }

    private String string(String key) {
        Object v = document.get(key);
        return v instanceof String ? (String) v : null;
    }
}
