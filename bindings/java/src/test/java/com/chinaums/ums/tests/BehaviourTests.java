package com.chinaums.ums.tests;

import com.chinaums.ums.Ums;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.UmsException;
import com.chinaums.ums.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The cross-language behaviour table, tests/data/behaviour.json, run against
 * the simulator. The Python suite (tests/test_behaviour.py, the reference)
 * and the PHP suite run the same table with the same rules; the table's
 * "rules" member states them, and this runner follows them exactly:
 *
 * <ul>
 * <li>One ums-sandbox started for the table (all cases share it). After
 * every case: {@code DELETE /_sandbox/faults} (a fault a broken binding did
 * not consume cannot leak into the next case), every client of the case is
 * closed and every socket it bound is closed.
 * <li>demo config: the simulator's URL as environment plus the demo appId,
 * appKey, msgSrc, msgSrcId, mid and tid. "config": merged over it key by
 * key, a null value removes the key.
 * <li>setup "client": a client of the demo config. "paid_bill": also a
 * one-off bill (getQrcode {billNo: newId(), billDate: today in Beijing,
 * totalAmount: 100}) paid with {@code POST /_sandbox/pay {"qrCodeId"}}; its
 * billNo/billDate are set in the request. "client_on_closed_port": a socket
 * bound to 127.0.0.1:0 that never listens (kept open during the case, so the
 * port cannot be taken: no race) and a client whose environment is
 * http://127.0.0.1:&lt;port&gt;.
 * <li>request: a member whose value is the string "new" becomes newId().
 * <li>fault: after the setup, {@code POST /_sandbox/faults {"path":
 * operations[operation].path, "fault", "count": 1}}, which must answer 200.
 * <li>actions: new_client ({@code new UmsClient(Map)}); call (the operation's
 * method, query-bill → {@code queryBill(Map)}); call_text (the same method
 * with request_text, {@code queryBill(String)}); call_after_close (close the
 * setup's client, then call); take_answer ({@code takeAnswer(answer_id)},
 * i.e. ums_take_answer); verify_notify ({@code Ums.verifyNotify(key,
 * body)}); client_verify_notify (a client of the demo config + notifyKey =
 * the notification's key + the case's config, then
 * {@code client.verifyNotify(body)}).
 * <li>notifications: valid_sha256 / valid_md5: the first notify_sign vector
 * with valid: true whose form_body's signType field is SHA256 / is absent or
 * MD5 (its form_body as UTF-8 and its key); raw: the case's body with the
 * demo notifyKey.
 * <li>tampers, on the body text, pairs split on "&amp;" and compared by their
 * raw name, order kept: sign (the sign value replaced by as many "0"),
 * drop_sign (the sign pair removed), sign_type_&lt;X&gt; (the signType value
 * replaced by X), repeat_&lt;name&gt; (the first &lt;name&gt;= pair appended
 * again).
 * <li>expect: class = the exception is an instance of that class of the
 * table's "classes" ({@code com.chinaums.ums.<Name>Exception}, "base" being
 * UmsException) and of none of its descendants there; parents: an instance
 * of each; status = getStatusName(); kind, field, nothingSent,
 * outcomeUnknown, phase, errCode, errMsg, httpStatus, settled, stateField,
 * state, reason = the getter's value (getKind(), isNothingSent(), ...),
 * equal to the JSON value, type included (true is not 1, 200 is not "200");
 * messageContains: each string is in getMessage(); responseHas:
 * getResponse() is a map with that key; requestsSent: the increase of the
 * simulator's {@code GET /_sandbox/stats} "requests" count for the
 * operation's path (all paths summed when the case has no operation) over
 * the action alone (read after setup and fault, and after the action).
 * <li>Anything the runner does not know (action, setup, notification,
 * tamper, case member, expect member) is a mismatch, never skipped. A case
 * that throws no exception is a mismatch. All mismatches of all cases are
 * listed.
 * </ul>
 */
