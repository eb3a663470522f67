package com.chinaums.ums;

import java.util.Map;

/**
 * UMS_ERR_VALIDATION (a request field breaks a rule; getField() names it),
 * and the argument errors UMS_ERR_INVALID_JSON, UMS_ERR_INVALID_UTF8,
 * UMS_ERR_INVALID_ARGUMENT, UMS_ERR_NULL_POINTER. Nothing was sent (phase
 * "local").
 */
public class ValidationException extends UmsException {
    private static final long serialVersionUID = 1L;

    public ValidationException(int status, String message, Map<String, Object> document) {
        super(status, message, withLocalDefaults(document));
    }
}
