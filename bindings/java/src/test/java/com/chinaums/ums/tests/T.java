package com.chinaums.ums.tests;

import java.util.Objects;

/** Assertions for the self-contained test runner. */
public final class T {
    private T() {
    }

    /** A test body that may throw anything. */
    public interface Body {
        void run() throws Exception;
    }

    public static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    public static void eq(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but got <" + actual + ">");
        }
    }

    public static void contains(String haystack, String needle, String what) {
        if (haystack == null || !haystack.contains(needle)) {
            throw new AssertionError(what + ": <" + haystack + "> does not contain <" + needle + ">");
        }
    }

    public static void lacks(String haystack, String needle, String what) {
        if (haystack != null && haystack.contains(needle)) {
            throw new AssertionError(what + ": must not contain <" + needle + ">");
        }
    }

    /** Runs body, which must throw exactly type (not a subclass); returns the exception. */
    public static <E extends Throwable> E expect(Class<E> type, Body body) {
        try {
            body.run();
        } catch (Throwable e) {
            if (e.getClass() == type) {
                return type.cast(e);
            }
            AssertionError failure = new AssertionError("expected " + type.getSimpleName()
                    + " but got " + e.getClass().getName() + ": " + e.getMessage());
            failure.initCause(e);
            throw failure;
        }
        throw new AssertionError("expected " + type.getSimpleName() + " but nothing was thrown");
    }
}
