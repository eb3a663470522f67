package com.chinaums.ums;

import java.util.Map;

/** UMS_ERR_TLS: the TLS handshake failed (unknown CA, expired certificate, wrong host). Nothing was sent. */
public class TlsException extends TransportException {
    private static final long serialVersionUID = 1L;

    public TlsException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
