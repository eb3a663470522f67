package com.chinaums.ums.compat;

import com.chinaums.ums.UmsException;

/**
 * The official SDK's HttpTransport call shape:
 * {@code HttpTransport.getInstance().doPost(context, requestJson)}.
 */
public final class HttpTransport {
    private static final HttpTransport INSTANCE = new HttpTransport();

    private HttpTransport() {
    }

    public static HttpTransport getInstance() {
        return INSTANCE;
    }

    /**
     * Sends the request to the context's service through libums and returns
     * the gateway's JSON answer. As with the official SDK, a gateway answer is
     * returned even when it is a refusal (errCode other than SUCCESS: check it;
     * the text is the answer re-serialised from the library's error document),
     * and when its state is not final or failed (a refund with refundStatus
     * PROCESSING, UNKNOWN or FAIL, which UmsClient throws as PendingException /
     * OperationFailedException: check that state, as with the official SDK).
     * Failures with no answer to return are thrown:
     * GatewayRejectedException without a response (token refused or not fetched),
     * ValidationException (bad field, nothing sent), ConfigException,
     * TransportException/TlsException (nothing sent) and
     * OutcomeUnknownException (the request may have been processed: query the
     * bill, never resend).
     */
    public String doPost(OpenApiContext context, String request) throws UmsException {
        return Adapter.doPost(context, request, Adapter.SYSTEM_ENV);
    }
}
