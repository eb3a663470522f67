package com.chinaums.ums.tests;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ums-sandbox simulator as a child process: started with {@code --port 0},
 * its URL read from the first line it prints (a blocking read), stopped with
 * SIGTERM. The program is {@code $UMS_SANDBOX}, else
 * {@code target/release/ums-sandbox} of the repository ({@code make lib}).
 *
 * <p>{@link #shared()} is the one simulator of a test run (started on first
 * use, stopped by {@link TestRunner} at the end, and by a shutdown hook if the
 * JVM ends otherwise); tests that need a fresh one {@link #start()} their own.
 */
public final class Simulator implements AutoCloseable {
    private static final Pattern FIRST_LINE = Pattern.compile("^ums-sandbox listening on (http://\\S+)\\s*$");
    private static Simulator shared;

    private final Process process;
    private final BufferedReader stdout;
    private final String url;

    private Simulator(Process process, BufferedReader stdout, String url) {
        this.process = process;
        this.stdout = stdout;
        this.url = url;
    }

    /** $UMS_SANDBOX, else the repository's target/release/ums-sandbox. */
    public static File program() {
        String env = System.getenv("UMS_SANDBOX");
        if (env != null && !env.isEmpty()) {
            return new File(env);
        }
        return new File(Fixtures.repo(), "target/release/ums-sandbox");
    }

    /** Starts a simulator on a free port; returns once it listens. */
    public static Simulator start() throws IOException, InterruptedException {
        File program = program();
        if (!program.canExecute()) {
            throw new IllegalStateException("ums-sandbox not found at " + program
                    + ": run `make lib` or set UMS_SANDBOX");
        }
        ProcessBuilder pb = new ProcessBuilder(program.getPath(), "--port", "0", "--quiet");
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = pb.start();
        BufferedReader stdout = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = stdout.readLine(); // blocks until it listens, or null once it exited
        Matcher m = FIRST_LINE.matcher(line == null ? "" : line);
        if (!m.matches()) {
            stop(process, stdout);
            throw new IllegalStateException(program + " did not print its URL; first line: " + line);
        }
        return new Simulator(process, stdout, m.group(1));
    }

    /** The run's simulator, started on first use. */
    public static synchronized Simulator shared() throws IOException, InterruptedException {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(new Runnable() {
                @Override
                public void run() {
                    stopShared();
                }
            }, "stop-ums-sandbox"));
        }
        return shared;
    }

    /** Stops the run's simulator, if one was started. */
    public static synchronized void stopShared() {
        if (shared != null) {
            shared.close();
        }
    }

    /** The base URL, e.g. http://127.0.0.1:40123. */
    public String url() {
        return url;
    }

    /** Stops the simulator and waits for it to exit. Idempotent. */
    @Override
    public void close() {
        stop(process, stdout);
    }

    private static void stop(Process process, BufferedReader stdout) {
        process.destroy(); // SIGTERM
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            stdout.close();
        } catch (IOException e) {
            // nothing left to read
        }
    }
}
