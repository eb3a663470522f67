//! HTTPS in front of the simulator, for TLS tests: a listener on 127.0.0.1
//! that terminates TLS with a certificate the test made (for example with a
//! test CA generated at test time) and relays each HTTP/1.1 exchange to the
//! plain simulator over one kept-alive backend connection.

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A running HTTPS front; dropping it stops accepting.
pub struct HttpsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl HttpsFront {
    /// Serves HTTPS on a free port of 127.0.0.1, relaying to `backend`.
    pub fn start(backend: SocketAddr, tls: Arc<ServerConfig>) -> io::Result<HttpsFront> {
        HttpsFront::start_on("127.0.0.1:0".parse().expect("an address"), backend, tls)
    }

    /// Serves HTTPS on `listen` (port 0: a free one), relaying to `backend`
    /// (the link benchmark listens on a namespace's veth address).
    pub fn start_on(
        listen: SocketAddr,
        backend: SocketAddr,
        tls: Arc<ServerConfig>,
    ) -> io::Result<HttpsFront> {
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let tls = tls.clone();
                std::thread::spawn(move || {
                    // A failed handshake is the point of some tests: ignore it.
                    let _ = relay(stream, backend, tls);
                });
            }
        });
        Ok(HttpsFront {
            addr,
            stop,
            acceptor: Some(acceptor),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the acceptor
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

fn relay(client: TcpStream, backend: SocketAddr, tls: Arc<ServerConfig>) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    client.set_nodelay(true)?;
    let connection = ServerConnection::new(tls).map_err(io::Error::other)?;
    let mut front = BufReader::new(StreamOwned::new(connection, client));
    let upstream = TcpStream::connect(backend)?;
    upstream.set_nodelay(true)?;
    let mut back = BufReader::new(upstream.try_clone()?);
    let mut upstream = upstream;
    loop {
        let Some(request) = read_message(&mut front)? else {
            return Ok(());
        };
        upstream.write_all(&request)?;
        let Some(answer) = read_message(&mut back)? else {
            return Ok(());
        };
        let tls_stream = front.get_mut();
        tls_stream.write_all(&answer)?;
        tls_stream.flush()?;
    }
}

/// One HTTP/1.1 message (head and Content-Length body), or `None` at a
/// clean end of stream.
fn read_message(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return if message.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if let Some(value) = text.strip_prefix("content-length:") {
            content_length = value
                .trim()
                .parse()
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
        }
        message.extend_from_slice(&line);
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let start = message.len();
    message.resize(start + content_length, 0);
    reader.read_exact(&mut message[start..])?;
    Ok(Some(message))
}
