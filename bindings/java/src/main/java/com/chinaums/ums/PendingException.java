package com.chinaums.ums;

import java.util.Map;

/**
 * UMS_ERR_PENDING: the gateway accepted the request (errCode SUCCESS) but its
 * effect is not final yet, e.g. a refund whose refundStatus is PROCESSING or
 * UNKNOWN. No money has settled for sure: query the bill ({@code queryBill},
 * with the refundOrderId for a refund) until the state is final; never resend.
 *
 * <p>{@link #getStateField()} names the answer's state field
 * ("refundStatus"), {@link #getState()} its value ("PROCESSING"),
 * {@link #getResponse()} is the gateway's whole answer.
 */
public class PendingException extends UmsException {
    private static final long serialVersionUID = 1L;

    public PendingException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
