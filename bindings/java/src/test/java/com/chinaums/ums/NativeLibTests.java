package com.chinaums.ums;

import com.chinaums.ums.tests.T;

/** Package-private parts of the binding (same package, test tree). */
public final class NativeLibTests {
    private NativeLibTests() {
    }

    public static void testVersionCheckNeedsSameMajorMinor() {
        T.check(NativeLib.versionMatches("0.1.0"), "0.1.0");
        T.check(NativeLib.versionMatches("0.1.17"), "0.1.17");
        T.check(NativeLib.versionMatches("0.1"), "0.1");
        T.check(!NativeLib.versionMatches("0.10.0"), "0.10.0 is another minor");
        T.check(!NativeLib.versionMatches("0.2.0"), "0.2.0");
        T.check(!NativeLib.versionMatches("1.1.0"), "1.1.0");
        T.check(!NativeLib.versionMatches(""), "empty");
    }

    /** The glue reports a document it could not deliver as an InternalException. */
    public static void testEmptyDocumentBecomesInternalException() {
        UmsException e = UmsException.fromDocument(UmsStatus.BUFFER_TOO_SMALL, "");
        T.eq(InternalException.class, e.getClass(), "class");
        T.contains(e.getMessage(), "buffer", "message");
    }

    public static void testTextConversionRefusesWhatCIsCannotCarry() throws Exception {
        T.eq(6, Text.utf8("鸡蛋", "x").length, "UTF-8, not modified UTF-8");
        T.eq(4, Text.utf8("😀", "x").length, "a supplementary character is 4 bytes");
        T.check(Text.utf8OrNull(null, "x") == null, "optional null stays null");
    }
}
