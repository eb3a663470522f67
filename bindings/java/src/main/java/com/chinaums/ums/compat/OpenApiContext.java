package com.chinaums.ums.compat;

/**
 * The official SDK's OpenApiContext call shape: the sample's setters and
 * their getters. {@code needToken} is set by
 * {@link OpenApiCache#getCurrentToken(OpenApiContext)} (as in the official
 * SDK, where fetching a token is what selects token mode); {@code needDataTag}
 * (the Python/PHP samples' flag, default false) wraps the request as
 * {@code {"data": request}}.
 *
 * <p>toString() is not overridden, so the appKey never reaches a log through it.
 */
public class OpenApiContext {
    private long startTime;
    private String requestId;
    private String openServUrl;
    private String apiServiceUrl;
    private String version;
    private String appId;
    private String appKey;
    private ConfigBean configBean;
    private String serviceCode;
    private boolean needToken;
    private boolean needDataTag;

    public OpenApiContext() {
    }

    public long getStartTime() {
        return startTime;
    }

    public void setStartTime(long startTime) {
        this.startTime = startTime;
    }

    public String getRequestId() {
        return requestId;
    }

    public void setRequestId(String requestId) {
        this.requestId = requestId;
    }

    /**
     * Base URL, e.g. "https://api-mop.chinaums.com/". The two official hosts
     * (api-mop, test-api-open) imply production and test, which
     * UMS_ENVIRONMENT may replace only with a loopback URL (the ums-sandbox
     * simulator); any other URL is the environment itself. Without any URL,
     * production is implied, as by the official SDK.
     */
    public String getOpenServUrl() {
        return openServUrl;
    }

    public void setOpenServUrl(String openServUrl) {
        this.openServUrl = openServUrl;
    }

    /** Full URL of the service, e.g. ".../v1/netpay/bills/update-qrcode": its path is called. */
    public String getApiServiceUrl() {
        return apiServiceUrl;
    }

    public void setApiServiceUrl(String apiServiceUrl) {
        this.apiServiceUrl = apiServiceUrl;
    }

    public String getVersion() {
        return version;
    }

    public void setVersion(String version) {
        this.version = version;
    }

    public String getAppId() {
        return appId;
    }

    public void setAppId(String appId) {
        this.appId = appId;
    }

    public String getAppKey() {
        return appKey;
    }

    public void setAppKey(String appKey) {
        this.appKey = appKey;
    }

    public ConfigBean getConfigBean() {
        return configBean;
    }

    public void setConfigBean(ConfigBean configBean) {
        this.configBean = configBean;
    }

    /** e.g. "/netpay/bills/update-qrcode"; used with the version when apiServiceUrl is unset. */
    public String getServiceCode() {
        return serviceCode;
    }

    public void setServiceCode(String serviceCode) {
        this.serviceCode = serviceCode;
    }

    public boolean isNeedToken() {
        return needToken;
    }

    public void setNeedToken(boolean needToken) {
        this.needToken = needToken;
    }

    public boolean isNeedDataTag() {
        return needDataTag;
    }

    public void setNeedDataTag(boolean needDataTag) {
        this.needDataTag = needDataTag;
    }
}
