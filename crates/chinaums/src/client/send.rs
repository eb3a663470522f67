//! Sending a prepared request under the retry policy (README
//! "Reliability"), with the access token in token mode.

use super::answer::{classify_answer, settle};
use super::{Answer, Client, PreparedRequest};
use crate::config::AuthMode;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::token;
use crate::transport::HttpAnswer;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Client {
    /// Sends a prepared request and classifies the answer. In token mode, a
    /// token the gateway rejects before doing any business (HTTP 401) is
    /// replaced and the request resent once: nothing was done the first time.
    pub fn send(&self, prepared: &PreparedRequest) -> Result<Answer> {
        use crate::log::{log, Level};
        log(Level::Debug, || {
            format!("POST {} ({} bytes)", prepared.path, prepared.body.len())
        });
        let started = std::time::Instant::now();
        let result = self.send_classified(prepared);
        let elapsed = started.elapsed().as_millis();
        match &result {
            Ok(_) => log(Level::Info, || {
                format!("POST {}: SUCCESS in {elapsed} ms", prepared.path)
            }),
            Err(e) => {
                let level = if e.is_outcome_unknown() {
                    Level::Error
                } else {
                    Level::Warn
                };
                log(level, || {
                    format!(
                        "POST {}: {} (errCode {}, HTTP {}) in {elapsed} ms",
                        prepared.path,
                        e.kind.as_str(),
                        e.err_code.as_deref().unwrap_or("-"),
                        e.http_status.map_or("-".to_string(), |s| s.to_string()),
                    )
                })
            }
        }
        result
    }

    /// The retry policy (README "Reliability"): nothing is ever resent once
    /// a money-moving request may have reached the gateway. What is retried,
    /// within one deadline of `timeoutMs` for the whole call:
    /// - a connection that was never established (nothing sent), any operation;
    /// - a read-only operation whose outcome is unknown (no usable answer).
    fn send_classified(&self, prepared: &PreparedRequest) -> Result<Answer> {
        let deadline = Instant::now() + self.config.timeout;
        let (mut connect_retries, mut read_retries) = (0, 0);
        // The last failure of an attempt that may have reached the gateway:
        // a later attempt that sent nothing must not make the call look as
        // if nothing had been sent.
        let mut earlier_sent: Option<Error> = None;
        loop {
            let mut reached_gateway = false;
            let err = match self.attempt(prepared, deadline, &mut reached_gateway) {
                Ok(answer) => return settle(prepared, answer),
                Err(e) => e,
            };
            let delay = match err.kind {
                // Only an attempt that never reached the gateway is repeated
                // for a connection failure: after a token refused with 401,
                // the one resend was that attempt's own.
                ErrorKind::Connect if !reached_gateway && connect_retries < MAX_CONNECT_RETRIES => {
                    connect_retries += 1;
                    backoff(CONNECT_BACKOFF, connect_retries)
                }
                ErrorKind::OutcomeUnknown
                    if !prepared.money_moving && read_retries < MAX_READ_RETRIES =>
                {
                    read_retries += 1;
                    backoff(READ_BACKOFF, read_retries)
                }
                _ => return Err(worst(err, earlier_sent)),
            };
            if deadline.saturating_duration_since(Instant::now()) <= delay {
                return Err(worst(err, earlier_sent));
            }
            crate::log::log(crate::log::Level::Warn, || {
                format!(
                    "POST {}: {}; retrying in {} ms",
                    prepared.path,
                    err.kind.as_str(),
                    delay.as_millis()
                )
            });
            if !err.kind.nothing_sent() {
                earlier_sent = Some(err);
            }
            std::thread::sleep(delay);
        }
    }

    /// One exchange (two in token mode when the token is refused with HTTP
    /// 401 before any business: refreshed once, resent once). Every attempt is
    /// signed afresh (new timestamp and nonce) over the same body bytes.
    fn attempt(
        &self,
        prepared: &PreparedRequest,
        deadline: Instant,
        reached_gateway: &mut bool,
    ) -> Result<Answer> {
        match self.config.auth {
            AuthMode::BodySig => {
                let authorization = self.authorization_for(&prepared.body);
                let answer = self.transport.post_json(
                    &prepared.url,
                    Some(&authorization),
                    &prepared.body,
                    remaining(deadline)?,
                )?;
                classify_answer(answer)
            }
            AuthMode::Token => {
                let token = self.access_token_until(deadline)?;
                let answer = self.post_with_token(prepared, &token, deadline)?;
                *reached_gateway = true;
                if answer.status == 401 {
                    crate::log::log(crate::log::Level::Warn, || {
                        format!(
                            "POST {}: token refused (HTTP 401); refreshing and resending once",
                            prepared.path
                        )
                    });
                    self.tokens.invalidate(&token, deadline);
                    let fresh = self.access_token_until(deadline)?;
                    return classify_answer(self.post_with_token(prepared, &fresh, deadline)?);
                }
                classify_answer(answer)
            }
        }
    }

    fn post_with_token(
        &self,
        prepared: &PreparedRequest,
        token: &Secret,
        deadline: Instant,
    ) -> Result<HttpAnswer> {
        let authorization = format!("OPEN-ACCESS-TOKEN AccessToken={}", token.expose());
        self.transport.post_json(
            &prepared.url,
            Some(&authorization),
            &prepared.body,
            remaining(deadline)?,
        )
    }

    fn access_token_until(&self, deadline: Instant) -> Result<Arc<Secret>> {
        self.tokens.get(deadline, || self.fetch_token(deadline))
    }

    fn fetch_token(&self, deadline: Instant) -> Result<(String, Duration)> {
        let body = self.token_request_body(&self.now().compact(), &self.nonces.nonce());
        let url = format!("{}/v1/token/access", self.base_url);
        // Asking for a token does no business, so a failure here is "nothing sent"
        // as far as the caller's request is concerned.
        let answer = self
            .transport
            .post_json(&url, None, body.as_bytes(), remaining(deadline)?)
            .map_err(|mut e| {
                // Fetching a token does no business: whatever broke, the
                // caller's request was not sent.
                if e.kind == ErrorKind::OutcomeUnknown {
                    e.kind = ErrorKind::Connect;
                    e.message =
                        "fetching the access token failed; the request was not sent".to_string();
                }
                e
            })?;
        let parsed = token::parse_token_answer(answer.status, &answer.body);
        crate::log::log(crate::log::Level::Info, || match &parsed {
            Ok((_, expires_in)) => {
                format!("access token issued, expires in {} s", expires_in.as_secs())
            }
            Err(e) => format!(
                "access token refused: errCode {}",
                e.err_code.as_deref().unwrap_or("-")
            ),
        });
        parsed
    }
}

