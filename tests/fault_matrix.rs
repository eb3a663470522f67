//! The fault matrix: money safety proven by failure point.
//!
//! Every money-moving operation runs through the C ABI (`tests/c/fault_call.c`)
//! in a child process whose socket calls fail at a chosen point
//! (`tests/c/fault_shim.c`, an LD_PRELOAD object): the name lookup, the
//! connect, every write and every half-done write, every read, each with
//! every errno class a broken network gives. The points are found by a
//! fault-free `count` run of the same operation over the same transport:
//! plain HTTP, HTTPS (so the TLS handshake's writes and reads are points),
//! HTTP through a CONNECT proxy and HTTPS through it (so the CONNECT
//! exchange's are too). Over plain HTTP each write and read point also has
//! a `+down` variant: the network stays down after the fault, so a wrong
//! retry cannot hide behind its own success.
//!
//! For every case the simulator's counters say how many times the request
//! arrived, and the test checks that the library
//! - never sent it twice: `processed` on its path ≤ 1 (a double arrival),
//!   `requests` ≤ 1 and, over plain HTTP (direct or tunnelled), request
//!   bytes on at most one connection (resent),
//! - never said "nothing sent" (`nothingSent`) when anything arrived or,
//!   over plain HTTP, when a single request byte left,
//! - said the same thing in its status and its document (status 0 ⇔ the
//!   gateway's SUCCESS answer; otherwise the document's `status` names the
//!   integer; `outcomeUnknown` ⇔ UMS_ERR_OUTCOME_UNKNOWN; never both
//!   `outcomeUnknown` and `nothingSent`), and answered success only for a
//!   request the gateway processed.
//!
//! Each worker thread has its own simulator process, so counters are
//! attributed to one case at a time. Every connection of a case passes
//! through a relay of this test (a pipe, or the CONNECT proxy), and the case
//! waits until the relay has accepted every connection the child made and
//! closed them all, which happens only after the server side has finished
//! with them: the counters are final when they are read, without sleeping.
//!
//! A second test puts a hostile TLS server in front of the simulator: it
//! forwards the whole request (processed) and then answers with a corrupt
//! record, a plaintext alert or a bare close. The library must say "outcome
//! unknown", never "TLS failure, nothing sent".
//!
//! Both print a summary line (`fault matrix: N cases, 0 double arrivals, 0
//! false nothing-sent ...`) past the test harness's capture. Measured when
//! this test was written: against the transport before the phase fix
//! (classification by errno), 576 of the 4752 matrix cases and 16 of the 24
//! hostile-TLS cases fail.

#[path = "common/test_pki.rs"]
mod test_pki;
use test_pki::TestPki;
#[path = "../crates/ums-sandbox/tests/sandbox_process.rs"]
mod sandbox_process;

use chinaums::Client;
use sandbox_process::{start_sandbox_process, SandboxProcess};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};
use ums::{Status, UMS_ERR_OUTCOME_UNKNOWN, UMS_OK};
use ums_sandbox::demo;
use ums_sandbox::tls::HttpsFront;

/// Worker threads, each with its own simulator process.
const WORKERS: usize = 6;

/// The errno classes a broken network gives, by name.
const ERRNOS: &[(&str, i32)] = &[
    ("ECONNRESET", libc::ECONNRESET),
    ("ECONNREFUSED", libc::ECONNREFUSED),
    ("EHOSTUNREACH", libc::EHOSTUNREACH),
    ("ENETUNREACH", libc::ENETUNREACH),
    ("ENETDOWN", libc::ENETDOWN),
    ("EADDRNOTAVAIL", libc::EADDRNOTAVAIL),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("EPIPE", libc::EPIPE),
];

// ------------------------------------------------------------ build

/// The shim and the driver, compiled for this test run.
struct Tools {
    dir: PathBuf,
    shim: PathBuf,
    driver: PathBuf,
}

impl Tools {
    /// Compiles `tests/c/fault_shim.c` and `tests/c/fault_call.c` into a
    /// directory of this process under `CARGO_TARGET_TMPDIR`; the driver
    /// links a copy of [`fresh_library`].
    fn build(tag: &str) -> Tools {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fault_matrix-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("build directory");
        let lib = fresh_library();
        // A copy, so that a rebuild during the run changes nothing; named
        // by its SONAME (build.rs), where the driver's run path finds it.
        let lib_copy = dir.join(soname());
        std::fs::copy(lib, &lib_copy).expect("copy of libums.so");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let warnings = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-g"];
        let shim = dir.join("fault_shim.so");
        compile(
            Command::new(&cc)
                .args(warnings)
                .args(["-shared", "-fPIC"])
                .arg(root.join("tests/c/fault_shim.c"))
                .arg("-o")
                .arg(&shim)
                .arg("-ldl"),
        );
        let driver = dir.join("fault_call");
        compile(
            Command::new(&cc)
                .args(warnings)
                .arg(format!("-I{}", root.join("include").display()))
                .arg(root.join("tests/c/fault_call.c"))
                .arg("-o")
                .arg(&driver)
                .arg(&lib_copy)
                .arg(format!("-Wl,-rpath,{}", dir.display())),
        );
        Tools { dir, shim, driver }
    }
}

