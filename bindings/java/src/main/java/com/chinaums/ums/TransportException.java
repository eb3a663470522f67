package com.chinaums.ums;

import java.util.Map;

/** UMS_ERR_CONNECT: no connection to the gateway could be made. Nothing was sent. */
public class TransportException extends UmsException {
    private static final long serialVersionUID = 1L;

    public TransportException(int status, String message, Map<String, Object> document) {
        super(status, message, document);
    }
}
