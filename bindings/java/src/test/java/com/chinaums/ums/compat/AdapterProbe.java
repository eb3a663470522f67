package com.chinaums.ums.compat;

import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;

/**
 * Runs the adapter in a JVM of its own, so the tests can give it UMS_*
 * environment variables (a JVM cannot change its own):
 *
 * <pre>AdapterProbe URL APP_ID APP_KEY [REQUEST_JSON]</pre>
 *
 * builds the official sample's context ("-" leaves appId / appKey out),
 * selects token mode with OpenApiCache.getCurrentToken, prints
 * {@code info <the client's info>}, then, with a request,
 * {@code answer <doPost's answer>}. A UmsException prints
 * {@code error <class> <field> <message>} and exits 1.
 */
public final class AdapterProbe {
    private AdapterProbe() {
    }

    public static void main(String[] args) throws Exception {
        OpenApiContext context = AdapterTests.sampleContext(args[0], dash(args[1]), dash(args[2]));
        try {
            OpenApiCache.getCurrentToken(context);
            UmsClient client = Adapter.client(Adapter.resolve(context));
            System.out.println("info " + client.getInfo());
            if (args.length > 3) {
                System.out.println("answer " + HttpTransport.getInstance().doPost(context, args[3]));
            }
        } catch (UmsException e) {
            System.out.println("error " + e.getClass().getSimpleName() + " " + e.getField() + " " + e.getMessage());
            System.exit(1);
        } finally {
            OpenApiCache.clear();
        }
    }

    private static String dash(String s) {
        return "-".equals(s) ? null : s;
    }
}