impl Drop for Tools {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `libums.so` of this build, next to the `ums-sandbox` binary, built from
/// the current sources. `cargo test --test fault_matrix` alone builds the
/// crate as an rlib only (a whole `cargo test` builds the cdylib too), so
/// the test asks cargo for it: a no-op when it is up to date. Cargo does
/// not hold the build lock while tests run.
fn fresh_library() -> &'static Path {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let profile_dir = profile_dir();
        let target_dir = profile_dir.parent().expect("the target directory");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut build = Command::new(cargo);
        // The library, and the simulator: another package of the workspace,
        // so cargo does not build its binary for this test by itself.
        build
            .args(["build", "--lib", "--quiet", "--target-dir"])
            .arg(target_dir)
            .args(["-p", "ums", "-p", "ums-sandbox", "--bin", "ums-sandbox"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        compile(&mut build);
        let lib = profile_dir.join("libums.so");
        assert!(lib.exists(), "{} is missing", lib.display());
        lib
    })
}

/// The library's SONAME (build.rs): `libums.so.0.MINOR` while the version
/// is 0.x, `libums.so.MAJOR` after.
fn soname() -> String {
    match env!("CARGO_PKG_VERSION_MAJOR") {
        "0" => format!("libums.so.0.{}", env!("CARGO_PKG_VERSION_MINOR")),
        major => format!("libums.so.{major}"),
    }
}

/// `target/<profile>`: this test runs from its `deps` folder.
fn profile_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's path");
        exe.parent()
            .and_then(Path::parent)
            .expect("the profile directory")
            .to_path_buf()
    })
}

/// The simulator binary, built by [`fresh_library`].
fn sandbox_program() -> String {
    fresh_library();
    profile_dir()
        .join("ums-sandbox")
        .to_string_lossy()
        .into_owned()
}

