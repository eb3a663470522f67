package com.chinaums.ums.compat;

import com.chinaums.ums.ConfigException;
import com.chinaums.ums.GatewayRejectedException;
import com.chinaums.ums.OperationFailedException;
import com.chinaums.ums.PendingException;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.UmsStatus;
import com.chinaums.ums.ValidationException;
import com.chinaums.ums.internal.Json;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the official call shapes turn into: a libums configuration derived
 * from the context, one cached UmsClient per configuration, and the call
 * itself.
 *
 * <p>The configuration has {@code "fromEnvironment": true}: libums fills every
 * key it leaves out from the key's UMS_* variable (UMS_ENVIRONMENT,
 * UMS_APP_ID, UMS_APP_KEY, UMS_MID, UMS_TIMEOUT_MS, ...) and refuses a
 * variable that contradicts a key it gives (ConfigException naming the key).
 * The adapter itself reads no variable. It gives the context's appId and
 * appKey (when not empty), auth, the ConfigBean's timeouts and the gateway:
 * a URL on an official host (https://api-mop.chinaums.com, the samples' URL,
 * and https://test-api-open.chinaums.com), or no URL at all (the official
 * SDK's built-in production), only implies one and is given as libums's
 * {@code "environmentDefault"}: it applies when UMS_ENVIRONMENT is unset,
 * and UMS_ENVIRONMENT may replace it only with a loopback http:// URL (the
 * ums-sandbox simulator), so the samples run against the simulator without
 * editing them; any other UMS_ENVIRONMENT is a ConfigException naming
 * {@code environment}. Any other URL is the {@code environment} itself.
 */
final class Adapter {
    static final String PRODUCTION_HOST = "api-mop.chinaums.com";
    static final String TEST_HOST = "test-api-open.chinaums.com";
    /** The official SDK's gateway when the context has no URL. */
    static final String SDK_DEFAULT = "production";

    // One client per configuration, shared by every thread (clients are
    // thread-safe and keep the token cache and connection pool).
    private static final Map<String, UmsClient> CLIENTS = new HashMap<String, UmsClient>();

    private Adapter() {
    }

    /** The libums configuration and service path a context stands for. */
    static final class Settings {
        final Map<String, Object> config = new LinkedHashMap<String, Object>();
        String servicePath;
        String cacheKey;
    }

    static void requireContext(OpenApiContext context) throws ValidationException {
        if (context == null) {
            throw validation(UmsStatus.NULL_POINTER, "argument `context` is null", "context");
        }
    }

    static Settings resolve(OpenApiContext context) throws UmsException {
        requireContext(context);
        Settings s = new Settings();
        s.config.put("fromEnvironment", Boolean.TRUE);

        String url = nonEmpty(context.getOpenServUrl()) ? context.getOpenServUrl()
                : context.getApiServiceUrl();
        // The gateway the code implies (libums's "environmentDefault"), or
        // the one it names ("environment").
        String implied = SDK_DEFAULT;
        if (nonEmpty(url)) {
            String base = baseOf(url);
            implied = defaultEnvironment(base);
            if (implied == null) {
                s.config.put("environment", base);
            }
        }
        if (implied != null) {
            s.config.put("environmentDefault", implied);
        }

        if (nonEmpty(context.getAppId())) {
            s.config.put("appId", context.getAppId());
        }
        if (nonEmpty(context.getAppKey())) {
            s.config.put("appKey", context.getAppKey());
        }
        s.config.put("auth", context.isNeedToken() ? "token" : "body-sig");
        ConfigBean bean = context.getConfigBean();
        if (bean != null) {
            if (bean.getConnectTimeoutMs() != null) {
                s.config.put("connectTimeoutMs", bean.getConnectTimeoutMs());
            }
            if (bean.getTimeoutMs() != null) {
                s.config.put("timeoutMs", bean.getTimeoutMs());
            }
        }
        s.servicePath = servicePath(context);

        // The key names the configuration without holding the appKey itself.
        Map<String, Object> keyed = new LinkedHashMap<String, Object>(s.config);
        if (keyed.containsKey("appKey")) {
            keyed.put("appKey", sha256Hex((String) keyed.get("appKey")));
        }
        s.cacheKey = Json.write(keyed);
        return s;
    }

    /** The scheme, host and port of a URL: "https://host[:port]". */
    static String baseOf(String url) throws ConfigException {
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (URISyntaxException e) {
            throw config("openServUrl is not a URL", "openServUrl");
        }
        String host = uri.getHost();
        if (host == null || uri.getScheme() == null) {
            throw config("openServUrl has no scheme or host", "openServUrl");
        }
        String hostPart = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + hostPart
                + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
    }

