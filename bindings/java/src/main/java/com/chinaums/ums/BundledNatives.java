package com.chinaums.ums;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The native libraries a chinaums jar carries (built by
 * bindings/java/build-jar.sh): {@code native/<os>-<arch>/} holds libums under
 * its SONAME (e.g. {@code libums.so.0.1}), the JNI glue
 * {@code libumsjni.so}, and the file {@code libraries} that lists them in
 * load order, one {@code <sha256-hex> <file name>} a line.
 *
 * <p>{@link #load()} copies them into a new private directory
 * ({@code Files.createTempDirectory}: a fresh random name, mode 0700) under
 * {@code java.io.tmpdir} (or {@code -Dums.native.tmpdir=DIR}, for a
 * {@code noexec} /tmp), checks each copy's SHA-256, loads them with
 * {@code System.load} in order (libums first: the glue's dependency on
 * libums's SONAME is then already satisfied, with no LD_LIBRARY_PATH), and
 * deletes the copies (a loaded library stays mapped). Each JVM, and each
 * class loader, extracts into its own directory, so JVMs or class loaders
 * starting at once never see another's half-written file. It runs once per
 * class loader, from NativeLib's static initialiser, which the JVM runs on
 * one thread.
 */
final class BundledNatives {
    /** The list file in each platform folder. */
    static final String LIST = "libraries";

    private BundledNatives() {
    }

    /** {@code <os>-<arch>}, e.g. "linux-x86_64", "linux-aarch64". */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "macos";
        } else if (os.startsWith("windows")) {
            os = "windows";
        } else {
            os = os.replaceAll("[^a-z0-9]", "");
        }
        if (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x64")) {
            arch = "x86_64";
        } else if (arch.equals("arm64") || arch.equals("aarch64")) {
            arch = "aarch64";
        } else {
            arch = arch.replaceAll("[^a-z0-9_]", "");
        }
        return os + "-" + arch;
    }

    /** The jar folder for this platform, "native/linux-x86_64/". */
    static String folder() {
        return "native/" + platform() + "/";
    }

    /** True when the class path carries libraries for this platform. */
    static boolean present() {
        return NativeLib.class.getResource("/" + folder() + LIST) != null;
    }

    /** Extracts, checks and loads the libraries, then deletes the copies. */
    static void load() throws IOException {
        List<String[]> entries = readList();
        Path dir = Files.createTempDirectory(parentDirectory(), "chinaums-native-");
        List<Path> copies = new ArrayList<Path>();
        try {
            for (String[] entry : entries) {
                Path copy = dir.resolve(entry[1]);
                copies.add(copy);
                extract(folder() + entry[1], copy, entry[0]);
            }
            for (Path copy : copies) {
                System.load(copy.toAbsolutePath().toString());
            }
        } finally {
            deleteAll(copies, dir);
        }
    }

    /** The {@code <sha256, name>} pairs of the list file, in load order. */
    private static List<String[]> readList() throws IOException {
        List<String[]> entries = new ArrayList<String[]>();
        InputStream in = NativeLib.class.getResourceAsStream("/" + folder() + LIST);
        if (in == null) {
            throw new IOException("no " + folder() + LIST + " in the class path");
        }
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                line = line.trim();
                if (line.isEmpty()) {
                    continue;
                }
                String[] entry = line.split("\\s+");
                if (entry.length != 2 || !entry[0].matches("[0-9a-f]{64}") || !entry[1].matches("[A-Za-z0-9._+-]+")
                        || entry[1].startsWith(".")) {
                    throw new IOException("malformed line in " + folder() + LIST + ": " + line);
                }
                entries.add(entry);
            }
        }
        if (entries.isEmpty()) {
            throw new IOException(folder() + LIST + " names no library");
        }
        return entries;
    }

    private static Path parentDirectory() {
        String dir = System.getProperty("ums.native.tmpdir");
        if (dir == null || dir.isEmpty()) {
            dir = System.getProperty("java.io.tmpdir");
        }
        return Paths.get(dir);
    }

    /** Copies a resource to a new file and checks its SHA-256 against the list's. */
    private static void extract(String resource, Path target, String sha256) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException("SHA-256 is not available", e);
        }
        InputStream in = NativeLib.class.getResourceAsStream("/" + resource);
        if (in == null) {
            throw new IOException("no " + resource + " in the class path (listed in " + folder() + LIST + ")");
        }
        try (DigestInputStream digesting = new DigestInputStream(in, digest)) {
            Files.copy(digesting, target); // the directory is new and ours: the file cannot exist
        }
        String actual = hex(digest.digest());
        if (!actual.equals(sha256)) {
            throw new IOException(resource + " is damaged: SHA-256 " + actual + ", the list says " + sha256);
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    /**
     * Removes the copies and their directory. On Linux a loaded library may
     * be deleted (it stays mapped); where the system refuses, they go when
     * the JVM exits (deleteOnExit runs in reverse order: the directory is
     * registered first so that it goes last).
     */
    private static void deleteAll(List<Path> copies, Path dir) {
        List<File> left = new ArrayList<File>();
        for (Path copy : copies) {
            File file = copy.toFile();
            if (file.exists() && !file.delete()) {
                left.add(file);
            }
        }
        File directory = dir.toFile();
        if (!left.isEmpty() || !directory.delete()) {
            directory.deleteOnExit();
            for (File file : left) {
                file.deleteOnExit();
            }
        }
    }
}
