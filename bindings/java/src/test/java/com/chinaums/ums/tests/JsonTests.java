package com.chinaums.ums.tests;

import com.chinaums.ums.internal.Json;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The minimal JSON reader/writer behind the Map overloads. */
public final class JsonTests {
    private JsonTests() {
    }

    public static void testParsesEveryValueType() {
        Map<String, Object> m = Json.parseObject(
                " {\"i\":-12,\"d\":2.5e3,\"t\":true,\"f\":false,\"n\":null,\"s\":\"x\",\"a\":[1,[]],\"o\":{}} ");
        T.eq(Long.valueOf(-12), m.get("i"), "integer as Long");
        T.eq(new BigDecimal("2.5e3"), m.get("d"), "fraction/exponent as BigDecimal");
        T.eq(Boolean.TRUE, m.get("t"), "true");
        T.eq(Boolean.FALSE, m.get("f"), "false");
        T.check(m.containsKey("n") && m.get("n") == null, "null kept as a null value");
        T.eq("x", m.get("s"), "string");
        T.eq(Arrays.asList(Long.valueOf(1), new ArrayList<Object>()), m.get("a"), "array");
        T.eq(new LinkedHashMap<String, Object>(), m.get("o"), "empty object");
        T.eq(Arrays.asList("i", "d", "t", "f", "n", "s", "a", "o"), new ArrayList<String>(m.keySet()),
                "document order kept");
    }

    public static void testStringEscapes() {
        T.eq("\"\\/\b\f\n\r\t中", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u4e2d\""), "escapes");
        String s = (String) Json.parse("\"\\ud83d\\ude00 \\uD83D\\uDE00\"");
        T.eq(0x1F600, s.codePointAt(0), "surrogate pair escape rebuilds U+1F600");
        T.eq("😀 😀", s, "both cases of hex digits");
        T.eq("😀", Json.parse("\"😀\""), "raw supplementary character");
    }

    public static void testIntegersBeyondLongBecomeBigDecimal() {
        T.eq(Long.valueOf(Long.MAX_VALUE), Json.parse("9223372036854775807"), "max long");
        T.eq(Long.valueOf(Long.MIN_VALUE), Json.parse("-9223372036854775808"), "min long");
        T.eq(new BigDecimal("9223372036854775808"), Json.parse("9223372036854775808"), "max long + 1");
    }

    public static void testRejectsMalformedJson() {
        String[] bad = {"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{a:1}", "[1,]", "[1 2]", "01", "1.",
            ".5", "-", "1e", "+1", "\"abc", "\"\u0001\"", "\"\\x\"", "\"\\u12\"", "tru", "nul",
            "{\"a\":1}x", "[] []", "NaN", "'a'", "{\"a\":1,}"};
        for (final String text : bad) {
            T.expect(IllegalArgumentException.class, new T.Body() {
                @Override
                public void run() {
                    Json.parse(text);
                }
            });
        }
        T.expect(IllegalArgumentException.class, new T.Body() {
            @Override
            public void run() {
                Json.parseObject("[1]");
            }
        });
    }

    public static void testDeepNestingIsAnErrorNotAStackOverflow() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 100000; i++) {
            sb.append('[');
        }
        final String deep = sb.toString();
        T.expect(IllegalArgumentException.class, new T.Body() {
            @Override
            public void run() {
                Json.parse(deep);
            }
        });
    }

    public static void testWriterEscapesAndKeepsUnicode() {
        T.eq("\"a\\u0001\\\"\\\\\\n中😀/\"", Json.write("a\u0001\"\\\n中😀/"), "escaped string");
        Map<String, Object> m = new LinkedHashMap<String, Object>();
        m.put("n", null);
        m.put("l", 26L);
        m.put("i", 7);
        m.put("d", 26.0);
        m.put("x", 0.5);
        m.put("b", new BigDecimal("1.10"));
        m.put("t", true);
        m.put("a", new Object[] {"x", 1});
        m.put("c", 'c');
        T.eq("{\"n\":null,\"l\":26,\"i\":7,\"d\":26,\"x\":0.5,\"b\":1.10,\"t\":true,\"a\":[\"x\",1],\"c\":\"c\"}",
                Json.write(m), "compact object");
    }

    public static void testWriterRejectsWhatJsonCannotHold() {
        final Object[] bad = {new Object(), Double.NaN, Double.POSITIVE_INFINITY,
            java.util.Collections.singletonMap(1, "x")};
        for (final Object v : bad) {
            T.expect(IllegalArgumentException.class, new T.Body() {
                @Override
                public void run() {
                    Json.write(v);
                }
            });
        }
        final List<Object> cyclic = new ArrayList<Object>();
        cyclic.add(cyclic);
        T.expect(IllegalArgumentException.class, new T.Body() {
            @Override
            public void run() {
                Json.write(cyclic);
            }
        });
    }

    public static void testRoundTrip() {
        String text = "{\"goods\":[{\"goodsName\":\"鸡蛋\",\"quantity\":10,\"price\":\"1\"}],"
                + "\"s\":\"\\\"q\\\" \\\\ \\u0007\",\"e\":\"😀\",\"big\":12345678901234567890,\"f\":-0.125}";
        Object parsed = Json.parse(text);
        T.eq(parsed, Json.parse(Json.write(parsed)), "parse(write(parse(x))) == parse(x)");
    }
}