    /**
     * "production" for https://api-mop.chinaums.com, "test" for
     * https://test-api-open.chinaums.com (no port): the environment they
     * imply, given to libums as "environmentDefault". Null for any other base
     * URL, which is then the environment itself.
     */
    static String defaultEnvironment(String base) {
        if (base.equalsIgnoreCase("https://" + PRODUCTION_HOST)) {
            return "production";
        }
        if (base.equalsIgnoreCase("https://" + TEST_HOST)) {
            return "test";
        }
        return null;
    }

    /** The /v1/... path: apiServiceUrl's path, else "/" + version + serviceCode. */
    static String servicePath(OpenApiContext context) throws ValidationException {
        String path = null;
        if (nonEmpty(context.getApiServiceUrl())) {
            try {
                path = new URI(context.getApiServiceUrl().trim()).getPath();
            } catch (URISyntaxException e) {
                throw validation(UmsStatus.INVALID_ARGUMENT, "apiServiceUrl is not a URL",
                        "apiServiceUrl");
            }
        } else if (nonEmpty(context.getVersion()) && nonEmpty(context.getServiceCode())) {
            String code = context.getServiceCode();
            path = "/" + context.getVersion() + (code.startsWith("/") ? code : "/" + code);
        }
        if (path == null || !path.startsWith("/v")) {
            throw validation(UmsStatus.INVALID_ARGUMENT,
                    "the context names no /v1/... service (apiServiceUrl, or version and serviceCode)",
                    "apiServiceUrl");
        }
        return path;
    }

    /**
     * The cached client for these settings, created on first use (libums
     * reads the UMS_* variables then, and applies "environmentDefault").
     */
    static UmsClient client(Settings s) throws UmsException {
        synchronized (CLIENTS) {
            UmsClient client = CLIENTS.get(s.cacheKey);
            if (client == null) {
                client = new UmsClient(s.config);
                CLIENTS.put(s.cacheKey, client);
            }
            return client;
        }
    }

    static int cachedClients() {
        synchronized (CLIENTS) {
            return CLIENTS.size();
        }
    }

    static void clear() {
        synchronized (CLIENTS) {
            for (UmsClient c : CLIENTS.values()) {
                c.close(); // waits for calls still running on it
            }
            CLIENTS.clear();
        }
    }

    static String doPost(OpenApiContext context, String request) throws UmsException {
        Settings s = resolve(context);
        if (request == null) {
            throw validation(UmsStatus.NULL_POINTER, "argument `request` is null", "request");
        }
        UmsClient client = client(s);
        String body = context.isNeedDataTag() ? "{\"data\":" + request + "}" : request;
        try {
            return client.call(s.servicePath, body);
        } catch (GatewayRejectedException e) {
            // The official SDK hands back whatever the gateway answered; a
            // refusal without an answer (e.g. no token could be fetched) is
            // a local failure and stays an exception.
            return answerOf(e);
        } catch (PendingException e) {
            // errCode SUCCESS with a state that is not final (refundStatus
            // PROCESSING, UNKNOWN): the SDK's caller reads that state itself.
            return answerOf(e);
        } catch (OperationFailedException e) {
            return answerOf(e); // errCode SUCCESS, refundStatus FAIL
        }
    }

    /** The gateway's answer carried by an exception, or the exception when there is none. */
    private static String answerOf(UmsException e) throws UmsException {
        Map<String, Object> response = e.getResponse();
        if (response == null) {
            throw e;
        }
        return Json.write(response);
    }

    private static boolean nonEmpty(String s) {
        return s != null && !s.trim().isEmpty();
    }

    private static Map<String, Object> doc(int status, String kind, String message, String field) {
        Map<String, Object> doc = new LinkedHashMap<String, Object>();
        doc.put("status", UmsStatus.name(status));
        doc.put("kind", kind);
        doc.put("message", message);
        doc.put("field", field);
        doc.put("outcomeUnknown", Boolean.FALSE);
        doc.put("nothingSent", Boolean.TRUE);
        doc.put("phase", "local");
        return doc;
    }

    private static ConfigException config(String message, String field) {
        return new ConfigException(UmsStatus.CONFIG, message,
                doc(UmsStatus.CONFIG, "config", message, field));
    }

    private static ValidationException validation(int status, String message, String field) {
        return new ValidationException(status, message,
                doc(status, status == UmsStatus.NULL_POINTER ? "null_pointer" : "invalid_argument",
                        message, field));
    }

    private static String sha256Hex(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder();
            for (byte b : d) {
                sb.append(String.format("%02x", b & 0xff));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
