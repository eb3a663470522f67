package com.chinaums.ums;

import java.util.Map;

/**
 * UMS_ERR_ANSWER_GONE: the answer of a request that reached the gateway could
 * not be delivered. The library kept it because it did not fit the output
 * buffer, and it expired (120 s), was evicted or was already taken. The
 * request was NOT sent again, so its outcome is unknown to you: like any
 * {@link OutcomeUnknownException}, query the bill before deciding, never
 * resend.
 *
 * <p>The binding takes kept answers itself, at once, so this is rare; it is
 * also what {@link UmsClient#takeAnswer(String)} throws for an unknown id.
 */
public class AnswerGoneException extends OutcomeUnknownException {
    private static final long serialVersionUID = 1L;

    public AnswerGoneException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
