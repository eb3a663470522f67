package com.chinaums.ums;

import java.util.Map;

/** UMS_ERR_OUTCOME_UNKNOWN: the request may have been processed. Money may have moved: query the bill, never resend. */
public class OutcomeUnknownException extends UmsException {
    private static final long serialVersionUID = 1L;

    public OutcomeUnknownException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
