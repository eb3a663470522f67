package com.chinaums.ums.tests;

import com.chinaums.ums.ClientClosedException;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.ValidationException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Notification claims across receivers: claimNotification / releaseNotification. */
public final class ClaimTests {
    private ClaimTests() {
    }

    private static UmsClient client(String claimStore) throws Exception {
        Map<String, Object> c = Fixtures.sandboxConfig();
        if (claimStore != null) {
            c.put("claimStore", claimStore);
        }
        return new UmsClient(c);
    }

    public static void testMemoryClaimReleaseClaim() throws Exception {
        try (UmsClient c = client("memory")) {
            T.eq(true, c.claimNotification("java-notify-1"), "first claim");
            T.eq(false, c.claimNotification("java-notify-1"), "second claim");
            T.eq(true, c.claimNotification("java-notify-2"), "another notification");
            c.releaseNotification("java-notify-1");
            T.eq(true, c.claimNotification("java-notify-1"), "claim after release");
            T.eq(false, c.claimNotification("java-notify-1"), "claimed again");
        }
    }

    public static void testUnreachableRedisFallsBackToMemory() throws Exception {
        // Port 1 on loopback: nothing listens.
        try (UmsClient c = client("redis://127.0.0.1:1/0")) {
            T.eq(true, c.claimNotification("java-down-1"), "first claim");
            T.eq(false, c.claimNotification("java-down-1"), "second claim");
            c.releaseNotification("java-down-1");
            T.eq(true, c.claimNotification("java-down-1"), "claim after release");
        }
    }

    public static void testBadNotifyIdsAreValidationErrors() throws Exception {
        try (final UmsClient c = client(null)) {
            StringBuilder tooLong = new StringBuilder();
            for (int i = 0; i < 129; i++) {
                tooLong.append('x');
            }
            for (final String bad : new String[] {"", "has space", tooLong.toString(), "\u4e2d", "nul\0inside"}) {
                T.expect(ValidationException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        c.claimNotification(bad);
                    }
                });
                T.expect(ValidationException.class, new T.Body() {
                    @Override
                    public void run() throws Exception {
                        c.releaseNotification(bad);
                    }
                });
            }
            T.expect(ValidationException.class, new T.Body() {
                @Override
                public void run() throws Exception {
                    c.claimNotification(null);
                }
            });
            T.eq(true, c.claimNotification(tooLong.substring(1)), "128 characters");
        }
    }

    public static void testClosedClientRefuses() throws Exception {
        final UmsClient c = client(null);
        c.close();
        T.expect(ClientClosedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.claimNotification("java-closed");
            }
        });
        T.expect(ClientClosedException.class, new T.Body() {
            @Override
            public void run() throws Exception {
                c.releaseNotification("java-closed");
            }
        });
    }

    public static void testOneClaimAmongThreads() throws Exception {
        try (final UmsClient c = client(null)) {
            final List<Boolean> results = Collections.synchronizedList(new ArrayList<Boolean>());
            final CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<Thread>();
            for (int i = 0; i < 8; i++) {
                Thread t = new Thread(new Runnable() {
                    @Override
                    public void run() {
                        try {
                            start.await();
                            results.add(c.claimNotification("java-raced"));
                        } catch (Exception e) {
                            results.add(null);
                        }
                    }
                });
                t.start();
                threads.add(t);
            }
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            int claimed = 0;
            for (Boolean b : results) {
                T.check(b != null, "a claim failed");
                if (b) {
                    claimed++;
                }
            }
            T.eq(8, results.size(), "answers");
            T.eq(1, claimed, "claims won");
        }
    }
}
