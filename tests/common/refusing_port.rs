//! A port that refuses connections, without races (included with `#[path]`).
#![allow(dead_code)]

/// A loopback port that refuses every connection for as long as the value
/// lives: a TCP socket bound to 127.0.0.1:0 that never listens. The port
/// stays taken by this socket (bound without SO_REUSEADDR, so no other
/// socket can bind it meanwhile), and the kernel answers a connection to it
/// with a reset: "connection refused" every time. A port bound, released
/// and assumed still free could be taken by another process in between.
pub struct RefusingPort {
    _socket: std::os::fd::OwnedFd,
    port: u16,
}

impl RefusingPort {
    pub fn new() -> RefusingPort {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: plain socket calls on a descriptor owned here, with a
        // zeroed sockaddr_in of the size passed.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let socket = OwnedFd::from_raw_fd(fd);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let bound = libc::bind(
                socket.as_raw_fd(),
                (&addr as *const libc::sockaddr_in).cast(),
                len,
            );
            assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
            let mut got = len;
            let named = libc::getsockname(
                socket.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_in).cast(),
                &mut got,
            );
            assert_eq!(named, 0, "getsockname: {}", std::io::Error::last_os_error());
            RefusingPort {
                _socket: socket,
                port: u16::from_be(addr.sin_port),
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
