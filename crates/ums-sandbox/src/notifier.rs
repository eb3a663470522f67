//! Delivery of signed notifications to merchants' `notifyUrl`s
//! (docs/protocol.md §6), in background threads, with retries.
//!
//! The body of a notification is built and signed once, under the state
//! lock (see `customer::queue_notification`); this module only delivers it
//! and records what happened. Only `http://` URLs whose host is a loopback
//! address (`127.0.0.0/8`, `[::1]`, `localhost`) are ever called: anything
//! else is recorded as not delivered, so the simulator never sends traffic
//! off the machine. The connection goes to the IP literal itself (no DNS, no
//! proxy) and redirects are not followed.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Records kept for `GET /_sandbox/notifications`; the oldest go first.
const MAX_RECORDS: usize = 1000;
/// Largest receiver answer read.
const MAX_REPLY_BYTES: u64 = 64 * 1024;
/// Characters of the receiver's answer kept in `lastReply`.
const MAX_REPLY_CHARS: usize = 200;
/// Attempts remembered per notification (the latest ones).
const MAX_HISTORY: usize = 20;

/// One delivery attempt and the receiver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made: Beijing time of the machine's clock.
    pub at: String,
    /// `HTTP 200: SUCCESS`, or `error: ...`.
    pub reply: String,
}

/// A notification ready to be delivered.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    /// `payment` or `refund`.
    pub kind: &'static str,
    pub url: String,
    pub bill_no: String,
    pub bill_date: String,
    pub notify_id: String,
    /// The signed form body, sent unchanged on every attempt.
    pub body: String,
}

/// How notifications are retried.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// Pause after the 1st, 2nd, ... failed attempt; the last one repeats.
    pub backoff: Vec<Duration>,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Time limit of each attempt (connect, send, answer).
    pub attempt_timeout: Duration,
}

impl Policy {
    fn pause_after(&self, attempt: u32) -> Duration {
        let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
        self.backoff
            .get(index)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(Duration::from_millis(200))
    }
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Being delivered (an attempt is running or the next one is waiting).
    Pending,
    /// The receiver answered `SUCCESS`.
    Delivered,
    /// Every attempt failed; the simulator gave up.
    Failed,
    /// The `notifyUrl` is not an `http://` loopback address: never called.
    NotLoopback,
    /// The simulator stopped before the notification was delivered.
    Stopped,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::NotLoopback => "not delivered: not loopback",
            DeliveryStatus::Stopped => "stopped",
        }
    }
}

/// One notification and its delivery attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The notification's `notifyId` (the same on every attempt).
    pub notify_id: String,
    /// `payment` or `refund`.
    pub kind: String,
    /// The bill's `notifyUrl` as given by the merchant.
    pub url: String,
    pub bill_no: String,
    pub bill_date: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// The receiver's last answer (`HTTP 200: FAILED`) or the last transport
    /// error (`error: ...`).
    pub last_reply: Option<String>,
    /// The form body sent (signed; the same on every attempt).
    pub body: String,
    /// The attempts made so far, oldest first (at most the last 20).
    pub history: Vec<Attempt>,
}

impl Delivery {
    /// The JSON of `GET /_sandbox/notifications`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "notifyId": self.notify_id,
            "kind": self.kind,
            "url": self.url,
            "billNo": self.bill_no,
            "billDate": self.bill_date,
            "status": self.status.as_str(),
            "delivered": self.status == DeliveryStatus::Delivered,
            "attempts": self.attempts,
            "lastReply": self.last_reply,
            "body": self.body,
            "history": self
                .history
                .iter()
                .map(|a| serde_json::json!({"at": a.at, "reply": a.reply}))
                .collect::<Vec<_>>(),
        })
    }
}