public final class BehaviourTests {
    static final Set<String> CASE_MEMBERS = new HashSet<String>(Arrays.asList("name", "action", "setup",
            "operation", "request", "request_text", "config", "fault", "answer_id", "notification", "tamper",
            "body", "expect"));

    /** expect member → getter of the Java exception. */
    static final Map<String, String> GETTERS = new LinkedHashMap<String, String>();

    static {
        GETTERS.put("status", "getStatusName");
        GETTERS.put("kind", "getKind");
        GETTERS.put("field", "getField");
        GETTERS.put("nothingSent", "isNothingSent");
        GETTERS.put("outcomeUnknown", "isOutcomeUnknown");
        GETTERS.put("phase", "getPhase");
        GETTERS.put("errCode", "getErrCode");
        GETTERS.put("errMsg", "getErrMsg");
        GETTERS.put("httpStatus", "getHttpStatus");
        GETTERS.put("settled", "isSettled");
        GETTERS.put("stateField", "getStateField");
        GETTERS.put("state", "getState");
        GETTERS.put("reason", "getReason");
    }

    private BehaviourTests() {
    }

    /** A case that could not be run as the table says (a runner-level problem). */
    static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }

    /** What one case's action gave. */
    static final class Outcome {
        UmsException error;
        Object result;
        long sent;
    }

    static Map<String, Object> load() throws IOException {
        File f = new File(Fixtures.repo(), "tests/data/behaviour.json");
        return Json.parseObject(new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8));
    }

    public static void testEveryCase() throws Exception {
        Map<String, Object> table = load();
        List<String> mismatches;
        int count;
        try (Simulator sim = Simulator.start()) {
            mismatches = new ArrayList<String>();
            count = runTable(table, sim.url(), mismatches);
        }
        System.out.println("behaviour table: " + count + " cases, " + mismatches.size() + " mismatches");
        T.eq(list(table.get("cases")).size(), count, "cases run");
        T.check(count > 0, "no cases");
        if (!mismatches.isEmpty()) {
            StringBuilder sb = new StringBuilder(mismatches.size() + " mismatches with tests/data/behaviour.json:");
            for (String m : mismatches) {
                sb.append("\n  ").append(m);
            }
            throw new AssertionError(sb.toString());
        }
    }

    /** A table that expects the wrong things fails, naming each problem. */
    public static void testTheRunnerReportsMismatches() throws Exception {
        Map<String, Object> wrong = load();
        Map<String, Map<String, Object>> first = new LinkedHashMap<String, Map<String, Object>>();
        for (Object c : list(wrong.get("cases"))) {
            Map<String, Object> kase = map(c);
            if (!first.containsKey(kase.get("action"))) {
                first.put((String) kase.get("action"), kase);
            }
        }
        Map<String, Object> closed = first.get("call_after_close");
        Map<String, Object> expect = map(closed.get("expect"));
        expect.put("kind", "closed");
        expect.put("nothingSent", 1L);
        expect.put("requestsSent", 1L);
        expect.put("bogus", Boolean.TRUE);
        Map<String, Object> config = first.get("new_client");
        T.eq("UMS_ERR_CONFIG", map(config.get("expect")).get("status"), "the first new_client case");
        map(config.get("expect")).put("class", "Validation");
        Map<String, Object> dance = new LinkedHashMap<String, Object>();
        dance.put("name", "an unknown action");
        dance.put("action", "dance");
        dance.put("expect", Collections.singletonMap("class", (Object) "base"));
        Map<String, Object> colour = new LinkedHashMap<String, Object>();
        colour.put("name", "an unknown member");
        colour.put("action", "new_client");
        colour.put("colour", "red");
        colour.put("expect", Collections.singletonMap("class", (Object) "Config"));
        wrong.put("cases", Arrays.<Object>asList(closed, config, dance, colour));
        List<String> mismatches = new ArrayList<String>();
        int count;
        try (Simulator sim = Simulator.start()) {
            count = runTable(wrong, sim.url(), mismatches);
        }
        T.eq(4, count, "cases run");
        String text = String.join("\n", mismatches);
        for (String needle : new String[] {"kind: expected \"closed\"", "nothingSent: expected 1",
                "requestsSent: expected 1", "unknown expect member \"bogus\"",
                "class: expected Validation, got ConfigException", "unknown action \"dance\"",
                "unknown case members [colour]"}) {
            T.contains(text, needle, "mismatches");
        }
        T.eq(7, mismatches.size(), "mismatches: " + text);
    }

    /** Runs every case against the simulator at url; adds one line per mismatch; returns the cases run. */
    static int runTable(Map<String, Object> table, String url, List<String> mismatches) {
        int count = 0;
        for (Object c : list(table.get("cases"))) {
            count++;
            Map<String, Object> kase = map(c);
            String name = kase.get("name") instanceof String ? (String) kase.get("name") : "case " + count;
            Set<String> unknown = new TreeSet<String>(kase.keySet());
            unknown.removeAll(CASE_MEMBERS);
            if (!unknown.isEmpty()) {
                mismatches.add(name + ": unknown case members " + unknown);
                continue;
            }
            if (!(kase.get("expect") instanceof Map) || map(kase.get("expect")).isEmpty()) {
                mismatches.add(name + ": no expect");
                continue;
            }
            List<String> problems;
            CaseRun run = new CaseRun(table, url, kase);
            try {
                try {
                    problems = check(table, kase, run.act());
                } finally {
                    run.close();
                }
            } catch (Mismatch e) {
                problems = Collections.singletonList(e.getMessage());
            } catch (Exception e) { // a setup that failed: reported with the rest
                problems = Collections.singletonList(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            for (String p : problems) {
                mismatches.add(name + ": " + p);
            }
        }
        return count;
    }

    /** The Java exception class of a class name of the table. */
    static Class<?> javaClass(String name) throws Mismatch {
        if ("base".equals(name)) {
            return UmsException.class;
        }
        try {
            Class<?> c = Class.forName("com.chinaums.ums." + name + "Exception");
            if (UmsException.class.isAssignableFrom(c)) {
                return c;
            }
        } catch (ClassNotFoundException e) {
            // reported below
        }
        throw new Mismatch("class \"" + name + "\" has no Java exception com.chinaums.ums." + name + "Exception");
    }

    /** Equal as JSON values, types included (true is not 1, 200 is not "200"). */
    static boolean same(Object actual, Object expected) {
        if (actual instanceof Number && expected instanceof Number) {
            return new BigDecimal(actual.toString()).compareTo(new BigDecimal(expected.toString())) == 0;
        }
        if (actual instanceof Number || expected instanceof Number) {
            return false;
        }
        if (actual == null || expected == null) {
            return actual == expected;
        }
        if (actual.getClass() != expected.getClass()) {
            return Json.write(actual).equals(Json.write(expected))
                    && (actual instanceof Map) == (expected instanceof Map);
        }
        return actual.equals(expected);
    }

    static String show(Object value) {
        try {
            return Json.write(value);
        } catch (IllegalArgumentException e) {
            return String.valueOf(value);
        }
    }

    /** The mismatches of one case's outcome against its expect. */
    static List<String> check(Map<String, Object> table, Map<String, Object> kase, Outcome outcome)
            throws Mismatch {
        List<String> problems = new ArrayList<String>();
        UmsException error = outcome.error;
        if (error == null) {
            String shown = show(outcome.result);
            return Collections.singletonList("no exception thrown (returned "
                    + (shown.length() > 200 ? shown.substring(0, 200) : shown) + ")");
        }
        Map<String, Object> classes = map(table.get("classes"));
        String simple = error.getClass().getSimpleName();
        for (Map.Entry<String, Object> member : map(kase.get("expect")).entrySet()) {
            String key = member.getKey();
            Object expected = member.getValue();
            if (key.equals("class")) {
                if (!(expected instanceof String) || !classes.containsKey(expected)) {
                    problems.add("class " + show(expected) + " is not in the table's \"classes\"");
                    continue;
                }
                boolean finer = false;
                for (String d : descendants(classes, (String) expected)) {
                    finer |= javaClass(d).isInstance(error);
                }
                if (!javaClass((String) expected).isInstance(error) || finer) {
                    problems.add("class: expected " + expected + ", got " + simple);
                }
            } else if (key.equals("parents")) {
                for (Object parent : list(expected)) {
                    if (!javaClass((String) parent).isInstance(error)) {
                        problems.add("parents: " + simple + " is not a " + parent);
                    }
                }
            } else if (key.equals("messageContains")) {
                for (Object text : list(expected)) {
                    if (!error.getMessage().contains((String) text)) {
                        problems.add("message " + show(error.getMessage()) + " lacks " + show(text));
                    }
                }
            } else if (key.equals("responseHas")) {
                Map<String, Object> response = error.getResponse();
                if (response == null || !response.containsKey(expected)) {
                    problems.add("response " + show(response) + " has no " + show(expected));
                }
            } else if (key.equals("requestsSent")) {
                if (!same(outcome.sent, expected)) {
                    problems.add("requestsSent: expected " + show(expected) + ", got " + outcome.sent);
                }
            } else if (GETTERS.containsKey(key)) {
                Object actual;
                try {
                    actual = error.getClass().getMethod(GETTERS.get(key)).invoke(error);
                } catch (NoSuchMethodException e) {
                    problems.add(key + ": the exception has no method " + GETTERS.get(key) + "()");
                    continue;
                } catch (IllegalAccessException | InvocationTargetException e) {
                    problems.add(key + ": " + GETTERS.get(key) + "() failed: " + e);
                    continue;
                }
                if (!same(actual, expected)) {
                    problems.add(key + ": expected " + show(expected) + ", got " + show(actual));
                }
            } else {
                problems.add("unknown expect member \"" + key + "\"");
            }
        }
        return problems;
    }

    private static List<String> descendants(Map<String, Object> classes, String name) {
        List<String> found = new ArrayList<String>();
        for (String other : classes.keySet()) {
            Object parent = classes.get(other);
            while (parent != null) {
                if (parent.equals(name)) {
                    found.add(other);
                    break;
                }
                parent = classes.get(parent);
            }
        }
        return found;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value) {
        return value instanceof Map ? (Map<String, Object>) value : new LinkedHashMap<String, Object>();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value) {
        return value instanceof List ? (List<Object>) value : new ArrayList<Object>();
    }

    /** A thunk of a case's action. */
    private interface Action {
        Object run() throws Exception;
    }

    /** One case: its clients and sockets, closed by close(). */
    static final class CaseRun {
        private final Map<String, Object> table;
        private final String url;
        private final Map<String, Object> kase;
        private final List<UmsClient> clients = new ArrayList<UmsClient>();
        private final List<Socket> sockets = new ArrayList<Socket>();

        CaseRun(Map<String, Object> table, String url, Map<String, Object> kase) {
            this.table = table;
            this.url = url;
            this.kase = kase;
        }

        void close() throws IOException, Mismatch {
            for (UmsClient c : clients) {
                c.close();
            }
            for (Socket s : sockets) {
                s.close();
            }
            Object[] r = http("DELETE", "/_sandbox/faults", null);
            if (!Integer.valueOf(200).equals(r[0])) {
                throw new Mismatch("DELETE /_sandbox/faults answered " + r[0] + ": " + r[1]);
            }
        }

        /** A request to a simulator control endpoint: {status, body}. */
        Object[] http(String method, String path, Map<String, Object> json) throws IOException {
            HttpURLConnection conn = (HttpURLConnection) new URL(url + path).openConnection();
            conn.setConnectTimeout(5000);
            conn.setReadTimeout(10000);
            conn.setRequestMethod(method);
            if (json != null) {
                conn.setDoOutput(true);
                conn.setRequestProperty("Content-Type", "application/json");
                try (OutputStream out = conn.getOutputStream()) {
                    out.write(Json.write(json).getBytes(StandardCharsets.UTF_8));
                }
            }
            int status = conn.getResponseCode();
            InputStream in = status < 400 ? conn.getInputStream() : conn.getErrorStream();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (in != null) {
                byte[] buf = new byte[4096];
                int n;
                while ((n = in.read(buf)) > 0) {
                    body.write(buf, 0, n);
                }
                in.close();
            }
            conn.disconnect();
            return new Object[] {status, new String(body.toByteArray(), StandardCharsets.UTF_8)};
        }

        /** The demo config with overlay merged over it key by key (null removes the key). */
        Map<String, Object> config(Map<String, Object> extra, Object overlay) {
            Map<String, Object> config = Fixtures.config(url);
            config.put("msgSrc", Fixtures.MSG_SRC);
            config.putAll(extra);
            for (Map.Entry<String, Object> e : map(overlay).entrySet()) {
                if (e.getValue() == null) {
                    config.remove(e.getKey());
                } else {
                    config.put(e.getKey(), e.getValue());
                }
            }
            return config;
        }

        UmsClient client(Map<String, Object> config) throws UmsException {
            UmsClient c = new UmsClient(config);
            clients.add(c);
            return c;
        }

        String path() throws Mismatch {
            Object operation = kase.get("operation");
            if (operation == null) {
                return null;
            }
            Object path = map(map(table.get("operations")).get(operation)).get("path");
            if (!(path instanceof String)) {
                throw new Mismatch("operation " + show(operation) + " is not in the table's \"operations\"");
            }
            return (String) path;
        }

        long requests() throws IOException, Mismatch {
            Object[] r = http("GET", "/_sandbox/stats", null);
            Object counts = Integer.valueOf(200).equals(r[0]) ? Json.parseObject((String) r[1]).get("requests") : null;
            if (!(counts instanceof Map)) {
                throw new Mismatch("GET /_sandbox/stats answered " + r[0] + ": " + r[1]);
            }
            String path = path();
            long total = 0;
            for (Map.Entry<String, Object> e : map(counts).entrySet()) {
                if (path == null || path.equals(e.getKey())) {
                    total += ((Number) e.getValue()).longValue();
                }
            }
            return total;
        }

        /** The UmsClient method of the case's operation (query-bill → queryBill) taking type. */
        Method method(Class<?> type) throws Mismatch {
            Object operation = kase.get("operation");
            if (!(operation instanceof String)) {
                throw new Mismatch("the action needs an operation");
            }
            StringBuilder name = new StringBuilder();
            boolean upper = false;
            for (char ch : ((String) operation).toCharArray()) {
                if (ch == '-') {
                    upper = true;
                } else {
                    name.append(upper ? Character.toUpperCase(ch) : ch);
                    upper = false;
                }
            }
            try {
                return UmsClient.class.getMethod(name.toString(), type);
            } catch (NoSuchMethodException e) {
                throw new Mismatch("UmsClient has no method " + name + "(" + type.getSimpleName()
                        + ") for operation \"" + operation + "\"");
            }
        }

        /** The setup's client (or null); fills request with the setup's values. */
        UmsClient setup(Map<String, Object> request) throws Exception {
            Object setup = kase.get("setup");
            if (setup == null) {
                return null;
            }
            if ("client_on_closed_port".equals(setup)) {
                Socket socket = new Socket();
                sockets.add(socket);
                // Bound, never listening: connections are refused.
                socket.bind(new InetSocketAddress("127.0.0.1", 0));
                Map<String, Object> overlay = new LinkedHashMap<String, Object>();
                overlay.put("environment", "http://127.0.0.1:" + socket.getLocalPort());
                return client(config(Collections.<String, Object>emptyMap(), overlay));
            }
            if (!"client".equals(setup) && !"paid_bill".equals(setup)) {
                throw new Mismatch("unknown setup " + show(setup));
            }
            UmsClient client = client(config(Collections.<String, Object>emptyMap(), null));
            if ("paid_bill".equals(setup)) {
                Map<String, Object> bill = new LinkedHashMap<String, Object>();
                bill.put("billNo", client.newId());
                bill.put("billDate", ZonedDateTime.now(ZoneOffset.ofHours(8))
                        .format(DateTimeFormatter.ofPattern("yyyy-MM-dd")));
                bill.put("totalAmount", 100);
                Map<String, Object> created = client.getQrcode(bill);
                Map<String, Object> pay = new LinkedHashMap<String, Object>();
                pay.put("qrCodeId", created.get("qrCodeId"));
                Object[] r = http("POST", "/_sandbox/pay", pay);
                if (!Integer.valueOf(200).equals(r[0])) {
                    throw new Mismatch("POST /_sandbox/pay answered " + r[0] + ": " + r[1]);
                }
                request.put("billNo", bill.get("billNo"));
                request.put("billDate", bill.get("billDate"));
            }
            for (Map.Entry<String, Object> e : request.entrySet()) {
                if ("new".equals(e.getValue())) {
                    e.setValue(client.newId());
                }
            }
            return client;
        }

        void queueFault() throws IOException, Mismatch {
            Object fault = kase.get("fault");
            if (fault == null) {
                return;
            }
            String path = path();
            if (path == null) {
                throw new Mismatch("a fault needs an operation");
            }
            Map<String, Object> body = new LinkedHashMap<String, Object>();
            body.put("path", path);
            body.put("fault", fault);
            body.put("count", 1);
            Object[] r = http("POST", "/_sandbox/faults", body);
            if (!Integer.valueOf(200).equals(r[0])) {
                throw new Mismatch("POST /_sandbox/faults " + fault + " answered " + r[0] + ": " + r[1]);
            }
        }

        /** {key, body} of the case's notification, tampered. */
        String[] notification() throws Exception {
            Object kind = kase.get("notification");
            String[] kb;
            if ("raw".equals(kind)) {
                if (!kase.containsKey("body")) {
                    throw new Mismatch("notification raw needs a body");
                }
                kb = new String[] {Fixtures.DEMO_NOTIFY_KEY, String.valueOf(kase.get("body"))};
            } else if ("valid_sha256".equals(kind) || "valid_md5".equals(kind)) {
                kb = notificationVector((String) kind);
            } else {
                throw new Mismatch("unknown notification " + show(kind));
            }
            if (kase.get("tamper") != null) {
                kb[1] = tamper(kb[1], String.valueOf(kase.get("tamper")));
            }
            return kb;
        }

        Outcome act() throws Exception {
            Object action = kase.get("action");
            final Map<String, Object> request = new LinkedHashMap<String, Object>(map(kase.get("request")));
            final UmsClient client = setup(request);
            queueFault();
            Action thunk;
            if ("new_client".equals(action)) {
                final Map<String, Object> config = config(Collections.<String, Object>emptyMap(), kase.get("config"));
                thunk = new Action() {
                    @Override
                    public Object run() throws Exception {
                        return client(config).getInfo();
                    }
                };
            } else if ("call".equals(action) || "call_text".equals(action) || "call_after_close".equals(action)) {
                if (client == null) {
                    throw new Mismatch("action " + action + " needs a setup with a client");
                }
                final boolean text = "call_text".equals(action);
                final Method method = method(text ? String.class : Map.class);
                final Object argument = text ? String.valueOf(kase.get("request_text")) : request;
                if ("call_after_close".equals(action)) {
                    client.close();
                }
                thunk = new Action() {
                    @Override
                    public Object run() throws Exception {
                        return method.invoke(client, argument);
                    }
                };
            } else if ("take_answer".equals(action)) {
                if (client == null) {
                    throw new Mismatch("action take_answer needs a setup with a client");
                }
                final String answerId = String.valueOf(kase.get("answer_id"));
                thunk = new Action() {
                    @Override
                    public Object run() throws Exception {
                        return client.takeAnswer(answerId);
                    }
                };
            } else if ("verify_notify".equals(action)) {
                final String[] kb = notification();
                thunk = new Action() {
                    @Override
                    public Object run() throws Exception {
                        return Ums.verifyNotify(kb[0], kb[1].getBytes(StandardCharsets.UTF_8));
                    }
                };
            } else if ("client_verify_notify".equals(action)) {
                final String[] kb = notification();
                final UmsClient verifier = client(config(
                        Collections.<String, Object>singletonMap("notifyKey", kb[0]), kase.get("config")));
                thunk = new Action() {
                    @Override
                    public Object run() throws Exception {
                        return verifier.verifyNotify(kb[1].getBytes(StandardCharsets.UTF_8));
                    }
                };
            } else {
                throw new Mismatch("unknown action " + show(action));
            }
            long before = requests();
            Outcome outcome = new Outcome();
            try {
                outcome.result = thunk.run();
            } catch (InvocationTargetException e) {
                if (!(e.getCause() instanceof UmsException)) {
                    throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
                }
                outcome.error = (UmsException) e.getCause();
            } catch (UmsException e) {
                outcome.error = e;
            }
            outcome.sent = requests() - before;
            return outcome;
        }
    }

    /** {key, form body} of the first valid notify_sign vector of that signType. */
    static String[] notificationVector(String kind) throws IOException, Mismatch {
        String wanted = "valid_sha256".equals(kind) ? "SHA256" : "MD5";
        for (Object o : list(Fixtures.vectors().get("notify_sign"))) {
            Map<String, Object> v = map(o);
            if (!Boolean.TRUE.equals(v.get("valid")) || !(v.get("form_body") instanceof String)) {
                continue;
            }
            String body = (String) v.get("form_body");
            Map<String, String> names = new LinkedHashMap<String, String>();
            for (String pair : body.split("&", -1)) {
                int eq = pair.indexOf('=');
                if (eq >= 0) {
                    names.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
            String signType = names.containsKey("signType") ? names.get("signType") : "MD5";
            if (wanted.equals(signType)) {
                return new String[] {(String) v.get("key"), body};
            }
        }
        throw new Mismatch("tests/data/vectors.json has no valid " + wanted + " notification");
    }

    static String tamper(String body, String how) throws Mismatch {
        List<String> pairs = new ArrayList<String>(Arrays.asList(body.split("&", -1)));
        if (how.equals("sign")) {
            int i = indexOf(pairs, "sign", how);
            String pair = pairs.get(i);
            int eq = pair.indexOf('=');
            String value = eq >= 0 ? pair.substring(eq + 1) : "";
            StringBuilder zeros = new StringBuilder("sign=");
            for (int k = 0; k < value.length(); k++) {
                zeros.append('0');
            }
            pairs.set(i, zeros.toString());
        } else if (how.equals("drop_sign")) {
            pairs.remove(indexOf(pairs, "sign", how));
        } else if (how.startsWith("sign_type_")) {
            pairs.set(indexOf(pairs, "signType", how), "signType=" + how.substring("sign_type_".length()));
        } else if (how.startsWith("repeat_")) {
            pairs.add(pairs.get(indexOf(pairs, how.substring("repeat_".length()), how)));
        } else {
            throw new Mismatch("unknown tamper \"" + how + "\"");
        }
        return String.join("&", pairs);
    }

    private static int indexOf(List<String> pairs, String field, String how) throws Mismatch {
        for (int i = 0; i < pairs.size(); i++) {
            String pair = pairs.get(i);
            int eq = pair.indexOf('=');
            if ((eq >= 0 ? pair.substring(0, eq) : pair).equals(field)) {
                return i;
            }
        }
        throw new Mismatch("tamper \"" + how + "\": the body has no " + field + " field");
    }
}
