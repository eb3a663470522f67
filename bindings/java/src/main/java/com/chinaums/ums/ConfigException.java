package com.chinaums.ums;

import java.util.Map;

/** UMS_ERR_CONFIG: the client configuration is invalid; getField() names the key. Nothing was sent (phase "local"). */
public class ConfigException extends UmsException {
    private static final long serialVersionUID = 1L;

    public ConfigException(int status, String message, Map<String, Object> document) {
        super(status, message, withLocalDefaults(document));
    }
}
