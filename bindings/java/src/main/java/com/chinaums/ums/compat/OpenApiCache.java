package com.chinaums.ums.compat;

import com.chinaums.ums.UmsException;

/**
 * The official SDK's OpenApiCache call shape. Token fetching and caching are
 * done by libums (one token per client, refreshed before it expires, single
 * flight), so this only selects token mode and prepares the shared client.
 */
public final class OpenApiCache {
    private OpenApiCache() {
    }

    /**
     * Selects OPEN-ACCESS-TOKEN mode for this context and creates (or reuses)
     * the client it will use, so a bad URL, credentials or configuration fail
     * here. The token itself is fetched by the library on the first call and
     * never handed to Java.
     *
     * @throws com.chinaums.ums.ConfigException a bad URL or configuration
     */
    public static void getCurrentToken(OpenApiContext context) throws UmsException {
        Adapter.requireContext(context);
        context.setNeedToken(true);
        Adapter.client(Adapter.resolve(context));
    }

    /** Closes and forgets every client the adapter created (e.g. at shutdown). */
    public static void clear() {
        Adapter.clear();
    }
}
