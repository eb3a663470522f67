package com.chinaums.ums;

import java.io.File;
import java.nio.charset.StandardCharsets;

/**
 * The native entry points of libumsjni.so and its loading. Package-private:
 * a raw handle passed to the wrong place would crash the JVM, so only
 * {@link UmsClient} and {@link Ums} call these, under their own checks.
 *
 * <p>All text goes in and out as UTF-8 {@code byte[]} (not JNI's modified
 * UTF-8); {@code status[0]} receives the library's UmsStatus and the returned
 * array is the library's JSON document.
 */
final class NativeLib {
    /** The library major.minor this binding was written for. */
    static final String EXPECTED_VERSION = "0.1";

    // The operation exports of ums.h, by name: operation() passes the name
    // and the glue looks the function up (no index to keep in step). The
    // tests check these against include/ums.h and the glue.
    static final String OP_GET_QRCODE = "ums_get_qrcode";
    static final String OP_UPDATE_QRCODE = "ums_update_qrcode";
    static final String OP_CLOSE_QRCODE = "ums_close_qrcode";
    static final String OP_QUERY_BILL = "ums_query_bill";
    static final String OP_REFUND = "ums_refund";
    static final String OP_QUERY_QRCODE_INFO = "ums_query_qrcode_info";
    static final String OP_PREAUTH_COMPLETE = "ums_preauth_complete";
    static final String OP_PREAUTH_CANCEL = "ums_preauth_cancel";
    static final String OP_SECURE_CANCEL = "ums_secure_cancel";
    static final String OP_SECURE_COMPLETE = "ums_secure_complete";

    /** Why loading failed, or null once the library is loaded and checked. */
    private static final String LOAD_ERROR = load();

    private NativeLib() {
    }

    /** Throws a descriptive UnsatisfiedLinkError unless the glue is usable. */
    static void ensureLoaded() {
        if (LOAD_ERROR != null) {
            throw new UnsatisfiedLinkError(LOAD_ERROR);
        }
    }

    /**
     * Loads the glue: -Dums.jni.library, else UMS_JNI_LIBRARY, else the
     * copies this jar carries for the platform (see {@link BundledNatives}),
     * else System.loadLibrary("umsjni") from java.library.path. Returns why
     * it failed, or null.
     */
    private static String load() {
        String property = System.getProperty("ums.jni.library");
        String env = System.getenv("UMS_JNI_LIBRARY");
        String where = "nowhere";
        try {
            if (property != null && !property.isEmpty()) {
                where = "system property ums.jni.library=" + property;
                System.load(new File(property).getAbsolutePath());
            } else if (env != null && !env.isEmpty()) {
                where = "environment variable UMS_JNI_LIBRARY=" + env;
                System.load(new File(env).getAbsolutePath());
            } else if (BundledNatives.present()) {
                where = "the jar's " + BundledNatives.folder();
                BundledNatives.load();
            } else {
                where = "System.loadLibrary(\"umsjni\") in java.library.path="
                        + System.getProperty("java.library.path")
                        + " (neither -Dums.jni.library nor UMS_JNI_LIBRARY is set, and no "
                        + BundledNatives.folder() + " in the class path)";
                System.loadLibrary("umsjni");
            }
        } catch (UnsatisfiedLinkError | SecurityException | java.io.IOException e) {
            return "cannot load the libums JNI glue libumsjni.so; looked at " + where + ": "
                    + e.getMessage()
                    + ". Use the chinaums jar built by `make java-jar` (it carries the glue and libums"
                    + " for linux-x86_64), or build the glue with bindings/java/run-tests.sh (see"
                    + " bindings/java/README.md) and point -Dums.jni.library=/path/to/libumsjni.so or"
                    + " UMS_JNI_LIBRARY at it.";
        }
        String version;
        try {
            version = new String(version(), StandardCharsets.UTF_8);
        } catch (UnsatisfiedLinkError e) {
            return "the loaded libumsjni.so does not export the expected functions (" + where + "): "
                    + e.getMessage();
        }
        if (!versionMatches(version)) {
            return "libums version " + version + " does not match this Java binding, which needs "
                    + EXPECTED_VERSION + ".x (loaded through " + where + ")";
        }
        return null;
    }

    /** True for "0.1" and "0.1.anything": same major.minor. */
    static boolean versionMatches(String version) {
        return version.equals(EXPECTED_VERSION) || version.startsWith(EXPECTED_VERSION + ".");
    }

    static native byte[] version();

    static native byte[] statusStr(int status);

    static native byte[] notifyReply(boolean handled);

    static native byte[] clientNew(byte[] config, long[] handleOut, int[] status);

    static native void clientFree(long handle);

    /** Runs an operation export by name (an OP_* value); IllegalArgumentException for any other name. */
    static byte[] operation(String export, long handle, byte[] request, int[] status) {
        return operation(export.getBytes(StandardCharsets.US_ASCII), handle, request, status);
    }

    static native byte[] operation(byte[] export, long handle, byte[] request, int[] status);

    static native byte[] call(long handle, byte[] path, byte[] request, int[] status);

    static native byte[] prepare(long handle, byte[] operation, byte[] request, byte[] timestamp,
            byte[] nonce, int[] status);

    static native byte[] newId(long handle, int[] status);

    static native byte[] signBody(long handle, byte[] body, byte[] timestamp, byte[] nonce,
            int[] status);

    static native byte[] tokenRequest(long handle, byte[] timestamp, byte[] nonce, int[] status);

    static native byte[] verifyNotify(byte[] key, byte[] body, int[] status);

    static native byte[] clientVerifyNotify(long handle, byte[] body, int[] status);

    static native byte[] takeAnswer(long handle, byte[] answerId, int[] status);

    static native byte[] notifyClaim(long handle, byte[] notifyId, int[] status);

    static native byte[] notifyRelease(long handle, byte[] notifyId, int[] status);

    static native byte[] resolve(long handle, byte[] input, int[] status);

    static native byte[] journalPending(long handle, int[] status);

    /** Installs (enabled) or removes the glue's log trampoline; returns the UmsStatus. */
    static native int setLogCallback(boolean enabled, int maxLevel);

    /** Called by the glue's log trampoline for each line (see Ums.setLogListener). */
    static void dispatchLog(int level, byte[] message) {
        Ums.dispatchLog(level, message);
    }
}
