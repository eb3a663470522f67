//! Time and randomness, injectable so that signing is reproducible in tests.
//!
//! ChinaUMS wants Beijing time (UTC+8, no daylight saving) in two shapes:
//! `yyyyMMddHHmmss` in the Authorization header and `yyyy-MM-dd HH:mm:ss` in
//! `requestTimestamp`. Both are derived here from Unix milliseconds with a
//! civil-date conversion, so no time-zone database is needed.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds east of UTC for Beijing time.
const BEIJING_OFFSET_SECONDS: i64 = 8 * 3600;

/// A source of "now" as Unix milliseconds.
pub trait Clock: Send + Sync {
    fn now_unix_millis(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        }
    }
}

/// A clock stopped at one instant (tests, reproducible signatures).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_unix_millis(&self) -> i64 {
        self.0
    }
}

/// A clock that moves only when told to: one instance shared by clients
/// and the simulator (`SandboxConfig::clock`) lets a test move token
/// expiry, the token store's retry pause and notification claims without
/// waiting.
#[derive(Debug)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    /// A clock standing at `unix_millis`.
    pub fn new(unix_millis: i64) -> ManualClock {
        ManualClock(std::sync::atomic::AtomicI64::new(unix_millis))
    }

    /// A clock standing at the system clock's now.
    pub fn starting_now() -> ManualClock {
        ManualClock::new(SystemClock.now_unix_millis())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_millis(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A source of nonces for OPEN-BODY-SIG and token requests.
pub trait NonceSource: Send + Sync {
    fn nonce(&self) -> String;
}

/// 32 lower-case hex characters, unique and unpredictable: the first 16
/// bytes of SHA-256(key ‖ counter), with a 256-bit key drawn from the
/// operating system's CSPRNG once per thread (and again in a forked child)
/// and a counter that never repeats under one key.
///
/// Why not `getrandom` per nonce: a nonce must never repeat (the gateway
/// refuses a replayed one) and should not be guessable in advance; it is
/// not a key, and nothing is derived from it. The counter makes the nonces
/// of one key distinct; two keys (threads, processes) collide with
/// probability 2^-128 per pair of nonces; without the key the next nonce is
/// as unguessable as SHA-256 output, and the key is only as exposed as the
/// appKey in the same process memory. This saves one system call per
/// signed request.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomNonce;

impl NonceSource for RandomNonce {
    fn nonce(&self) -> String {
        crate::sign::hex_lower(&nonce_stream::next())
    }
}

mod nonce_stream {
    use sha2::{Digest, Sha256};
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Bumped in every forked child, so that a thread state copied into the
    /// child by fork() is not continued there (parent and child would send
    /// the same nonces).
    static FORKS: AtomicU64 = AtomicU64::new(0);

    extern "C" fn forked_child() {
        FORKS.fetch_add(1, Ordering::Relaxed);
    }

    struct Stream {
        key: [u8; 32],
        counter: u64,
        forks: u64,
    }

    thread_local! {
        static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
    }

    fn seeded() -> Stream {
        static WATCH_FORKS: std::sync::Once = std::sync::Once::new();
        #[cfg(unix)]
        // SAFETY: registers a handler that only bumps an atomic counter
        // (async-signal-safe), as the child after fork() requires.
        WATCH_FORKS.call_once(|| unsafe {
            libc::pthread_atfork(None, None, Some(forked_child));
        });
        #[cfg(not(unix))]
        WATCH_FORKS.call_once(|| {});
        let mut key = [0u8; 32];
        super::fill_random(&mut key);
        Stream {
            key,
            counter: 0,
            forks: FORKS.load(Ordering::Relaxed),
        }
    }

    /// The next 16 nonce bytes of this thread.
    pub(super) fn next() -> [u8; 16] {
        STREAM.with(|cell| {
            let mut slot = cell.borrow_mut();
            let forks = FORKS.load(Ordering::Relaxed);
            if slot.as_ref().is_none_or(|s| s.forks != forks) {
                *slot = Some(seeded());
            }
            let stream = slot.as_mut().expect("seeded above");
            stream.counter += 1;
            let digest = Sha256::new()
                .chain_update(stream.key)
                .chain_update(stream.counter.to_le_bytes())
                .finalize();
            let mut out = [0u8; 16];
            out.copy_from_slice(&digest[..16]);
            out
        })
    }
}

/// Always the same nonce (tests, reproducible signatures only).
#[derive(Debug, Clone)]
pub struct FixedNonce(pub String);

impl NonceSource for FixedNonce {
    fn nonce(&self) -> String {
        self.0.clone()
    }
}

/// Fills `buf` from the OS CSPRNG. A machine without one cannot sign safely,
/// which is a broken environment rather than a caller error.
pub fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// A calendar date and time of day in Beijing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BeijingTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl BeijingTime {
    pub fn from_unix_millis(ms: i64) -> Self {
        let local_ms = ms + BEIJING_OFFSET_SECONDS * 1000;
        let secs = local_ms.div_euclid(1000);
        let millis = local_ms.rem_euclid(1000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        BeijingTime {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: (sod % 3600 / 60) as u32,
            second: (sod % 60) as u32,
            millis,
        }
    }

    /// Unix milliseconds of this Beijing-time instant.
    pub fn to_unix_millis(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        (secs - BEIJING_OFFSET_SECONDS) * 1000 + i64::from(self.millis)
    }

    /// `yyyyMMddHHmmss` (Authorization header, token request).
    pub fn compact(&self) -> String {
        let mut s = String::with_capacity(14);
        if self.push_digits(&mut s, "", "", "") {
            return s;
        }
        let _ = write!(
            s,
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        s
    }

    /// `yyyyMMddHHmmssSSS` (identifiers, docs/protocol.md §4.2).
    pub fn compact_millis(&self) -> String {
        let mut s = self.compact();
        let _ = write!(s, "{:03}", self.millis);
        s
    }

    /// `yyyy-MM-dd HH:mm:ss` (`requestTimestamp`, `expireTime`).
    pub fn date_time(&self) -> String {
        let mut s = String::with_capacity(19);
        if self.push_digits(&mut s, "-", " ", ":") {
            return s;
        }
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Appends `yyyy<d>MM<d>dd<m>HH<t>mm<t>ss` without the formatting
    /// machinery (each call formats two of these). Returns false, having
    /// written nothing, for a year outside 0..=9999 or a field above 99,
    /// which the callers format the general way.
    fn push_digits(&self, out: &mut String, d: &str, m: &str, t: &str) -> bool {
        let small = [self.month, self.day, self.hour, self.minute, self.second];
        if !(0..=9999).contains(&self.year) || small.iter().any(|&v| v > 99) {
            return false;
        }
        push_padded(out, self.year as u32, 4);
        for (value, sep) in small.into_iter().zip([d, d, m, t, t]) {
            out.push_str(sep);
            push_padded(out, value, 2);
        }
        true
    }

    /// `yyyy-MM-dd` (`billDate`).
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Parses `yyyy-MM-dd HH:mm:ss`, checking that the date exists.
    pub fn parse_date_time(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let date = Self::parse_date(&s[..10])?;
        let hour = digits(&b[11..13])?;
        let minute = digits(&b[14..16])?;
        let second = digits(&b[17..19])?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(BeijingTime {
            hour,
            minute,
            second,
            ..date
        })
    }

    /// Parses `yyyy-MM-dd`, checking that the date exists.
    pub fn parse_date(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
            return None;
        }
        Some(BeijingTime {
            year: i64::from(year),
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
        })
    }

    /// Parses `yyyyMMddHHmmss` (the header timestamp).
    pub fn parse_compact(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 14 {
            return None;
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[4..6])?;
        let day = digits(&b[6..8])?;
        let hour = digits(&b[8..10])?;
        let minute = digits(&b[10..12])?;
        let second = digits(&b[12..14])?;
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(i64::from(year), month)
            && hour <= 23
            && minute <= 59
            && second <= 59;
        valid.then_some(BeijingTime {
            year: i64::from(year),
            month,
            day,
            hour,
            minute,
            second,
            millis: 0,
        })
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

// Howard Hinnant's civil-date algorithms (public domain).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends `n` as `width` decimal digits, zero-padded (`n < 10^width`).
fn push_padded(out: &mut String, n: u32, width: u32) {
    let mut div = 10u32.pow(width - 1);
    while div > 0 {
        out.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_utc_plus_eight() {
        // 2017-01-01T04:00:00Z is 12:00 in Beijing.
        let t = BeijingTime::from_unix_millis(1_483_243_200_000);
        assert_eq!(t.compact(), "20170101120000");
        assert_eq!(t.date_time(), "2017-01-01 12:00:00");
        assert_eq!(t.date(), "2017-01-01");
        // 16:30 UTC on Dec 31 is already the next day and year in Beijing.
        let t = BeijingTime::from_unix_millis(1_704_040_200_123);
        assert_eq!(t.compact_millis(), "20240101003000123");
    }

    #[test]
    fn parse_and_format_round_trip() {
        let t = BeijingTime::parse_date_time("2024-02-29 23:59:58").unwrap();
        assert_eq!(BeijingTime::from_unix_millis(t.to_unix_millis()), t);
        assert_eq!(BeijingTime::parse_compact("20240229235958"), Some(t));
        for bad in [
            "20230229000000",
            "2024022923595a",
            "20241301000000",
            "20240100000000",
            "20240101240000",
            "2024010100000",
            "+0240101000000",
        ] {
            assert!(BeijingTime::parse_compact(bad).is_none(), "{bad}");
        }
        assert!(BeijingTime::parse_date("2023-02-29").is_none());
        assert!(BeijingTime::parse_date_time("2024-02-29 24:00:00").is_none());
        assert!(BeijingTime::parse_date_time("2024-2-29 23:00:00").is_none());
        assert!(BeijingTime::parse_date("2024-13-01").is_none());
    }

    #[test]
    fn digit_formatting_matches_the_general_formatter() {
        // Every hour of a leap year, plus the edges the fast path hands back.
        let start = BeijingTime::parse_date_time("2024-01-01 00:00:00").unwrap();
        let general = |t: &BeijingTime| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            )
        };
        for h in 0..(366 * 24) {
            let t = BeijingTime::from_unix_millis(start.to_unix_millis() + h * 3_600_007);
            assert_eq!(t.date_time(), general(&t));
            assert_eq!(t.compact(), general(&t).replace(['-', ' ', ':'], ""));
        }
        for year in [0, 9, 999, 9999, 10_000, -1] {
            let t = BeijingTime { year, ..start };
            assert_eq!(t.date_time(), general(&t), "year {year}");
        }
    }

    #[test]
    fn random_nonces_are_32_hex_and_differ() {
        let a = RandomNonce.nonce();
        let b = RandomNonce.nonce();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn nonces_of_many_threads_never_repeat() {
        let per_thread: Vec<Vec<String>> = (0..4)
            .map(|_| std::thread::spawn(|| (0..2000).map(|_| RandomNonce.nonce()).collect()))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let all: std::collections::HashSet<&String> = per_thread.iter().flatten().collect();
        assert_eq!(all.len(), 4 * 2000);
    }

    /// A child made by fork() starts from a copy of its parent's thread
    /// state: it must not send the parent's next nonce.
    #[cfg(unix)]
    #[test]
    fn a_forked_child_does_not_repeat_its_parents_nonces() {
        let _ = super::nonce_stream::next(); // this thread's stream is seeded
        let mut fds = [0i32; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // The child: no allocation, no locks; write the next nonce bytes and leave.
            let bytes = super::nonce_stream::next();
            unsafe {
                libc::write(fds[1], bytes.as_ptr().cast(), bytes.len());
                libc::_exit(0);
            }
        }
        let mut from_child = [0u8; 16];
        let n = unsafe { libc::read(fds[0], from_child.as_mut_ptr().cast(), 16) };
        unsafe {
            libc::waitpid(pid, std::ptr::null_mut(), 0);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        assert_eq!(n, 16);
        assert_ne!(from_child, super::nonce_stream::next());
    }
}
