package com.chinaums.ums.tests;

import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Shared test values: the simulator's demo app and configurations, dates, files, child JVMs, fake servers. */
public final class Fixtures {
    public static final String DEMO_APP_ID = "10037e6f66f2d0f901672aa27d690006";
    public static final String DEMO_APP_KEY = "47ace12ae3b348fe93ab46cee97c6fde";
    public static final String DEMO_NOTIFY_KEY = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR";
    public static final String MID = "898340149000005";
    public static final String TID = "00000001";
    public static final String MSG_SRC_ID = "3194";
    public static final String MSG_SRC = "WWW.TEST.COM";
    public static final String SEED_QR = "31942002267733902130410550";

    private static UmsClient shared;

    private Fixtures() {
    }

    /**
     * A configuration for the simulator at url with its demo app: environment,
     * appId, appKey, mid, tid and msgSrcId (for newId()). A fresh map: add keys.
     */
    public static Map<String, Object> config(String url) {
        Map<String, Object> c = new LinkedHashMap<String, Object>();
        c.put("environment", url);
        c.put("appId", DEMO_APP_ID);
        c.put("appKey", DEMO_APP_KEY);
        c.put("mid", MID);
        c.put("tid", TID);
        c.put("msgSrcId", MSG_SRC_ID);
        return c;
    }

    /** {@link #config(String)} for the run's simulator (see {@link Simulator#shared()}). */
    public static Map<String, Object> sandboxConfig() throws Exception {
        return config(Simulator.shared().url());
    }

    /** {@link #sandboxConfig()} as JSON text. */
    public static String sandbox() throws Exception {
        return Json.write(sandboxConfig());
    }

    /** {@link #sandboxConfig()} with one more key, as JSON text. */
    public static String sandbox(String key, Object value) throws Exception {
        Map<String, Object> c = sandboxConfig();
        c.put(key, value);
        return Json.write(c);
    }

    /** One client of the run's simulator for tests that do not care about its life cycle. */
    public static synchronized UmsClient client() throws Exception {
        if (shared == null) {
            shared = new UmsClient(sandbox());
        }
        return shared;
    }

    private static ZonedDateTime beijing() {
        return ZonedDateTime.now(ZoneOffset.ofHours(8));
    }

    public static String today() {
        return beijing().format(DateTimeFormatter.ofPattern("yyyy-MM-dd"));
    }

    public static String tomorrowTime() {
        return beijing().plusDays(1).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
    }

    /** An update-qrcode request for the seed code with a fresh bill number. */
    public static Map<String, Object> updateRequest(String billNo) {
        Map<String, Object> r = new LinkedHashMap<String, Object>();
        r.put("qrCodeId", SEED_QR);
        r.put("billNo", billNo);
        r.put("billDate", today());
        r.put("totalAmount", "26");
        return r;
    }

    public static String updateJson(String billNo) {
        return Json.write(updateRequest(billNo));
    }

    /** The repository root: -Dums.repo, else found upwards from the working directory. */
    public static File repo() {
        String p = System.getProperty("ums.repo");
        if (p != null && !p.isEmpty()) {
            return new File(p);
        }
        File dir = new File("").getAbsoluteFile();
        while (dir != null) {
            if (new File(dir, "tests/data/vectors.json").isFile()) {
                return dir;
            }
            dir = dir.getParentFile();
        }
        throw new IllegalStateException("cannot find the repository (set -Dums.repo)");
    }

