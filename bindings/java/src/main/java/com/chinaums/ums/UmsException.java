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
 * The getters for optional keys return null when the document lacks them.
 *
 * <p>Messages and documents never hold secrets (appKey, notification key,
 * tokens, signatures, real-name values): the library leaves them out and this
 * binding adds none.
 */
public class UmsException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String statusName;
    private final Map<String, Object> document;

    public UmsException(int status, String message, Map<String, Object> document) {
        super(message);
        this.status = status;
        this.statusName = UmsStatus.name(status);
        this.document = document == null
                ? Collections.<String, Object>emptyMap()
                : Collections.unmodifiableMap(new LinkedHashMap<String, Object>(document));
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

    /** The document's "kind", e.g. "validation", "gateway_rejected". */
    public String getKind() {
        return string("kind");
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

    /** True when the request may have been processed: query, never resend. */
    public boolean isOutcomeUnknown() {
        return Boolean.TRUE.equals(document.get("outcomeUnknown"));
    }

    /** True when the library is sure nothing reached the gateway. */
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
