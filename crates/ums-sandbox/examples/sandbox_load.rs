//! A small load program for a running `ums-sandbox`: signed update-qrcode
//! calls (the doc page's request, a new bill on each call) over N
//! keep-alive connections, for a few seconds per row; prints calls/s for
//! each connection count and, with `--pid`, the simulator's resident memory
//! (VmRSS) after each row.
//!
//! ```text
//! target/release/ums-sandbox --port 0 --quiet &   # note the port
//! cargo run --release -p ums-sandbox --example sandbox_load -- \
//!     --port PORT --connections 1,2,4,8 --seconds 5 [--pid PID]
//! ```
//!
//! Each connection updates its own QR code (got once with get-qrcode), so
//! the rows measure the simulator, not one code's contention. Requests are
//! written by hand on plain sockets so that the client costs little.

use chinaums::clock::BeijingTime;
use chinaums::sign::sign_body;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use ums_sandbox::demo;

struct Options {
    port: u16,
    connections: Vec<usize>,
    seconds: u64,
    pid: Option<u32>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        connections: vec![1, 2, 4, 8],
        seconds: 5,
        pid: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pairs = args.chunks(2);
    for pair in &mut pairs {
        let [name, value] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let bad = |_| format!("bad value for {name}: `{value}`");
        match name.as_str() {
            "--port" => options.port = value.parse().map_err(bad)?,
            "--seconds" => options.seconds = value.parse().map_err(bad)?,
            "--pid" => options.pid = Some(value.parse().map_err(bad)?),
            "--connections" => {
                options.connections = value
                    .split(',')
                    .map(|n| n.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(bad)?
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.port == 0 {
        return Err("--port PORT of a running ums-sandbox is required".into());
    }
    Ok(options)
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A unique nonce for this process.
fn nonce() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "load{}n{:020}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// One keep-alive connection speaking just enough HTTP/1.1.
struct Connection {
    reader: BufReader<TcpStream>,
    port: u16,
}

impl Connection {
    fn open(port: u16) -> Connection {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the simulator");
        stream.set_nodelay(true).ok();
        Connection {
            reader: BufReader::new(stream),
            port,
        }
    }

    /// POSTs a signed business request; returns the answer's JSON.
    fn call(&mut self, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let stamp = BeijingTime::from_unix_millis(now_ms()).compact();
        let auth = sign_body(
            demo::APP_ID,
            demo::APP_KEY,
            &stamp,
            &nonce(),
            body.as_bytes(),
        );
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.port,
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).expect("write head");
        stream.write_all(body.as_bytes()).expect("write body");
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("read head");
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("content-length");
                }
            }
        }
        let mut answer = vec![0u8; length];
        self.reader.read_exact(&mut answer).expect("read body");
        serde_json::from_slice(&answer).unwrap_or(Value::Null)
    }
}

fn common(extra: Value) -> Value {
    let mut body = json!({
        "requestTimestamp": BeijingTime::from_unix_millis(now_ms()).date_time(),
        "mid": demo::MID, "tid": demo::TID, "instMid": demo::INST_MID,
    });
    for (key, value) in extra.as_object().into_iter().flatten() {
        body[key] = value.clone();
    }
    body
}

/// The doc page's update-qrcode request for `qr_code_id` with bill `bill_no`.
fn update_body(qr_code_id: &str, bill_no: &str) -> Value {
    let today = BeijingTime::from_unix_millis(now_ms()).date();
    common(json!({
        "qrCodeId": qr_code_id, "msgId": "800000000010", "srcReserve": "test",
        "billNo": bill_no, "billDate": today, "billDesc": "updateQRCode", "totalAmount": 26,
        "goods": [{"goodsId": "001", "goodsName": "鸡蛋", "quantity": "10", "price": "1",
                   "goodsCategory": "food meterial", "body": "two eggs"}],
        "memberId": "20200226001", "counterNo": "06",
        "notifyUrl": "http://www.test.com/notify", "returnUrl": "http://www.test.com/return",
        "secureTransaction": "false", "walletOption": "SINGLE",
        "name": "5bygKuS4iQ==", "mobile": "MTMxKioqKjM0NTM=", "certType": "IDENTITY_CARD",
        "certNo": "MTEwMTAxKioqKioqKio5MDA4", "fixBuyer": "false",
        "preauthTransaction": "false", "installmentNumber": 3,
        "retCommParams": {"foodOrderType": "pre_order", "brandId": "3421234"},
        "attachedData": "test", "clientIp": "1.1.1.1"
    }))
}

/// Runs `connections` connections for `seconds`; returns calls/s.
fn run_row(port: u16, connections: usize, seconds: u64, row: usize) -> f64 {
    let barrier = Arc::new(Barrier::new(connections + 1));
    let calls = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let barrier = Arc::clone(&barrier);
            let calls = Arc::clone(&calls);
            std::thread::spawn(move || {
                let mut connection = Connection::open(port);
                let got = connection.call("/v1/netpay/bills/get-qrcode", &common(json!({})));
                let code = got["qrCodeId"].as_str().expect("get-qrcode").to_string();
                barrier.wait();
                let deadline = Instant::now() + Duration::from_secs(seconds);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let bill_no = format!("L{}R{row}W{worker}N{n}", std::process::id());
                    let answer = connection.call(
                        "/v1/netpay/bills/update-qrcode",
                        &update_body(&code, &bill_no),
                    );
                    assert_eq!(answer["errCode"], "SUCCESS", "{answer}");
                    n += 1;
                }
                calls.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for worker in workers {
        worker.join().expect("worker");
    }
    calls.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// VmRSS of `pid` in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sandbox_load: {message}");
            std::process::exit(2);
        }
    };
    let mut total = 0u64;
    for (row, &connections) in options.connections.iter().enumerate() {
        let rate = run_row(options.port, connections, options.seconds, row);
        total += (rate * options.seconds as f64) as u64;
        let rss = options
            .pid
            .and_then(rss_kib)
            .map(|kib| format!(", simulator RSS {} MiB after ~{total} calls", kib / 1024))
            .unwrap_or_default();
        println!("{connections} connection(s): {rate:.0} calls/s{rss}");
    }
}
