package com.chinaums.ums.tests;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs every {@code public static void test*()} method of the test classes,
 * each with a time limit, and prints "N passed, N failed" last. Exit status 1
 * on any failure. Arguments: optional substrings to select tests by name.
 */
public final class TestRunner {
    private static final long LIMIT_SECONDS = 60;

    private static final String[] CLASSES = {
        "com.chinaums.ums.tests.JsonTests",
        "com.chinaums.ums.NativeLibTests",
        "com.chinaums.ums.tests.ClientTests",
        "com.chinaums.ums.tests.OperationTests",
        "com.chinaums.ums.tests.ErrorTests",
        "com.chinaums.ums.tests.NotifyTests",
        "com.chinaums.ums.tests.ClaimTests",
        "com.chinaums.ums.tests.PaymentFlowTests",
        "com.chinaums.ums.tests.MoneySafetyTests",
        "com.chinaums.ums.tests.ConcurrencyTests",
        "com.chinaums.ums.compat.AdapterTests",
        "com.chinaums.ums.tests.BehaviourTests",
        "com.chinaums.ums.tests.ExampleTests",
    };

    private TestRunner() {
    }

    public static void main(String[] args) throws Exception {
        List<Method> tests = new ArrayList<Method>();
        for (String name : CLASSES) {
            List<Method> methods = new ArrayList<Method>();
            for (Method m : Class.forName(name).getDeclaredMethods()) {
                int mod = m.getModifiers();
                if (m.getName().startsWith("test") && Modifier.isStatic(mod)
                        && Modifier.isPublic(mod) && m.getParameterTypes().length == 0
                        && selected(name + "." + m.getName(), args)) {
                    methods.add(m);
                }
            }
            Collections.sort(methods, new Comparator<Method>() {
                @Override
                public int compare(Method a, Method b) {
                    return a.getName().compareTo(b.getName());
                }
            });
            tests.addAll(methods);
        }

        ExecutorService pool = Executors.newCachedThreadPool(new ThreadFactory() {
            @Override
            public Thread newThread(Runnable r) {
                Thread t = new Thread(r, "test");
                t.setDaemon(true); // a hung test must not keep the JVM alive
                return t;
            }
        });
        int passed = 0;
        int failed = 0;
        for (final Method m : tests) {
            String name = m.getDeclaringClass().getSimpleName() + "." + m.getName();
            long start = System.nanoTime();
            Future<?> f = pool.submit(new java.util.concurrent.Callable<Void>() {
                @Override
                public Void call() throws Exception {
                    m.invoke(null);
                    return null;
                }
            });
            Throwable failure = null;
            try {
                f.get(LIMIT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                failure = new AssertionError("timed out after " + LIMIT_SECONDS + " s");
            } catch (ExecutionException e) {
                failure = e.getCause();
                if (failure instanceof InvocationTargetException) {
                    failure = failure.getCause();
                }
            }
            long ms = (System.nanoTime() - start) / 1000000;
            if (failure == null) {
                passed++;
                System.out.println("ok   " + name + " (" + ms + " ms)");
            } else {
                failed++;
                System.out.println("FAIL " + name + ": " + failure);
                failure.printStackTrace(System.out);
            }
        }
        Simulator.stopShared(); // the run's simulator, if a test started it
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }

    private static boolean selected(String name, String[] filters) {
        if (filters.length == 0) {
            return true;
        }
        for (String f : filters) {
            if (name.contains(f)) {
                return true;
            }
        }
        return false;
    }
}
