package com.chinaums.ums;

import java.util.Map;

/**
 * UMS_ERR_OPERATION_FAILED: the gateway processed the request and reports a
 * final failure, e.g. a refund whose refundStatus is FAIL. Nothing moved; a
 * new request (with a new identifier) may be sent.
 *
 * <p>{@link #getStateField()} names the answer's state field
 * ("refundStatus"), {@link #getState()} its value ("FAIL"),
 * {@link #getResponse()} is the gateway's whole answer.
 */
public class OperationFailedException extends UmsException {
    private static final long serialVersionUID = 1L;

    public OperationFailedException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