/// A summary line, on stderr past the test harness's capture, so that
/// `cargo test` shows it even when the test passes.
fn announce(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

fn compile(command: &mut Command) {
    let output = command.output().expect("the C compiler runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ------------------------------------------------------------ relays

/// What a relay does with a connection.
#[derive(Clone)]
enum Role {
    /// Pipes it to this address.
    Pipe(SocketAddr),
    /// An HTTP CONNECT proxy that opens tunnels to these addresses only.
    Proxy([SocketAddr; 2]),
    /// A hostile HTTPS server: completes the handshake, reads the whole
    /// request, has the simulator at this address process it, and then
    /// spoils the answer.
    Hostile(Arc<rustls::ServerConfig>, SocketAddr, Spoiler),
}

/// What a relay has seen so far.
#[derive(Default, Clone, Copy, Debug)]
struct Traffic {
    /// Connections accepted, and those not finished yet.
    accepted: u64,
    active: u64,
    /// Connections that carried bytes from the client to the server through
    /// the pipe (after the CONNECT exchange, for the proxy), and those bytes.
    carrying: u64,
    bytes: u64,
}

type Shared = Arc<(Mutex<Traffic>, Condvar)>;

/// A loopback listener of this test between the child and a server: it
/// knows when every connection a case opened has been finished with.
struct Relay {
    addr: SocketAddr,
    traffic: Shared,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Relay {
    fn start(role: Role) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay binds");
        let addr = listener.local_addr().unwrap();
        let traffic = Arc::new((Mutex::new(Traffic::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (traffic, stop) = (traffic.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    {
                        let mut t = traffic.0.lock().unwrap();
                        t.accepted += 1;
                        t.active += 1;
                    }
                    let (traffic, role) = (traffic.clone(), role.clone());
                    thread::spawn(move || {
                        let _ = serve(stream, role, &traffic);
                        traffic.0.lock().unwrap().active -= 1;
                        traffic.1.notify_all();
                    });
                }
            })
        };
        Relay {
            addr,
            traffic,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn traffic(&self) -> Traffic {
        *self.traffic.0.lock().unwrap()
    }

    /// Waits until `total` connections were accepted and all are finished.
    /// The bound only turns a hang into a failure.
    fn wait_idle(&self, total: u64) -> Result<(), String> {
        let (lock, changed) = &*self.traffic;
        let (traffic, timeout) = changed
            .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(60), |t| {
                t.accepted < total || t.active > 0
            })
            .unwrap();
        if timeout.timed_out() {
            return Err(format!(
                "relay not idle after 60 s: accepted {} of {total}, {} active",
                traffic.accepted, traffic.active
            ));
        }
        Ok(())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the acceptor
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(client: TcpStream, role: Role, traffic: &Shared) -> io::Result<()> {
    let server = match role {
        Role::Pipe(target) => TcpStream::connect(target)?,
        Role::Proxy(allowed) => {
            let Some(head) = read_head(&client)? else {
                return Ok(()); // the CONNECT request never came whole
            };
            let target = head
                .strip_prefix("CONNECT ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|authority| authority.parse::<SocketAddr>().ok())
                .filter(|addr| allowed.contains(addr));
            let Some(target) = target else {
                (&client).write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?;
                return Ok(());
            };
            let server = TcpStream::connect(target)?;
            (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            server
        }
        Role::Hostile(tls, backend, spoiler) => return spoil(client, tls, backend, spoiler),
    };
    pipe(client, server, traffic)
}

/// The head of a request, read a byte at a time (nothing after it is
/// consumed); `None` if the stream ends first.
fn read_head(mut stream: &TcpStream) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 || stream.read(&mut byte)? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    Ok(Some(String::from_utf8_lossy(&head).into_owned()))
}

/// Copies both ways. The client's end (or reset) is passed on as a
/// half-close, and the copy towards the client goes on until the server
/// closes: then the server has finished with everything it received.
fn pipe(client: TcpStream, server: TcpStream, traffic: &Shared) -> io::Result<()> {
    let upstream = {
        let (mut from, mut to) = (client.try_clone()?, server.try_clone()?);
        thread::spawn(move || {
            let mut buf = [0u8; 16384];
            let mut carried = 0u64;
            while let Ok(n @ 1..) = from.read(&mut buf) {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                carried += n as u64;
            }
            let _ = to.shutdown(Shutdown::Write);
            carried
        })
    };
    let (mut from, mut to) = (server, client);
    let mut buf = [0u8; 16384];
    let mut client_gone = false;
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if !client_gone && to.write_all(&buf[..n]).is_err() {
                    client_gone = true; // keep draining until the server closes
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let carried = upstream.join().unwrap_or(0);
    if carried > 0 {
        let mut t = traffic.0.lock().unwrap();
        t.carrying += 1;
        t.bytes += carried;
    }
    Ok(())
}

// ------------------------------------------------------------ TLS

/// How the hostile server answers once the simulator has processed the
/// request.
#[derive(Clone, Copy, Debug)]
enum Spoiler {
    /// An application-data record that does not decrypt.
    CorruptRecord,
    /// A fatal alert (handshake_failure) in plaintext.
    PlaintextAlert,
    /// The TCP connection closed, without close_notify.
    BareClose,
}

fn spoil(
    client: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    backend: SocketAddr,
    spoiler: Spoiler,
) -> io::Result<()> {
    let connection = rustls::ServerConnection::new(tls).map_err(io::Error::other)?;
    let mut stream = rustls::StreamOwned::new(connection, client);
    let Some(request) = read_message(&mut stream)? else {
        return Ok(());
    };
    let mut simulator = TcpStream::connect(backend)?;
    simulator.write_all(&request)?;
    // The whole answer: the request has been processed.
    read_message(&mut simulator)?;
    match spoiler {
        Spoiler::CorruptRecord => {
            let mut record = vec![0x17, 0x03, 0x03, 0x00, 0x40];
            record.extend((0u8..0x40).map(|i| i.wrapping_mul(37) ^ 0x5a));
            stream.sock.write_all(&record)?;
        }
        Spoiler::PlaintextAlert => stream
            .sock
            .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])?,
        Spoiler::BareClose => {}
    }
    stream.sock.shutdown(Shutdown::Write)?;
    // Until the client lets go.
    let _ = io::copy(&mut stream.sock, &mut io::sink());
    Ok(())
}

/// One HTTP/1.1 message (head and Content-Length body), read a byte at a
/// time for the head; `None` if the stream ends before it begins.
fn read_message(stream: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut byte = [0u8; 1];
    while !message.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return if message.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        message.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&message).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(Ok(0), |v| v.trim().parse())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    let start = message.len();
    message.resize(start + length, 0);
    stream.read_exact(&mut message[start..])?;
    Ok(Some(message))
}

// ------------------------------------------------------------ operations

/// A money-moving operation: its CLI name (the driver's argument), its path
/// and how to make a fresh request for it (with whatever state it needs).
struct Op {
    name: &'static str,
    path: &'static str,
    prepare: fn(&Prep) -> Value,
}

const OPS: &[Op] = &[
    Op {
        name: "update-qrcode",
        path: "/v1/netpay/bills/update-qrcode",
        prepare: |p| {
            let code = p.call("/v1/netpay/bills/get-qrcode", json!({}));
            json!({
                "qrCodeId": code["qrCodeId"],
                "billNo": p.id(),
                "billDate": p.today(),
                "totalAmount": 26,
            })
        },
    },
    Op {
        name: "get-qrcode",
        path: "/v1/netpay/bills/get-qrcode",
        prepare: |p| json!({"billNo": p.id(), "billDate": p.today(), "totalAmount": 100}),
    },
    Op {
        name: "close-qrcode",
        path: "/v1/netpay/bills/close-qrcode",
        prepare: |p| json!({"qrCodeId": p.one_off(json!({}))["qrCodeId"]}),
    },
    Op {
        name: "refund",
        path: "/v1/netpay/bills/refund",
        prepare: |p| {
            let bill = p.one_off(json!({}));
            p.pay(&bill);
            json!({
                "billNo": bill["billNo"],
                "billDate": bill["billDate"],
                "refundAmount": 30,
                "refundOrderId": p.id(),
            })
        },
    },
    Op {
        name: "preauth-complete",
        path: "/v1/netpay/bills/preauthed",
        prepare: |p| {
            let bill = p.one_off(json!({"preauthTransaction": "true"}));
            let paid = p.pay(&bill);
            json!({
                "billNo": bill["billNo"],
                "billDate": bill["billDate"],
                "authedOrderId": p.id(),
                "authIdRespCd": paid["authIdRespCd"],
                "totalAmount": 80,
                "authedDesc": "check-out",
            })
        },
    },
    Op {
        name: "preauth-cancel",
        path: "/v1/netpay/bills/preauth-cancel",
        prepare: |p| {
            let bill = p.one_off(json!({"preauthTransaction": "true"}));
            let paid = p.pay(&bill);
            json!({
                "billNo": bill["billNo"],
                "billDate": bill["billDate"],
                "cancelOrderId": p.id(),
                "authIdRespCd": paid["authIdRespCd"],
            })
        },
    },
    Op {
        name: "secure-cancel",
        path: "/v1/netpay/secure-cancel",
        prepare: |p| {
            let bill = p.one_off(json!({"secureTransaction": "true"}));
            json!({"merOrderId": p.pay(&bill)["merOrderId"]})
        },
    },
    Op {
        name: "secure-complete",
        path: "/v1/netpay/secure-complete",
        prepare: |p| {
            let bill = p.one_off(json!({"secureTransaction": "true"}));
            json!({"merOrderId": p.pay(&bill)["merOrderId"], "completedAmount": 50})
        },
    },
];

/// Makes the state a case needs, in-process, straight to the simulator
/// (none of it goes through a relay or the shim).
struct Prep {
    client: Client,
    agent: ureq::Agent,
    base_url: String,
}

impl Prep {
    fn new(base_url: &str) -> Prep {
        let config = json!({
            "environment": base_url,
            "appId": demo::APP_ID,
            "appKey": demo::APP_KEY,
            "mid": demo::MID,
            "tid": demo::TID,
            "msgSrcId": demo::MSG_SRC_ID,
        });
        Prep {
            client: Client::from_json(&config.to_string()).expect("valid config"),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(20)))
                .build()
                .into(),
            base_url: base_url.to_string(),
        }
    }

    fn id(&self) -> String {
        self.client.new_id().expect("an identifier")
    }

    fn today(&self) -> String {
        self.client.now().date()
    }

    fn call(&self, path: &str, request: Value) -> Value {
        self.client
            .call(path, &request.to_string())
            .unwrap_or_else(|e| panic!("{path} {request}: {e}"))
            .value
    }

    /// A one-off code of 100 fen with a new bill (and `extra` fields); the
    /// answer, with `billNo` and `billDate`.
    fn one_off(&self, extra: Value) -> Value {
        let mut request =
            json!({"billNo": self.id(), "billDate": self.today(), "totalAmount": 100});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        let mut code = self.call("/v1/netpay/bills/get-qrcode", request.clone());
        code["billNo"] = request["billNo"].clone();
        code["billDate"] = request["billDate"].clone();
        code
    }

    /// The customer pays the code of `bill`; the simulator's answer.
    fn pay(&self, bill: &Value) -> Value {
        let mut response = self
            .agent
            .post(format!("{}/_sandbox/pay", self.base_url))
            .content_type("application/json")
            .send(json!({"qrCodeId": bill["qrCodeId"]}).to_string())
            .expect("pay");
        let answer: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(answer["ok"], true, "pay: {answer}");
        answer
    }

    /// (requests, processed) on `path` so far.
    fn counters(&self, path: &str) -> (u64, u64) {
        let mut response = self
            .agent
            .get(format!("{}/_sandbox/stats", self.base_url))
            .call()
            .expect("stats");
        let stats: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        let count = |key: &str| stats[key][path].as_u64().unwrap_or(0);
        (count("requests"), count("processed"))
    }
}

// ------------------------------------------------------------ transports

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    /// `http://localhost:PORT`: the name lookup is a point too.
    Http,
    /// `https://127.0.0.1:PORT` (the test CA in `caFile`).
    Https,
    /// `http://` through the CONNECT proxy.
    ProxyHttp,
    /// `https://` through the CONNECT proxy.
    ProxyHttps,
}

impl Transport {
    const ALL: [Transport; 4] = [
        Transport::Http,
        Transport::Https,
        Transport::ProxyHttp,
        Transport::ProxyHttps,
    ];

    fn name(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Https => "https",
            Transport::ProxyHttp => "proxy-http",
            Transport::ProxyHttps => "proxy-https",
        }
    }
}

/// One worker's servers: a simulator process, its HTTPS front, the relays
/// the child talks to, and the files the driver reads.
struct Rig {
    prep: Prep,
    http: Relay,
    https: Relay,
    proxy: Relay,
    dir: PathBuf,
    // Dropped last: the front and the simulator process.
    _front: HttpsFront,
    _simulator: SandboxProcess,
}

impl Rig {
    fn start(tools: &Tools, pki: &TestPki, index: usize) -> Rig {
        let simulator = start_sandbox_process(&sandbox_program(), &["--port", "0"]);
        let sim_addr: SocketAddr = simulator
            .url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .expect("the simulator's address");
        let front = HttpsFront::start(sim_addr, pki.server_config("127.0.0.1", false))
            .expect("HTTPS front");
        let front_addr: SocketAddr = ([127, 0, 0, 1], front.port()).into();
        let http = Relay::start(Role::Pipe(sim_addr));
        let https = Relay::start(Role::Pipe(front_addr));
        let proxy = Relay::start(Role::Proxy([sim_addr, front_addr]));
        let dir = tools.dir.join(format!("worker-{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        pki.write_ca(&ca);
        let base = json!({
            "appId": demo::APP_ID,
            "appKey": demo::APP_KEY,
            "mid": demo::MID,
            "tid": demo::TID,
            "msgSrcId": demo::MSG_SRC_ID,
            "connectTimeoutMs": 2000,
            "timeoutMs": 5000,
        });
        for transport in Transport::ALL {
            let mut config = base.clone();
            let (url, tls) = match transport {
                Transport::Http => (format!("http://localhost:{}", http.port()), false),
                Transport::Https => (format!("https://127.0.0.1:{}", https.port()), true),
                Transport::ProxyHttp => (format!("http://{sim_addr}"), false),
                Transport::ProxyHttps => (format!("https://{front_addr}"), true),
            };
            config["environment"] = url.into();
            if tls {
                config["caFile"] = ca.to_str().unwrap().into();
            }
            if matches!(transport, Transport::ProxyHttp | Transport::ProxyHttps) {
                config["proxy"] = format!("http://127.0.0.1:{}", proxy.port()).into();
            }
            std::fs::write(
                dir.join(format!("config-{}.json", transport.name())),
                config.to_string(),
            )
            .unwrap();
        }
        Rig {
            prep: Prep::new(&simulator.url),
            http,
            https,
            proxy,
            dir,
            _front: front,
            _simulator: simulator,
        }
    }

    /// The relay the child connects to over `transport`.
    fn relay(&self, transport: Transport) -> &Relay {
        match transport {
            Transport::Http => &self.http,
            Transport::Https => &self.https,
            Transport::ProxyHttp | Transport::ProxyHttps => &self.proxy,
        }
    }
}

// ------------------------------------------------------------ one case

/// What the shim counted in the child.
#[derive(Debug, Default, Clone, Copy)]
struct ShimReport {
    writes: u64,
    reads: u64,
    connected: u64,
    fired: u64,
    bytes_out: u64,
}

impl ShimReport {
    fn parse(text: &str) -> Option<ShimReport> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let field = |name: &str| -> Option<u64> {
            let at = words.iter().position(|w| *w == name)?;
            words.get(at + 1)?.parse().ok()
        };
        Some(ShimReport {
            writes: field("writes")?,
            reads: field("reads")?,
            connected: field("connected")?,
            fired: field("fired")?,
            bytes_out: field("bytes-out")?,
        })
    }
}

/// What one run of the driver showed.
#[derive(Default)]
struct Outcome {
    report: ShimReport,
    /// The status the export returned (None: the driver failed).
    status: Option<i32>,
    /// The document it wrote (Null if not JSON).
    doc: Value,
    /// How often the request reached the simulator, and was processed there.
    requests: u64,
    processed: u64,
    /// All of the above in words, for messages.
    said: String,
    /// Failed checks: (class, detail).
    failures: Vec<(&'static str, String)>,
}

const DOUBLE: &str = "double arrival";
/// Request bytes left on more than one connection, or the request reached
/// the gateway more than once (processed at most once).
const RESENT: &str = "resent";
const FALSE_NOTHING_SENT: &str = "false nothing-sent";
const DISAGREE: &str = "status and document disagree";
const HARNESS: &str = "harness";

/// Runs `op` over `transport` in the driver with the shim at `point`
/// (`count` for none) and `errno`, and checks what it says against what
/// arrived.
fn run_case(
    tools: &Tools,
    rig: &Rig,
    transport: Transport,
    op: &Op,
    point: &str,
    errno: i32,
) -> Outcome {
    let target = Target {
        config: rig.dir.join(format!("config-{}.json", transport.name())),
        prep: &rig.prep,
        relay: rig.relay(transport),
        request_only: matches!(transport, Transport::Http | Transport::ProxyHttp),
    };
    run_driver(tools, &target, op, point, errno)
}

/// Where the driver sends a request.
struct Target<'a> {
    /// The client configuration file.
    config: PathBuf,
    /// State and counters of the simulator behind it.
    prep: &'a Prep,
    /// Every connection of the driver goes through it; the shim watches its port.
    relay: &'a Relay,
    /// What the relay pipes from the client is the request and nothing else
    /// (plain HTTP, directly or through the proxy's tunnel).
    request_only: bool,
}

/// Runs the driver for `op` at `target` with the shim at `point` and
/// `errno` (`count`: no fault), and checks its answer against the
/// simulator's counters.
fn run_driver(tools: &Tools, target: &Target, op: &Op, point: &str, errno: i32) -> Outcome {
    let Target {
        config,
        prep,
        relay,
        request_only,
    } = target;
    let mut outcome = Outcome::default();
    let dir = config.parent().unwrap();
    let request = (op.prepare)(prep);
    let request_file = dir.join("request.json");
    let report_file = dir.join("shim-report");
    std::fs::write(&request_file, request.to_string()).unwrap();
    let _ = std::fs::remove_file(&report_file);
    let before = relay.traffic();
    let (requests_before, processed_before) = prep.counters(op.path);

    let output = Command::new(&tools.driver)
        .arg(op.name)
        .arg(config)
        .arg(&request_file)
        .env("LD_PRELOAD", &tools.shim)
        .env("UMS_SHIM_PORT", relay.port().to_string())
        .env("UMS_SHIM_HOST", "localhost")
        .env("UMS_SHIM_POINT", point)
        .env("UMS_SHIM_ERRNO", errno.to_string())
        .env("UMS_SHIM_REPORT", &report_file)
        .output()
        .expect("the driver runs");
    let report = std::fs::read_to_string(&report_file)
        .ok()
        .and_then(|text| ShimReport::parse(&text));
    let Some(report) = report.filter(|_| output.status.success()) else {
        outcome.failures.push((
            HARNESS,
            format!(
                "driver {}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        ));
        return outcome;
    };
    outcome.report = report;
    if let Err(e) = relay.wait_idle(before.accepted + report.connected) {
        outcome.failures.push((HARNESS, e));
    }
    let after = relay.traffic();
    let (carrying, bytes) = (after.carrying - before.carrying, after.bytes - before.bytes);
    if bytes > report.bytes_out {
        // Only the child talks to the relay: a sanity check of the attribution.
        outcome.failures.push((
            HARNESS,
            format!(
                "the relay piped {bytes} bytes, the child wrote {}",
                report.bytes_out
            ),
        ));
    }
    let (requests_after, processed_after) = prep.counters(op.path);
    let (requests, processed) = (
        requests_after - requests_before,
        processed_after - processed_before,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (status_line, document) = stdout.split_once('\n').unwrap_or((&stdout, ""));
    let Ok(status) = status_line.trim().parse::<i32>() else {
        outcome
            .failures
            .push((HARNESS, format!("driver printed {stdout:?}")));
        return outcome;
    };
    let doc: Value = serde_json::from_str(document.trim()).unwrap_or(Value::Null);
    let said = format!(
        "status {status}, arrived {requests} processed {processed}, {carrying} connection(s) carried {bytes} bytes, shim {report:?}: {}",
        document.trim()
    );
    let flag = |key: &str| doc[key] == true;
    let mut failures = Vec::new();

    if processed > 1 {
        failures.push((DOUBLE, said.clone()));
    } else if requests > 1 || (*request_only && carrying > 1) {
        failures.push((RESENT, said.clone()));
    }
    if flag("nothingSent") && (requests > 0 || processed > 0 || (*request_only && bytes > 0)) {
        failures.push((FALSE_NOTHING_SENT, said.clone()));
    }
    if doc.is_null() {
        failures.push((DISAGREE, format!("the document is not JSON; {said}")));
    } else if status == UMS_OK {
        if doc["errCode"] != "SUCCESS" || doc.get("status").is_some() {
            failures.push((DISAGREE, format!("UMS_OK without SUCCESS; {said}")));
        }
        if processed == 0 {
            failures.push((DISAGREE, format!("UMS_OK yet never processed; {said}")));
        }
    } else {
        let name = Status(status).name();
        if doc["status"] != name {
            failures.push((DISAGREE, format!("status {name}; {said}")));
        }
        if flag("outcomeUnknown") != (status == UMS_ERR_OUTCOME_UNKNOWN) {
            failures.push((DISAGREE, format!("outcomeUnknown vs {name}; {said}")));
        }
        if flag("outcomeUnknown") && flag("nothingSent") {
            failures.push((DISAGREE, format!("outcomeUnknown and nothingSent; {said}")));
        }
    }
    outcome.failures.extend(failures);
    Outcome {
        status: Some(status),
        doc,
        requests,
        processed,
        said,
        ..outcome
    }
}

// ------------------------------------------------------------ the matrix

/// The cases of one operation over one transport, from its fault-free run:
/// each failure point with the errno classes it is tried with.
///
/// Every point gets every errno class, except over HTTPS through the proxy,
/// whose points are those of the CONNECT exchange (proxy-http) and of the
/// TLS handshake (https) together: there each point gets one errno class,
/// in turn. The connect phase is the same for every transport (a TCP
/// connect to the relay or the proxy): `connect:all` and `resolve` (the
/// lookup of `localhost`) run over plain HTTP only, and so do the `+down`
/// variants of the write and read points (every connect fails after the
/// fault).
fn cases(transport: Transport, report: &ShimReport) -> Vec<(String, &'static str, i32)> {
    let mut points = Vec::new();
    if transport == Transport::Http {
        points.push("resolve".to_string());
        points.push("connect:all".to_string());
    }
    points.push("connect:1".to_string());
    for n in 1..=report.writes {
        points.push(format!("write:{n}"));
        points.push(format!("write-half:{n}"));
    }
    for n in 1..=report.reads {
        points.push(format!("read:{n}"));
    }
    if transport == Transport::Http {
        // The network goes down with the fault and stays down: a library
        // that wrongly retries cannot succeed on its retry, and must answer
        // from its own view of what was sent.
        let down: Vec<String> = points
            .iter()
            .filter(|p| p.starts_with("write") || p.starts_with("read"))
            .map(|p| format!("{p}+down"))
            .collect();
        points.extend(down);
    }
    let mut cases = Vec::new();
    for (i, point) in points.into_iter().enumerate() {
        if transport == Transport::ProxyHttps {
            let (name, errno) = ERRNOS[i % ERRNOS.len()];
            cases.push((point, name, errno));
        } else {
            cases.extend(
                ERRNOS
                    .iter()
                    .map(|&(name, errno)| (point.clone(), name, errno)),
            );
        }
    }
    cases
}

#[derive(Default)]
struct Tally {
    cases: usize,
    not_reached: Vec<String>,
    failures: Vec<(String, &'static str, String)>,
    points: BTreeMap<String, usize>,
}

#[test]
fn every_failure_point_of_every_money_moving_operation() {
    let started = Instant::now();
    let tools = Tools::build("matrix");
    let pki = TestPki::new("ums fault-matrix CA");
    let families: VecDeque<(Transport, &Op)> = Transport::ALL
        .into_iter()
        .flat_map(|t| OPS.iter().map(move |op| (t, op)))
        .collect();
    let queue = Mutex::new(families);
    let tally = Mutex::new(Tally::default());
    let done = AtomicUsize::new(0);
    thread::scope(|scope| {
        for index in 0..WORKERS {
            let (tools, pki, queue, tally, done) = (&tools, &pki, &queue, &tally, &done);
            scope.spawn(move || {
                let rig = Rig::start(tools, pki, index);
                loop {
                    let Some((transport, op)) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let family = format!("{}/{}", transport.name(), op.name);
                    let count = run_case(tools, &rig, transport, op, "count", 0);
                    let mut local = Tally::default();
                    local.cases += 1;
                    let mut count_failures = count.failures;
                    if count.status != Some(UMS_OK) || count.processed != 1 {
                        count_failures.push((
                            HARNESS,
                            format!("the fault-free run must succeed; {}", count.said),
                        ));
                    }
                    for (class, detail) in count_failures {
                        local
                            .failures
                            .push((format!("{family}/count"), class, detail));
                    }
                    let cases = cases(transport, &count.report);
                    local.points.insert(family.clone(), cases.len());
                    for (point, errno_name, errno) in cases {
                        let name = format!("{family}/{point}/{errno_name}");
                        let outcome = run_case(tools, &rig, transport, op, &point, errno);
                        local.cases += 1;
                        if outcome.report.fired == 0 && outcome.failures.is_empty() {
                            local.not_reached.push(name.clone());
                        }
                        for (class, detail) in outcome.failures {
                            local.failures.push((name.clone(), class, detail));
                        }
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    let mut all = tally.lock().unwrap();
                    all.cases += local.cases;
                    all.not_reached.extend(local.not_reached);
                    all.failures.extend(local.failures);
                    all.points.extend(local.points);
                }
            });
        }
    });
    let tally = tally.into_inner().unwrap();
    let count = |class: &str| tally.failures.iter().filter(|f| f.1 == class).count();
    println!("cases per transport/operation: {:?}", tally.points);
    if !tally.not_reached.is_empty() {
        println!(
            "{} case(s) whose point was not reached (the call took another path): {}",
            tally.not_reached.len(),
            tally.not_reached.join(", ")
        );
    }
    let others = tally.failures.len() - count(DOUBLE) - count(FALSE_NOTHING_SENT);
    announce(&format!(
        "fault matrix: {} cases, {} double arrivals, {} false nothing-sent ({} resent, {} other failures) in {:.1} s",
        tally.cases,
        count(DOUBLE),
        count(FALSE_NOTHING_SENT),
        count(RESENT),
        others - count(RESENT),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(
        done.load(Ordering::SeqCst),
        Transport::ALL.len() * OPS.len()
    );
    // A point is missed only when a run makes fewer calls than the
    // fault-free one did (a TLS read split differently): rare, or the
    // matrix would not test what it claims.
    assert!(
        tally.not_reached.len() * 50 < tally.cases,
        "{} of {} cases never reached their point",
        tally.not_reached.len(),
        tally.cases
    );
    let mut failures = tally.failures;
    failures.sort();
    // Where they are: class, transport and kind of point.
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for (case, class, _) in &failures {
        let parts: Vec<&str> = case.split('/').collect();
        let kind = parts[2].split(':').next().unwrap_or("");
        let down = if parts[2].ends_with("+down") {
            "+down"
        } else {
            ""
        };
        *groups
            .entry(format!("{class}: {} {kind}{down}", parts[0]))
            .or_default() += 1;
    }
    assert!(
        failures.is_empty(),
        "{} failed check(s):\n{}\n\n{}",
        failures.len(),
        groups
            .iter()
            .map(|(group, n)| format!("{n:5} {group}"))
            .collect::<Vec<_>>()
            .join("\n"),
        failures
            .iter()
            .map(|(case, class, detail)| format!("{case}: {class}: {detail}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_tls_failure_after_the_request_was_sent_is_outcome_unknown() {
    // The request is processed; the answer is a record that does not
    // decrypt, a plaintext alert or a bare close. Whatever the TLS layer
    // says, the request had left: "outcome unknown", never "TLS failure,
    // nothing sent".
    let tools = Tools::build("hostile");
    let pki = TestPki::new("ums fault-matrix CA");
    let simulator = start_sandbox_process(&sandbox_program(), &["--port", "0"]);
    let sim_addr: SocketAddr = simulator
        .url
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .expect("the simulator's address");
    let prep = Prep::new(&simulator.url);
    let ca = tools.dir.join("ca.pem");
    pki.write_ca(&ca);
    let mut failures = Vec::new();
    let mut cases = 0;
    for spoiler in [
        Spoiler::CorruptRecord,
        Spoiler::PlaintextAlert,
        Spoiler::BareClose,
    ] {
        let relay = Relay::start(Role::Hostile(
            pki.server_config("127.0.0.1", false),
            sim_addr,
            spoiler,
        ));
        let config = tools.dir.join(format!("config-{spoiler:?}.json"));
        let document = json!({
            "environment": format!("https://127.0.0.1:{}", relay.port()),
            "caFile": ca.to_str().unwrap(),
            "appId": demo::APP_ID,
            "appKey": demo::APP_KEY,
            "mid": demo::MID,
            "tid": demo::TID,
            "connectTimeoutMs": 2000,
            "timeoutMs": 5000,
        });
        std::fs::write(&config, document.to_string()).unwrap();
        let target = Target {
            config,
            prep: &prep,
            relay: &relay,
            request_only: false,
        };
        for op in OPS {
            cases += 1;
            let name = format!("{spoiler:?}/{}", op.name);
            let outcome = run_driver(&tools, &target, op, "count", 0);
            for (class, detail) in &outcome.failures {
                failures.push(format!("{name}: {class}: {detail}"));
            }
            let expected = outcome.status == Some(UMS_ERR_OUTCOME_UNKNOWN)
                && outcome.doc["outcomeUnknown"] == true
                && outcome.doc["nothingSent"] == false
                && outcome.processed == 1
                && outcome.requests == 1;
            if !expected {
                failures.push(format!(
                    "{name}: expected UMS_ERR_OUTCOME_UNKNOWN, not nothing-sent, processed once; {}",
                    outcome.said
                ));
            }
        }
    }
    announce(&format!(
        "TLS failure after the request: {cases} cases, {} failed checks",
        failures.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
