package com.chinaums.ums;

/**
 * Receives libums's log lines (see {@link Ums#setLogListener(UmsLogListener, int)}):
 * paths, statuses, errCodes and durations, never keys, signatures, tokens,
 * bodies or real-name values.
 */
public interface UmsLogListener {
    /**
     * One log line. Runs on the thread that logged (normally inside the
     * {@link UmsClient} call), with no library lock held: it may call back
     * into the binding (install another listener, run a call), but must guard
     * against recursion itself, since a call made here logs too. What it
     * throws is swallowed.
     *
     * @param level {@link Ums#LOG_ERROR} .. {@link Ums#LOG_DEBUG}
     */
    void log(int level, String message);
}