    public static Map<String, Object> vectors() throws IOException {
        File f = new File(repo(), "tests/data/vectors.json");
        return Json.parseObject(new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8));
    }

    public static String property(String name) {
        String v = System.getProperty(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set (run run-tests.sh)");
        }
        return v;
    }

    /** The base URL of a client (the simulator's, for a simulator client). */
    public static String baseUrl(UmsClient c) {
        return (String) Json.parseObject(c.getInfo()).get("baseUrl");
    }

    /** Exit status, stdout and stderr of a finished process. */
    public static final class Run {
        public int status;
        public String out;
        public String err;
    }

    /**
     * Runs a class of the binding, tests or examples in a separate JVM (with
     * the JNI glue), with no UMS_* variable but UMS_SANDBOX and UMS_LIBRARY
     * from this one, plus extraEnv. args: JVM options, the main class, its
     * arguments.
     */
    public static Run runJava(Map<String, String> extraEnv, String... args) throws Exception {
        List<String> cmd = new ArrayList<String>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-cp");
        cmd.add(property("ums.test.classes") + File.pathSeparator + property("ums.test.examples"));
        // Decode the examples' Chinese output as UTF-8 whatever the locale.
        cmd.add("-Dfile.encoding=UTF-8");
        cmd.add("-Dsun.stdout.encoding=UTF-8");
        cmd.add("-Dsun.stderr.encoding=UTF-8");
        cmd.add("-Dums.repo=" + repo().getPath());
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        Iterator<String> names = env.keySet().iterator();
        while (names.hasNext()) {
            String name = names.next();
            if (name.startsWith("UMS_") && !name.equals("UMS_SANDBOX") && !name.equals("UMS_LIBRARY")) {
                names.remove();
            }
        }
        env.put("UMS_JNI_LIBRARY", property("ums.jni.library"));
        env.putAll(extraEnv);
        Process p = pb.start();
        p.getOutputStream().close();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final InputStream errIn = p.getErrorStream();
        Thread drain = new Thread(new Runnable() {
            @Override
            public void run() {
                copy(errIn, err);
            }
        });
        drain.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        copy(p.getInputStream(), out);
        if (!p.waitFor(50, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the JVM did not finish: " + cmd);
        }
        drain.join(5000);
        Run r = new Run();
        r.status = p.exitValue();
        r.out = new String(out.toByteArray(), StandardCharsets.UTF_8);
        r.err = new String(err.toByteArray(), StandardCharsets.UTF_8);
        return r;
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** A map of name, value pairs. */
    public static Map<String, String> env(String... pairs) {
        Map<String, String> m = new HashMap<String, String>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** A request to a simulator control URL (json null: GET): {status, body}. */
    public static Object[] http(String url, String json) throws IOException {
        HttpURLConnection conn = (HttpURLConnection) new URL(url).openConnection();
        conn.setConnectTimeout(5000);
        conn.setReadTimeout(10000);
        if (json != null) {
            conn.setRequestMethod("POST");
            conn.setDoOutput(true);
            conn.setRequestProperty("Content-Type", "application/json");
            try (OutputStream out = conn.getOutputStream()) {
                out.write(json.getBytes(StandardCharsets.UTF_8));
            }
        }
        int status = conn.getResponseCode();
        InputStream in = status < 400 ? conn.getInputStream() : conn.getErrorStream();
        String body = in == null ? "" : new String(readAll(in), StandardCharsets.UTF_8);
        conn.disconnect();
        return new Object[] {status, body};
    }

    /** How many requests to path the simulator has seen (GET /_sandbox/stats). */
    public static long requests(UmsClient c, String path) throws IOException {
        Object[] r = http(baseUrl(c) + "/_sandbox/stats", null);
        if (!Integer.valueOf(200).equals(r[0])) {
            throw new AssertionError("stats: " + r[0] + " " + r[1]);
        }
        Object requests = Json.parseObject((String) r[1]).get("requests");
        Object n = requests instanceof Map ? ((Map<?, ?>) requests).get(path) : null;
        return n instanceof Number ? ((Number) n).longValue() : 0L;
    }

    /**
     * Queues a simulator fault for the next request to path (POST
     * /_sandbox/faults); false when the simulator does not know it (HTTP 400).
     */
    public static boolean queueFault(UmsClient c, String path, String fault) throws IOException {
        Map<String, Object> body = new LinkedHashMap<String, Object>();
        body.put("path", path);
        body.put("fault", fault);
        Object[] r = http(baseUrl(c) + "/_sandbox/faults", Json.write(body));
        if (Integer.valueOf(400).equals(r[0])) {
            return false;
        }
        if (!Integer.valueOf(200).equals(r[0])) {
            throw new AssertionError("queue fault " + fault + ": " + r[0] + " " + r[1]);
        }
        return true;
    }

    /** What a fake server does with each connection. */
    public enum Behaviour {
        /** Writes bytes that are not a TLS record, then closes. */
        GARBAGE,
        /** Reads the whole HTTP request, then closes without answering. */
        SWALLOW,
        /** Reads the request and answers HTTP 500 with a non-JSON body. */
        HTTP_500
    }

    /** A one-thread TCP server on 127.0.0.1; close() stops it. */
    public static final class FakeServer implements AutoCloseable {
        private final ServerSocket socket;
        private final Thread thread;
        public volatile int requestsRead;

        public FakeServer(final Behaviour behaviour) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    while (!socket.isClosed()) {
                        try (Socket s = socket.accept()) {
                            s.setSoTimeout(10000);
                            serve(s, behaviour);
                        } catch (IOException e) {
                            // closed, or the client went away: next connection
                        }
                    }
                }
            }, "fake-server");
            thread.setDaemon(true);
            thread.start();
        }

        public int port() {
            return socket.getLocalPort();
        }

        private void serve(Socket s, Behaviour behaviour) throws IOException {
            OutputStream out = s.getOutputStream();
            if (behaviour == Behaviour.GARBAGE) {
                out.write("this is not TLS, just garbage\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return;
            }
            readRequest(s.getInputStream());
            requestsRead++;
            if (behaviour == Behaviour.HTTP_500) {
                byte[] body = "internal trouble".getBytes(StandardCharsets.US_ASCII);
                out.write(("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
            }
        }

        /** Reads headers and a Content-Length body. */
        private static void readRequest(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                byte[] h = head.toByteArray();
                int n = h.length;
                if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                    break;
                }
            }
            int length = 0;
            for (String line : head.toString("ISO-8859-1").split("\r\n")) {
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            for (int i = 0; i < length && in.read() >= 0; i++) {
                // discard the body
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
