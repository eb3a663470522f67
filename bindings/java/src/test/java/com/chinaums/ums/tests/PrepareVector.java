package com.chinaums.ums.tests;

import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;

/**
 * Prints prepare() of the fixed cross-language request as one JSON line, for
 * the byte-identity check between the bindings.
 */
public final class PrepareVector {
    public static final String OPERATION = "update-qrcode";
    public static final String REQUEST = "{\"qrCodeId\":\"31942002267733902130410550\","
            + "\"billNo\":\"31940000000000000000000001\",\"billDate\":\"2026-01-02\",\"totalAmount\":\"26\","
            + "\"goods\":\"[{\\\"goodsId\\\":\\\"001\\\",\\\"goodsName\\\":\\\"鸡蛋\\\",\\\"quantity\\\":\\\"10\\\","
            + "\\\"price\\\":\\\"1\\\"}]\",\"name\":\"张*三\"}";
    public static final String CONFIG = "{\"environment\":\"https://gateway.invalid\","
            + "\"appId\":\"10037e6f66f2d0f901672aa27d690006\",\"appKey\":\"47ace12ae3b348fe93ab46cee97c6fde\","
            + "\"mid\":\"898340149000005\",\"tid\":\"00000001\"}";
    public static final String TIMESTAMP = "20260102030405";
    public static final String NONCE = "0123456789abcdef0123456789abcdef";

    private PrepareVector() {
    }

    public static String line() throws UmsException {
        try (UmsClient client = new UmsClient(CONFIG)) {
            return client.prepare(OPERATION, REQUEST, TIMESTAMP, NONCE);
        }
    }

    public static void main(String[] args) throws Exception {
        System.out.println(line());
    }
}
