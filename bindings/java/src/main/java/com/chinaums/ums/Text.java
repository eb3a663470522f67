package com.chinaums.ums;

import com.chinaums.ums.internal.Json;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/** Argument conversion: Java text to the UTF-8 bytes libums expects, and back. */
final class Text {
    private Text() {
    }

    /**
     * The UTF-8 bytes of a required text argument. The library wants
     * NUL-terminated C strings, so an embedded NUL would silently cut the
     * text: refused here. A lone surrogate has no UTF-8 form: refused too
     * (String.getBytes would quietly turn it into '?').
     */
    static byte[] utf8(String s, String name) throws ValidationException {
        if (s == null) {
            throw (ValidationException) UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `" + name + "` is null", name);
        }
        return utf8OrNull(s, name);
    }

    /** Like utf8, but null stays null (optional timestamp and nonce). */
    static byte[] utf8OrNull(String s, String name) throws ValidationException {
        if (s == null) {
            return null;
        }
        if (s.indexOf('\0') >= 0) {
            throw (ValidationException) UmsException.local(UmsStatus.INVALID_ARGUMENT,
                    "invalid_argument", "argument `" + name + "` contains a NUL character", name);
        }
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            ByteBuffer buf = encoder.encode(CharBuffer.wrap(s));
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            if (buf.hasArray()) {
                Arrays.fill(buf.array(), (byte) 0); // may hold a key or real-name values
            }
            return out;
        } catch (CharacterCodingException e) {
            throw (ValidationException) UmsException.local(UmsStatus.INVALID_UTF8, "invalid_utf8",
                    "argument `" + name + "` is not valid Unicode text (lone surrogate)", name);
        }
    }

    /** The JSON text of a Map request, as a ValidationException when it cannot be written. */
    static String json(Map<String, Object> map, String name) throws ValidationException {
        if (map == null) {
            throw (ValidationException) UmsException.local(UmsStatus.NULL_POINTER, "null_pointer",
                    "argument `" + name + "` is null", name);
        }
        try {
            return Json.write(map);
        } catch (IllegalArgumentException e) {
            throw (ValidationException) UmsException.local(UmsStatus.INVALID_JSON, "invalid_json",
                    "argument `" + name + "`: " + e.getMessage(), name);
        }
    }

    /** Parses a result document the library produced (always a JSON object). */
    static Map<String, Object> object(String json) throws InternalException {
        try {
            return Json.parseObject(json);
        } catch (IllegalArgumentException e) {
            throw (InternalException) UmsException.local(UmsStatus.INTERNAL, "internal",
                    "the library returned a document that is not a JSON object", null);
        }
    }

    static String string(byte[] utf8) {
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /** The document on UMS_OK, else the matching exception. */
    static String check(int status, byte[] doc) throws UmsException {
        if (doc == null) {
            // The glue returns null only with a pending Java exception, which
            // the JVM throws before we get here; this is a safety net.
            throw UmsException.local(UmsStatus.INTERNAL, "internal",
                    "the JNI glue returned no document", null);
        }
        String text = string(doc);
        if (status != UmsStatus.OK) {
            throw UmsException.fromDocument(status, text);
        }
        return text;
    }
}
