package com.chinaums.ums.tests;

import com.chinaums.ums.ClientClosedException;
import com.chinaums.ums.UmsClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** One client shared by many threads, and close() while calls run. */
public final class ConcurrencyTests {
    private static final int THREADS = 16;
    private static final int CALLS_PER_THREAD = 4;

    private ConcurrencyTests() {
    }

    public static void testSixteenThreadsShareOneClient() throws Exception {
        final UmsClient c = new UmsClient(Fixtures.sandbox());
        final CountDownLatch start = new CountDownLatch(1);
        final List<Throwable> failures = Collections.synchronizedList(new ArrayList<Throwable>());
        final List<String> billNos = Collections.synchronizedList(new ArrayList<String>());
        List<Thread> threads = new ArrayList<Thread>();
        for (int t = 0; t < THREADS; t++) {
            Thread thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    try {
                        start.await();
                        for (int i = 0; i < CALLS_PER_THREAD; i++) {
                            String billNo = c.newId();
                            Map<String, Object> answer = c.updateQrcode(Fixtures.updateRequest(billNo));
                            T.eq("SUCCESS", answer.get("errCode"), "errCode");
                            T.eq(billNo, answer.get("billNo"), "each answer is its own request's");
                            billNos.add(billNo);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(50));
        }
        c.close();
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError(failures.size() + " thread failures, first: " + failures.get(0));
            e.initCause(failures.get(0));
            throw e;
        }
        T.eq(THREADS * CALLS_PER_THREAD, billNos.size(), "every call succeeded");
        T.eq(billNos.size(), new HashSet<String>(billNos).size(), "distinct billNos");
    }

    /** close() waits for running calls; afterwards calls fail cleanly, never crash. */
    public static void testCloseWhileCallsRun() throws Exception {
        final UmsClient c = new UmsClient(Fixtures.sandbox());
        final AtomicInteger successes = new AtomicInteger();
        final AtomicInteger refusedAfterClose = new AtomicInteger();
        final List<Throwable> failures = Collections.synchronizedList(new ArrayList<Throwable>());
        final CountDownLatch firstSuccess = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<Thread>();
        for (int t = 0; t < 8; t++) {
            Thread thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    while (true) {
                        try {
                            c.updateQrcode(Fixtures.updateRequest(c.newId()));
                            successes.incrementAndGet();
                            firstSuccess.countDown();
                        } catch (ClientClosedException e) {
                            refusedAfterClose.incrementAndGet();
                            return;
                        } catch (Throwable e) {
                            failures.add(e);
                            return;
                        }
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        T.check(firstSuccess.await(30, TimeUnit.SECONDS), "calls are running");
        c.close();
        c.close();
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            T.check(!thread.isAlive(), "thread ended");
        }
        T.check(failures.isEmpty(), "no failure but the closed client: " + failures);
        T.eq(8, refusedAfterClose.get(), "every thread saw ClientClosedException");
        T.check(successes.get() > 0, "calls ran before close");
    }
}
