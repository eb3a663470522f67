package com.chinaums.ums;

import java.util.Map;

/** UMS_ERR_INTERNAL, UMS_ERR_PANIC or anything unexpected: a bug, never a caller error. */
public class InternalException extends UmsException {
    private static final long serialVersionUID = 1L;

    public InternalException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
