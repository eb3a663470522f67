package com.chinaums.ums;

import java.util.Map;

/**
 * A notification that must not be trusted: UMS_ERR_NOTIFY_BAD_SIGNATURE,
 * _MISSING_SIGN, _UNKNOWN_SIGN_TYPE, _DUPLICATE_FIELD or _MALFORMED.
 * Answer ChinaUMS {@code Ums.notifyReply(false)} ("FAILED").
 */
public class NotificationException extends UmsException {
    private static final long serialVersionUID = 1L;

    public NotificationException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }

    /** "BAD_SIGNATURE", "MISSING_SIGN", "UNKNOWN_SIGN_TYPE", "DUPLICATE_FIELD" or "MALFORMED". */
    public String getReason() {
        String name = getStatusName();
        String prefix = "UMS_ERR_NOTIFY_";
        return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    }
}
