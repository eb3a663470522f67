//! A real `redis-server` for tests (included with `#[path]`): started on a
//! loopback port, stopped on drop, and able to stop, start again on the same
//! port, and pause (SIGSTOP: connections are accepted by the kernel, nothing
//! answers) for fault tests.
//!
//! The port: Redis cannot be handed a listening socket, so a free port is
//! found by binding 127.0.0.1:0 and closing it, then given to
//! `redis-server --port`. Another process could take the port in between;
//! that race is detected rather than ignored: a server that cannot bind
//! exits (its log says so) and a new port is tried, and the server that
//! answers is checked to be ours (`INFO server`'s `process_id` is our
//! child's pid), so a test never talks to somebody else's server.
//!
//! Readiness is read from the server's own log ("Ready to accept
//! connections"), never waited for with sleeps.
//!
//! A missing `redis-server` FAILS the test with a clear message: CI installs
//! it through scripts/setup; a skipped test would pass without testing.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a server may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// TLS files for `redis-server --tls-port`.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

pub struct RedisServer {
    program: String,
    child: Option<Child>,
    port: u16,
    password: Option<String>,
    tls: Option<TlsFiles>,
}

impl RedisServer {
    /// A server on a free loopback port, no password.
    pub fn start() -> RedisServer {
        RedisServer::start_with(None, None)
    }

    /// A server that requires `password` (`requirepass`).
    pub fn with_password(password: &str) -> RedisServer {
        RedisServer::start_with(Some(password.to_string()), None)
    }

    /// A server that speaks only TLS (`rediss://`) with these files.
    pub fn with_tls(tls: TlsFiles) -> RedisServer {
        RedisServer::start_with(None, Some(tls))
    }

    /// A server run by `program` (`UMS_REDIS_SERVER`, else `redis-server`).
    pub fn start_program(program: &str) -> RedisServer {
        RedisServer::start_from(program.to_string(), None, None)
    }

    fn start_with(password: Option<String>, tls: Option<TlsFiles>) -> RedisServer {
        let program = std::env::var("UMS_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        RedisServer::start_from(program, password, tls)
    }

    fn start_from(program: String, password: Option<String>, tls: Option<TlsFiles>) -> RedisServer {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut server = RedisServer {
                program: program.clone(),
                child: None,
                port,
                password: password.clone(),
                tls: tls.clone(),
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start on any of 5 free ports; last: {last}");
    }

    /// `redis://127.0.0.1:PORT/0` (with the password, `rediss://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        match &self.password {
            Some(p) => format!("{scheme}://:{p}@127.0.0.1:{}/0", self.port),
            None => format!("{scheme}://127.0.0.1:{}/0", self.port),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's pid (while it runs).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// Stops the server (SIGKILL: nothing is saved, like a crash).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn()
            .unwrap_or_else(|e| panic!("redis-server did not restart on port {}: {e}", self.port));
    }

    /// Freezes the server (SIGSTOP): connections are still accepted by the
    /// kernel, no command is answered: a "slow" Redis.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = self.pid() as libc::pid_t;
        // SAFETY: a signal to our own child process.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// A connection for the test's own reads and writes.
    pub fn connection(&self) -> redis::Connection {
        let client = match &self.tls {
            Some(tls) => redis::Client::build_with_tls(
                self.url(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(&tls.ca).unwrap()),
                },
            ),
            None => redis::Client::open(self.url()),
        }
        .unwrap();
        client
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap()
    }

