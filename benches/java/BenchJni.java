// The cost of one call through the Java binding (JNI), without network.
//
// In package com.chinaums.ums so that it can also time the package-private
// native entry point (NativeLib.signBody) that UmsClient wraps. Built and run
// by scripts/bench:
//
//   javac --release 8 -cp bindings/java/build/classes -d DIR benches/java/BenchJni.java
//   java -Dums.jni.library=.../libumsjni.so -cp CLASSES:DIR com.chinaums.ums.BenchJni
//
// Times ums_sign_body on a 7-byte body with a fixed timestamp and nonce (the
// call benches/c/bench_c.c times in C):
//
//   java.sign_body.public  UmsClient.signBody(): read lock, the JNI glue
//                          (argument copies, a 64 KiB malloc'd buffer, the
//                          call, a new byte[]), new String(UTF-8)
//   java.sign_body.raw     NativeLib.signBody(): the JNI glue alone
//
// Same method as benches/bench.rs (batches of ~10 ms, 31 batches, median),
// after a JIT warm-up. Prints JSON lines {"row":..,"median_ns":..}.
package com.chinaums.ums;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

public final class BenchJni {
    private static final String APP_ID = "10037e6f66f2d0f901672aa27d690006";
    private static final String APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde";
    private static final String TS = "20261127120000";
    private static final String NONCE = "0123456789abcdef0123456789abcdef";
    private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

    private interface Call {
        Object run() throws Exception;
    }

    private static volatile Object sink;

    private static double medianNs(Call fn) throws Exception {
        long warmUntil = System.nanoTime() + 1_000_000_000L; // JIT warm-up
        while (System.nanoTime() < warmUntil) {
            sink = fn.run();
        }
        long perBatch = 1;
        while (true) {
            long t = System.nanoTime();
            for (long i = 0; i < perBatch; i++) {
                sink = fn.run();
            }
            long elapsed = System.nanoTime() - t;
            if (elapsed >= 10_000_000L || perBatch >= (1L << 24)) {
                break;
            }
            perBatch = elapsed > 500_000L ? perBatch * 10_000_000L / elapsed + 1 : perBatch * 4;
        }
        double[] samples = new double[31];
        for (int b = 0; b < samples.length; b++) {
            long t = System.nanoTime();
            for (long i = 0; i < perBatch; i++) {
                sink = fn.run();
            }
            samples[b] = (double) (System.nanoTime() - t) / perBatch;
        }
        Arrays.sort(samples);
        return samples[samples.length / 2];
    }

    private static void rowNs(String row, double ns) {
        System.out.println("{\"row\":\"" + row + "\",\"median_ns\":" + ns + "}");
    }

    public static void main(String[] args) throws Exception {
        String config = "{\"environment\":\"https://gateway.invalid\",\"appId\":\"" + APP_ID
                + "\",\"appKey\":\"" + APP_KEY + "\"}";
        final UmsClient client = new UmsClient(config);
        final String expected = client.signBody(BODY, TS, NONCE);

        long[] h = new long[1];
        int[] status = new int[1];
        NativeLib.clientNew(config.getBytes(StandardCharsets.UTF_8), h, status);
        if (status[0] != 0 || h[0] == 0) {
            throw new IllegalStateException("clientNew failed: " + status[0]);
        }
        final long handle = h[0];
        final byte[] ts = TS.getBytes(StandardCharsets.UTF_8);
        final byte[] nonce = NONCE.getBytes(StandardCharsets.UTF_8);
        final int[] st = new int[1];
        byte[] rawDoc = NativeLib.signBody(handle, BODY, ts, nonce, st);
        if (st[0] != 0 || !new String(rawDoc, StandardCharsets.UTF_8).equals(expected)) {
            throw new IllegalStateException("the raw JNI call does not give the public API's answer");
        }

        rowNs("java.sign_body.raw", medianNs(new Call() {
            @Override
            public Object run() {
                return NativeLib.signBody(handle, BODY, ts, nonce, st);
            }
        }));
        rowNs("java.sign_body.public", medianNs(new Call() {
            @Override
            public Object run() throws Exception {
                return client.signBody(BODY, TS, NONCE);
            }
        }));
        NativeLib.clientFree(handle);
        client.close();
    }
}
