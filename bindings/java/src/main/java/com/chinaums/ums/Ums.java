package com.chinaums.ums;

import java.util.Arrays;
import java.util.Map;

/** Library-wide functions: version, notification verification and reply, logging. */
public final class Ums {
    /** Log levels for {@link #setLogListener(UmsLogListener, int)} (the header's UMS_LOG_*). */
    public static final int LOG_ERROR = 1;
    public static final int LOG_WARN = 2;
    public static final int LOG_INFO = 3;
    public static final int LOG_DEBUG = 4;

    private static volatile UmsLogListener logListener;

    private Ums() {
    }

    /**
     * Forwards libums's log lines up to {@code maxLevel} to {@code listener},
     * process-wide, replacing any previous listener. Lines carry paths,
     * statuses, errCodes and durations, never keys, signatures, tokens,
     * bodies or real-name values. The listener runs on the thread that
     * logged, with no library lock held: it may itself call
     * {@code setLogListener}, {@link #clearLogListener()} or run a call (guard
     * against recursion: that call logs too). What it throws is swallowed.
     *
     * @throws ValidationException maxLevel is not LOG_ERROR..LOG_DEBUG, or listener is null
     */
    public static synchronized void setLogListener(UmsLogListener listener, int maxLevel)
            throws ValidationException {
        NativeLib.ensureLoaded();
        if (listener == null) {
            throw (ValidationException) UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `listener` is null (use clearLogListener)", "listener");
        }
        if (maxLevel < LOG_ERROR || maxLevel > LOG_DEBUG) {
            throw (ValidationException) UmsException.local(UmsStatus.INVALID_ARGUMENT,
                    "invalid_argument", "argument `maxLevel` must be 1..4, got " + maxLevel, "maxLevel");
        }
        logListener = listener; // before the trampoline can deliver a line
        int status = NativeLib.setLogCallback(true, maxLevel);
        if (status != UmsStatus.OK) {
            NativeLib.setLogCallback(false, LOG_ERROR);
            logListener = null;
            throw (ValidationException) UmsException.local(UmsStatus.INVALID_ARGUMENT,
                    "invalid_argument", "ums_set_log_callback refused the level " + maxLevel
                    + " (" + UmsStatus.name(status) + ")", "maxLevel");
        }
    }

    /** Stops forwarding log lines. Idempotent. */
    public static synchronized void clearLogListener() {
        NativeLib.ensureLoaded();
        NativeLib.setLogCallback(false, LOG_ERROR);
        logListener = null;
    }

    static void dispatchLog(int level, byte[] message) {
        UmsLogListener listener = logListener;
        if (listener == null) {
            return;
        }
        try {
            listener.log(level, Text.string(message));
        } catch (Throwable t) {
            // Nothing may unwind through libums.
        }
    }

    /** The version of the loaded libums, e.g. "0.1.0" (checked to be 0.1.x at load). */
    public static String version() {
        NativeLib.ensureLoaded();
        return Text.string(NativeLib.version());
    }

    /** The library's description of a status, e.g. for logs. */
    public static String statusDescription(int status) {
        NativeLib.ensureLoaded();
        return Text.string(NativeLib.statusStr(status));
    }

    /**
     * The text to answer a notification with: "SUCCESS" once it is verified
     * and processed (ChinaUMS stops retrying), "FAILED" otherwise.
     */
    public static String notifyReply(boolean handled) {
        NativeLib.ensureLoaded();
        return Text.string(NativeLib.notifyReply(handled));
    }

    /**
     * Verifies a payment notification. {@code rawBody} is the form body
     * exactly as received (not re-encoded). Returns
     * {@code {"valid":true,"signType":..,"notifyId":..,"fields":{..}}}; a forged
     * or damaged notification throws {@link NotificationException}.
     */
    public static String verifyNotify(String notifyKey, byte[] rawBody) throws UmsException {
        byte[] key = Text.utf8(notifyKey, "notifyKey");
        try {
            return verifyNotify(key, rawBody, "rawBody");
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /**
     * Same, with the key as UTF-8 bytes so the caller can keep it out of
     * Strings and wipe it afterwards (this method does not modify it).
     */
    public static String verifyNotify(byte[] notifyKey, byte[] rawBody) throws UmsException {
        if (notifyKey == null) {
            throw UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `notifyKey` is null", "notifyKey");
        }
        for (byte b : notifyKey) {
            if (b == 0) {
                throw UmsException.local(UmsStatus.INVALID_ARGUMENT, "invalid_argument",
                        "argument `notifyKey` contains a NUL byte", "notifyKey");
            }
        }
        return verifyNotify(notifyKey, rawBody, "rawBody");
    }

    /** {@link #verifyNotify(String, byte[])} with the result parsed. */
    public static Map<String, Object> verifyNotifyMap(String notifyKey, byte[] rawBody)
            throws UmsException {
        return Text.object(verifyNotify(notifyKey, rawBody));
    }

    static String verifyNotify(byte[] key, byte[] rawBody, String bodyName) throws UmsException {
        NativeLib.ensureLoaded();
        if (rawBody == null) {
            throw UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `" + bodyName + "` is null", bodyName);
        }
        int[] status = new int[1];
        byte[] doc = NativeLib.verifyNotify(key, rawBody, status);
        return Text.check(status[0], doc);
    }
}