/// Connection set-up failures (nothing sent) are retried this many times.
const MAX_CONNECT_RETRIES: u32 = 2;
const CONNECT_BACKOFF: Duration = Duration::from_millis(100);
/// Read-only operations with an unknown outcome are retried this many times.
const MAX_READ_RETRIES: u32 = 2;
const READ_BACKOFF: Duration = Duration::from_millis(200);

/// `base * 2^(n-1)`, plus up to 50 % random jitter so that many clients
/// retrying together do not arrive together.
fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base * 2u32.pow(n.saturating_sub(1).min(8));
    let mut r = [0u8; 2];
    crate::clock::fill_random(&mut r);
    let jitter = u16::from_le_bytes(r) as u32 % 501; // 0..=500 per mille
    exp + exp * jitter / 1000
}

/// The failure a call ends with: `last`, unless it sent nothing while an
/// earlier attempt may have reached the gateway; then that earlier failure
/// (a read-only call whose retry found no time left is still "outcome
/// unknown", not "nothing sent").
fn worst(last: Error, earlier_sent: Option<Error>) -> Error {
    match earlier_sent {
        Some(earlier) if last.kind.nothing_sent() => earlier,
        _ => last,
    }
}

/// Time left before the call's deadline for a send that has not started,
/// or an error (nothing was sent) when none is left.
fn remaining(deadline: Instant) -> Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::new(
            ErrorKind::Connect,
            "the call's deadline (timeoutMs) passed before the request was sent",
        ));
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-only call whose first attempt reached the gateway and whose
    /// retry then failed to connect (or found the deadline spent) ends
    /// "outcome unknown", not "nothing sent".
    #[test]
    fn a_retry_that_sent_nothing_does_not_hide_an_earlier_send() {
        let unknown = Error::new(ErrorKind::OutcomeUnknown, "cut");
        let refused = Error::new(ErrorKind::Connect, "refused");
        assert_eq!(
            worst(refused.clone(), Some(unknown.clone())).kind,
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(worst(refused.clone(), None).kind, ErrorKind::Connect);
        let rejected = Error::new(ErrorKind::GatewayRejected, "no");
        assert_eq!(
            worst(rejected, Some(unknown)).kind,
            ErrorKind::GatewayRejected,
            "a later answer is the truth"
        );
    }
}
