package com.chinaums.ums.compat;

/**
 * The official SDK's ConfigBean call shape ({@code new ConfigBean()}, passed to
 * {@code OpenApiContext.setConfigBean}). Everything works with the defaults;
 * the optional timeouts map to the libums configuration keys of the same name.
 */
public class ConfigBean {
    private Integer connectTimeoutMs;
    private Integer timeoutMs;

    public ConfigBean() {
    }

    /** Connection set-up limit in ms (libums {@code connectTimeoutMs}); null = default 5000. */
    public Integer getConnectTimeoutMs() {
        return connectTimeoutMs;
    }

    public void setConnectTimeoutMs(Integer connectTimeoutMs) {
        this.connectTimeoutMs = connectTimeoutMs;
    }

    /** Overall limit per request in ms (libums {@code timeoutMs}); null = default 30000. */
    public Integer getTimeoutMs() {
        return timeoutMs;
    }

    public void setTimeoutMs(Integer timeoutMs) {
        this.timeoutMs = timeoutMs;
    }
}
