package com.chinaums.ums;

import java.util.Map;

/**
 * A notification that must not be trusted: UMS_ERR_NOTIFY_BAD_SIGNATURE,
 * _MISSING_SIGN, _UNKNOWN_SIGN_TYPE, _DUPLICATE_FIELD or _MALFORMED.
 * Answer ChinaUMS {@code Ums.notifyReply(false)} ("FAILED").
 * {@link #getReason()} says why, with the same words in every binding.
 */
public class NotificationException extends UmsException {
    private static final long serialVersionUID = 1L;

    public NotificationException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }

    /**
     * "bad_signature", "missing_sign", "unknown_sign_type", "duplicate_field"
     * (getField() names the field) or "malformed".
     */
    @Override
    public String getReason() {
        switch (getStatus()) {
            case UmsStatus.NOTIFY_BAD_SIGNATURE: return "bad_signature";
            case UmsStatus.NOTIFY_MISSING_SIGN: return "missing_sign";
            case UmsStatus.NOTIFY_UNKNOWN_SIGN_TYPE: return "unknown_sign_type";
            case UmsStatus.NOTIFY_DUPLICATE_FIELD: return "duplicate_field";
            case UmsStatus.NOTIFY_MALFORMED: return "malformed";
            default: return "invalid";
        }
    }
}
