package com.chinaums.ums;

import java.util.Map;

/**
 * UMS_ERR_GATEWAY_REJECTED (the gateway refused the request: getErrCode(),
 * getErrMsg(), getHttpStatus(), getResponse()) and UMS_ERR_TOKEN_REJECTED
 * (the token endpoint refused to issue a token; the business request was not sent).
 */
public class GatewayRejectedException extends UmsException {
    private static final long serialVersionUID = 1L;

    public GatewayRejectedException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }

    /** True when it was the token endpoint that refused (UMS_ERR_TOKEN_REJECTED). */
    public boolean isTokenRejected() {
        return getStatus() == UmsStatus.TOKEN_REJECTED;
    }
}
