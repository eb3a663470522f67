package com.chinaums.ums;

/** The library's status codes (the C header's UMS_* values) and their names. */
public final class UmsStatus {
    public static final int OK = 0;
    public static final int NULL_POINTER = 1;
    public static final int INVALID_UTF8 = 2;
    public static final int INVALID_JSON = 3;
    public static final int BUFFER_TOO_SMALL = 4;
    public static final int INVALID_ARGUMENT = 5;
    public static final int CONFIG = 6;
    public static final int VALIDATION = 7;
    public static final int CONNECT = 8;
    public static final int TLS = 9;
    public static final int GATEWAY_REJECTED = 10;
    public static final int OUTCOME_UNKNOWN = 11;
    public static final int TOKEN_REJECTED = 12;
    public static final int NOTIFY_BAD_SIGNATURE = 13;
    public static final int NOTIFY_MISSING_SIGN = 14;
    public static final int NOTIFY_UNKNOWN_SIGN_TYPE = 15;
    public static final int NOTIFY_DUPLICATE_FIELD = 16;
    public static final int NOTIFY_MALFORMED = 17;
    /** Accepted but not final yet (refundStatus PROCESSING / UNKNOWN): query until final, never resend. */
    public static final int PENDING = 18;
    /** The gateway processed the request and reports a final failure (refundStatus FAIL): nothing moved. */
    public static final int OPERATION_FAILED = 19;
    /** A kept answer is gone (unknown id, expired, evicted, taken): outcome unknown, nothing resent. */
    public static final int ANSWER_GONE = 20;
    public static final int INTERNAL = 98;
    public static final int PANIC = 99;

    private UmsStatus() {
    }

    /** The C name of a status, e.g. "UMS_ERR_VALIDATION"; "UMS_STATUS_n" for an unknown value. */
    public static String name(int status) {
        switch (status) {
            case OK: return "UMS_OK";
            case NULL_POINTER: return "UMS_ERR_NULL_POINTER";
            case INVALID_UTF8: return "UMS_ERR_INVALID_UTF8";
            case INVALID_JSON: return "UMS_ERR_INVALID_JSON";
            case BUFFER_TOO_SMALL: return "UMS_ERR_BUFFER_TOO_SMALL";
            case INVALID_ARGUMENT: return "UMS_ERR_INVALID_ARGUMENT";
            case CONFIG: return "UMS_ERR_CONFIG";
            case VALIDATION: return "UMS_ERR_VALIDATION";
            case CONNECT: return "UMS_ERR_CONNECT";
            case TLS: return "UMS_ERR_TLS";
            case GATEWAY_REJECTED: return "UMS_ERR_GATEWAY_REJECTED";
            case OUTCOME_UNKNOWN: return "UMS_ERR_OUTCOME_UNKNOWN";
            case TOKEN_REJECTED: return "UMS_ERR_TOKEN_REJECTED";
            case NOTIFY_BAD_SIGNATURE: return "UMS_ERR_NOTIFY_BAD_SIGNATURE";
            case NOTIFY_MISSING_SIGN: return "UMS_ERR_NOTIFY_MISSING_SIGN";
            case NOTIFY_UNKNOWN_SIGN_TYPE: return "UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE";
            case NOTIFY_DUPLICATE_FIELD: return "UMS_ERR_NOTIFY_DUPLICATE_FIELD";
            case NOTIFY_MALFORMED: return "UMS_ERR_NOTIFY_MALFORMED";
            case PENDING: return "UMS_ERR_PENDING";
            case OPERATION_FAILED: return "UMS_ERR_OPERATION_FAILED";
            case ANSWER_GONE: return "UMS_ERR_ANSWER_GONE";
            case INTERNAL: return "UMS_ERR_INTERNAL";
            case PANIC: return "UMS_ERR_PANIC";
            default: return "UMS_STATUS_" + status;
        }
    }
}