    /// Starts `redis-server` on `self.port` and waits for its log to say it
    /// is ready; checks that the server answering is this child.
    fn spawn(&mut self) -> Result<(), String> {
        let program = self.program.clone();
        let port = self.port.to_string();
        let mut cmd = Command::new(&program);
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--logfile", "", "--loglevel", "notice", "--daemonize", "no"])
            .args(["--dir", &std::env::temp_dir().to_string_lossy()]);
        match &self.tls {
            Some(tls) => {
                cmd.args(["--port", "0", "--tls-port", &port])
                    .arg("--tls-cert-file")
                    .arg(&tls.cert)
                    .arg("--tls-key-file")
                    .arg(&tls.key)
                    .arg("--tls-ca-cert-file")
                    .arg(&tls.ca)
                    .args(["--tls-auth-clients", "no"]);
            }
            None => {
                cmd.args(["--port", &port]);
            }
        }
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let mut child = match cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`{program}` is not installed: these tests need a real Redis server. \
                 Run scripts/setup (it installs Debian's redis-server), or set \
                 UMS_REDIS_SERVER to its path."
            ),
            Err(e) => panic!("cannot start `{program}`: {e}"),
        };
        // The log, line by line, from a thread that keeps draining it so the
        // server never blocks on a full pipe.
        let (lines_tx, lines) = mpsc::channel::<String>();
        let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [stdout, stderr] {
            let lines_tx = lines_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    // Once nobody listens, the lines are only drained.
                    let _ = lines_tx.send(line);
                }
            });
        }
        drop(lines_tx);
        let mut log = Vec::new();
        let ready = loop {
            match lines.recv_timeout(READY_WITHIN) {
                Ok(line) => {
                    let ready = line.contains("Ready to accept connections");
                    log.push(line);
                    if ready {
                        break true;
                    }
                }
                // The server ended (it could not bind) or said nothing in time.
                Err(_) => break false,
            }
        };
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "redis-server on port {port} did not become ready: {}",
                log.join(" | ")
            ));
        }
        let pid = child.id();
        self.child = Some(child);
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query(&mut self.connection())
            .map_err(|e| format!("INFO server: {e}"))?;
        let ours = info
            .lines()
            .any(|l| l.trim() == format!("process_id:{pid}"));
        if !ours {
            self.stop();
            return Err(format!("port {port} is answered by another Redis"));
        }
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port that was free a moment ago (see the module comment for
/// how the race is handled).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A fleet of "processes" (one `Client` each, each with its own token
/// cache) against one in-process simulator, all on one hand-moved clock.
pub mod fleet {
    use chinaums::clock::{ManualClock, RandomNonce};
    use chinaums::{Answer, Client, Config};
    use serde_json::{json, Value};
    use std::sync::{Arc, Barrier};
    use ums_sandbox::{demo, Sandbox, SandboxConfig};

    /// The simulator's tokens live this long (its default).
    pub const TOKEN_LIFETIME_SECS: u64 = 3600;

    pub struct Fleet {
        pub sandbox: Sandbox,
        pub clock: Arc<ManualClock>,
    }

    impl Fleet {
        pub fn new() -> Fleet {
            let clock = Arc::new(ManualClock::starting_now());
            let sandbox = Sandbox::start(SandboxConfig {
                clock: clock.clone(),
                ..SandboxConfig::default()
            })
            .unwrap();
            Fleet { sandbox, clock }
        }

        /// The config of a token-mode process of the demo app, with `extra`.
        pub fn config(&self, extra: Value) -> Config {
            let mut c = demo::client_config(
                &self.sandbox.base_url(),
                json!({"auth": "token", "timeoutMs": 20000}),
            );
            for (k, v) in extra.as_object().unwrap() {
                c[k] = v.clone();
            }
            Config::from_json(&c.to_string()).unwrap()
        }

        /// One process whose token store is `store` ("memory" or a URL).
        pub fn process(&self, store: &str) -> Client {
            self.process_with(json!({ "tokenStore": store }))
        }

        pub fn process_with(&self, extra: Value) -> Client {
            Client::with_clock_and_nonces(
                self.config(extra),
                self.clock.clone(),
                Arc::new(RandomNonce),
            )
            .unwrap()
        }

        pub fn processes(&self, n: usize, store: &str) -> Vec<Arc<Client>> {
            (0..n).map(|_| Arc::new(self.process(store))).collect()
        }

        /// Moves the shared clock past the clients' token lifetime (3600 s
        /// less the 300 s margin), not past the simulator's.
        pub fn expire_local_tokens(&self) {
            self.clock
                .advance(std::time::Duration::from_secs(TOKEN_LIFETIME_SECS - 200));
        }
    }

    /// A money-moving call that succeeds: update-qrcode of the seed code
    /// with a fresh bill number.
    pub fn pay(client: &Client) -> chinaums::Result<Answer> {
        let request = json!({
            "qrCodeId": demo::SEED_QR_CODE_ID,
            "billNo": client.new_id()?,
            "billDate": client.now().date(),
            "totalAmount": 26,
        });
        client.update_qrcode(&request.to_string())
    }

    /// Every client makes `calls` calls, all clients starting together on
    /// their own threads; the failures, as text.
    pub fn run_together(clients: &[Arc<Client>], calls: usize) -> Vec<String> {
        let barrier = Arc::new(Barrier::new(clients.len()));
        let threads: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(i, client)| {
                let (client, barrier) = (client.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..calls)
                        .filter_map(|j| {
                            pay(&client)
                                .err()
                                .map(|e| format!("process {i} call {j}: {e}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    }
}
