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
     *
     * <p>The client is configured from the context and, for every key the
     * context does not give, from the UMS_* environment variables
     * (libums's {@code "fromEnvironment"}); a variable that contradicts the
     * context is a ConfigException naming the key. The official hosts
     * (api-mop, test-api-open) in the URL only imply production and test
     * (libums's "environmentDefault"): UMS_ENVIRONMENT may replace them with
     * the ums-sandbox simulator's http://127.0.0.1:PORT, and with nothing
     * else (a ConfigException naming environment).
     */
    public String doPost(OpenApiContext context, String request) throws UmsException {
        return Adapter.doPost(context, request);
    }
}
