package com.chinaums.ums;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A call on a {@link UmsClient} after {@link UmsClient#close()}: kind
 * "client_closed", status UMS_ERR_NULL_POINTER (the library would have been
 * handed no client), phase "local", nothing sent. A
 * {@link ValidationException}, like in the Python (ClientClosedError) and
 * PHP bindings.
 */
public class ClientClosedException extends ValidationException {
    private static final long serialVersionUID = 1L;

    private static final String MESSAGE = "the client is closed";

    public ClientClosedException() {
        super(UmsStatus.NULL_POINTER, MESSAGE, document());
    }

    private static Map<String, Object> document() {
        Map<String, Object> doc = new LinkedHashMap<String, Object>();
        doc.put("status", UmsStatus.name(UmsStatus.NULL_POINTER));
        doc.put("kind", "client_closed");
        doc.put("message", MESSAGE);
        doc.put("outcomeUnknown", Boolean.FALSE);
        doc.put("nothingSent", Boolean.TRUE);
        doc.put("phase", "local");
        return doc;
    }
}