struct Shared {
    policy: Policy,
    records: Mutex<VecDeque<Delivery>>,
    stopped: Mutex<bool>,
    wake: Condvar,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Delivers notifications, one background thread per notification.
pub(crate) struct Notifier {
    shared: Arc<Shared>,
}

impl Notifier {
    pub fn new(policy: Policy) -> Notifier {
        Notifier {
            shared: Arc::new(Shared {
                policy,
                records: Mutex::new(VecDeque::new()),
                stopped: Mutex::new(false),
                wake: Condvar::new(),
                workers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Records each notification and starts delivering it. Never blocks on
    /// the receivers.
    pub fn dispatch(&self, outgoing: Vec<Outgoing>) {
        for item in outgoing {
            let target = loopback_target(&item.url);
            let stopped = *lock(&self.shared.stopped);
            let status = match (&target, stopped) {
                (None, _) => DeliveryStatus::NotLoopback,
                (Some(_), true) => DeliveryStatus::Stopped,
                (Some(_), false) => DeliveryStatus::Pending,
            };
            let last_reply = (status == DeliveryStatus::NotLoopback).then(|| {
                "not delivered: not loopback (the simulator only calls http:// loopback addresses)"
                    .to_string()
            });
            self.shared.record(Delivery {
                notify_id: item.notify_id.clone(),
                kind: item.kind.to_string(),
                url: item.url.clone(),
                bill_no: item.bill_no.clone(),
                bill_date: item.bill_date.clone(),
                status,
                attempts: 0,
                last_reply,
                body: item.body.clone(),
                history: Vec::new(),
            });
            let Some(target) = target.filter(|_| status == DeliveryStatus::Pending) else {
                continue;
            };
            let shared = Arc::clone(&self.shared);
            let notify_id = item.notify_id.clone();
            let body = item.body;
            let spawned = thread::Builder::new()
                .name("ums-sandbox-notify".into())
                .spawn(move || deliver(&shared, &notify_id, &target, body));
            let mut workers = lock(&self.shared.workers);
            workers.retain(|w| !w.is_finished());
            match spawned {
                Ok(handle) => workers.push(handle),
                Err(e) => {
                    drop(workers);
                    self.shared.update(&item.notify_id, |d| {
                        d.status = DeliveryStatus::Failed;
                        d.last_reply = Some(format!("error: cannot start a thread: {e}"));
                    });
                }
            }
        }
    }

    /// Every notification recorded, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.records).iter().cloned().collect()
    }

    /// Stops retrying and waits for running attempts to end. Idempotent.
    pub fn stop(&self) {
        *lock(&self.shared.stopped) = true;
        self.shared.wake.notify_all();
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

impl Shared {
    fn record(&self, delivery: Delivery) {
        let mut records = lock(&self.records);
        while records.len() >= MAX_RECORDS {
            records.pop_front();
        }
        records.push_back(delivery);
    }

    fn update(&self, notify_id: &str, change: impl FnOnce(&mut Delivery)) {
        let mut records = lock(&self.records);
        if let Some(d) = records.iter_mut().rev().find(|d| d.notify_id == notify_id) {
            change(d);
        }
    }

    /// Waits `pause`, or less if the notifier stops; true when stopped.
    fn pause(&self, pause: Duration) -> bool {
        let guard = lock(&self.stopped);
        let (guard, _) = self
            .wake
            .wait_timeout_while(guard, pause, |stopped| !*stopped)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }

    fn is_stopped(&self) -> bool {
        *lock(&self.stopped)
    }
}

/// The delivery loop of one notification.
fn deliver(shared: &Shared, notify_id: &str, url: &str, body: String) {
    let policy = &shared.policy;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(policy.attempt_timeout))
        .user_agent("ums-sandbox-notify")
        .build()
        .into();
    let max_attempts = policy.max_attempts.max(1);
    for attempt in 1..=max_attempts {
        if shared.is_stopped() {
            shared.update(notify_id, |d| d.status = DeliveryStatus::Stopped);
            return;
        }
        let (delivered, reply) = attempt_once(&agent, url, &body);
        let at = chinaums::clock::BeijingTime::from_unix_millis(
            chinaums::clock::Clock::now_unix_millis(&chinaums::clock::SystemClock),
        )
        .date_time();
        shared.update(notify_id, |d| {
            d.attempts = attempt;
            if d.history.len() >= MAX_HISTORY {
                d.history.remove(0);
            }
            d.history.push(Attempt {
                at,
                reply: reply.clone(),
            });
            d.last_reply = Some(reply);
            if delivered {
                d.status = DeliveryStatus::Delivered;
            } else if attempt == max_attempts {
                d.status = DeliveryStatus::Failed;
            }
        });
        if delivered || attempt == max_attempts {
            return;
        }
        if shared.pause(policy.pause_after(attempt)) {
            shared.update(notify_id, |d| d.status = DeliveryStatus::Stopped);
            return;
        }
    }
}

/// One POST; whether the receiver answered 2xx with the text `SUCCESS`
/// (surrounding white space ignored), and a description of the answer.
fn attempt_once(agent: &ureq::Agent, url: &str, body: &str) -> (bool, String) {
    let sent = agent
        .post(url)
        .content_type("application/x-www-form-urlencoded")
        .send(body.as_bytes());
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => return (false, format!("error: {e}")),
    };
    let status = response.status().as_u16();
    let text = match response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_to_string()
    {
        Ok(text) => text,
        Err(e) => return (false, format!("HTTP {status}, unreadable answer: {e}")),
    };
    let trimmed = text.trim();
    let delivered = (200..300).contains(&status) && trimmed == "SUCCESS";
    let shown: String = trimmed.chars().take(MAX_REPLY_CHARS).collect();
    (delivered, format!("HTTP {status}: {shown}"))
}

/// The URL to call for `notify_url` if it is `http://` on a loopback
/// address, rewritten to the IP literal (`localhost` → `127.0.0.1`); `None`
/// for anything else (https, other hosts, user info, bad ports).
pub(crate) fn loopback_target(notify_url: &str) -> Option<String> {
    let scheme = notify_url.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &notify_url[7..];
    let rest = rest.split('#').next().unwrap_or_default();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = match after {
            "" => 80,
            p => p.strip_prefix(':')?.parse::<u16>().ok()?,
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, p)) => (host, p.parse::<u16>().ok()?),
            None => (authority, 80),
        }
    };
    if port == 0 {
        return None;
    }
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        Ipv4Addr::LOCALHOST.into()
    } else {
        host.parse().ok()?
    };
    if !ip.is_loopback() {
        return None;
    }
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    Some(format!("http://{}{path}", SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_loopback_urls_are_called() {
        let t = loopback_target;
        assert_eq!(
            t("http://127.0.0.1:8080/notify").as_deref(),
            Some("http://127.0.0.1:8080/notify")
        );
        assert_eq!(
            t("http://localhost:9/n?a=1").as_deref(),
            Some("http://127.0.0.1:9/n?a=1")
        );
        assert_eq!(
            t("HTTP://127.0.0.2").as_deref(),
            Some("http://127.0.0.2:80/")
        );
        assert_eq!(
            t("http://[::1]:81?x").as_deref(),
            Some("http://[::1]:81/?x")
        );
        for bad in [
            "https://127.0.0.1/notify",
            "http://www.test.com/notify",
            "http://10.0.0.1/notify",
            "http://127.0.0.1.evil.com/",
            "http://user@127.0.0.1/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http:///x",
            "ftp://127.0.0.1/",
            "http://[::ffff:8.8.8.8]/",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn backoff_repeats_its_last_pause() {
        let policy = Policy {
            backoff: vec![Duration::from_millis(1), Duration::from_millis(5)],
            max_attempts: 5,
            attempt_timeout: Duration::from_secs(1),
        };
        assert_eq!(policy.pause_after(1), Duration::from_millis(1));
        assert_eq!(policy.pause_after(2), Duration::from_millis(5));
        assert_eq!(policy.pause_after(9), Duration::from_millis(5));
    }
}
