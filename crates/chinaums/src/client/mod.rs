//! The client: config, transport, token cache, clock and nonces together,
//! in three steps kept apart: [`prepare`] builds each request (defaults,
//! normalisation, validation, one serialisation), [`send`] signs and sends
//! it under the retry policy, and [`answer`] classifies what came back.

mod answer;
mod prepare;
mod send;

pub use answer::{classify_answer, OUTCOME_UNKNOWN_CODES};
pub use prepare::{check_service_path, parse_request};

use crate::clock::{BeijingTime, Clock, NonceSource, RandomNonce, SystemClock};
use crate::config::{Config, StoreConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::journal::Journal;
use crate::ops::{self, Operation};
use crate::resolve::CallRecord;
use crate::sign;
use crate::store::{Claim, Claims, Health, RedisBackend, RedisTokenStore, TokenStore};
use crate::token::TokenCache;
use crate::transport::Transport;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Largest request document accepted from a caller.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// A successful answer (`errCode == "SUCCESS"`): the exact text the gateway
/// sent and its parsed form.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    pub value: Value,
}

/// A request ready to send: validated, defaults filled, serialised once.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub url: String,
    pub path: String,
    pub body: Vec<u8>,
    pub money_moving: bool,
    /// How a successful answer says whether the effect is final.
    pub settlement: Option<&'static ops::Settlement>,
}

/// A ChinaUMS client. Immutable once built and safe to share between
/// threads: the token cache and the connection pool synchronise themselves.
pub struct Client {
    config: Config,
    base_url: String,
    transport: Transport,
    tokens: TokenCache,
    claims: Claims,
    clock: Arc<dyn Clock>,
    nonces: Arc<dyn NonceSource>,
    /// The journal of money-moving calls (`journal` in the config).
    journal: Option<Arc<Journal>>,
}

/// What a client is built with besides its config; each part is optional
/// (system clock, random nonces, the config's `tokenStore`).
#[derive(Default)]
pub struct Parts {
    pub clock: Option<Arc<dyn Clock>>,
    pub nonces: Option<Arc<dyn NonceSource>>,
    /// The integrator's own shared token store (instead of `tokenStore`,
    /// which must then be absent or `"memory"`).
    pub token_store: Option<Arc<dyn TokenStore>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("app_id", &self.config.app_id)
            .field("base_url", &self.base_url)
            .field("auth", &self.config.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the system clock and random nonces.
    pub fn new(config: Config) -> Result<Client> {
        Client::with_clock_and_nonces(config, Arc::new(SystemClock), Arc::new(RandomNonce))
    }

    /// A client from a JSON config document.
    pub fn from_json(config_json: &str) -> Result<Client> {
        Client::new(Config::from_json(config_json)?)
    }

    /// A client with an injected clock and nonce source (reproducible
    /// signatures in tests). The clock also dates tokens, the token store's
    /// retry pause and notification claims, so a test can move them (one
    /// [`crate::clock::ManualClock`] shared with the simulator).
    pub fn with_clock_and_nonces(
        config: Config,
        clock: Arc<dyn Clock>,
        nonces: Arc<dyn NonceSource>,
    ) -> Result<Client> {
        Client::with_parts(
            config,
            Parts {
                clock: Some(clock),
                nonces: Some(nonces),
                token_store: None,
            },
        )
    }

    /// A client that shares its access token through the integrator's own
    /// store (see [`TokenStore`]).
    pub fn with_token_store(config: Config, store: Arc<dyn TokenStore>) -> Result<Client> {
        Client::with_parts(
            config,
            Parts {
                token_store: Some(store),
                ..Parts::default()
            },
        )
    }

    /// A client from its config and [`Parts`]. No store is contacted here:
    /// a Redis that is down does not stop a client from being built.
    pub fn with_parts(config: Config, parts: Parts) -> Result<Client> {
        let clock = parts.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let nonces = parts.nonces.unwrap_or_else(|| Arc::new(RandomNonce));
        let base_url = config.environment.base_url().to_string();
        let transport = Transport::new(&config)?;
        let ca = config.redis_ca_file.as_deref();
        let token_redis = match &config.token_store {
            StoreConfig::Redis(url) => Some(Arc::new(RedisBackend::new(
                "tokenStore",
                url,
                ca,
                clock.clone(),
            )?)),
            StoreConfig::Memory => None,
        };
        let claim_redis = match (&config.claim_store, &token_redis) {
            (StoreConfig::Memory, _) => None,
            // One server, one set of connections and one health (one
            // warning per outage).
            (StoreConfig::Redis(_), Some(backend)) if config.token_store == config.claim_store => {
                Some(backend.clone())
            }
            (StoreConfig::Redis(url), _) => Some(Arc::new(RedisBackend::new(
                "claimStore",
                url,
                ca,
                clock.clone(),
            )?)),
        };
        let tokens = match (parts.token_store, token_redis) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "tokenStore",
                    "a token store is given in code: leave tokenStore out (or \"memory\")",
                ))
            }
            (Some(store), None) => {
                let health = Arc::new(Health::new(store.describe(), clock.clone()));
                TokenCache::shared(clock.clone(), store, health)
            }
            (None, Some(backend)) => {
                let health = backend.health.clone();
                let store = RedisTokenStore::new(
                    backend,
                    clock.clone(),
                    &config.store_prefix,
                    &config.app_id,
                );
                TokenCache::shared(clock.clone(), Arc::new(store), health)
            }
            (None, None) => TokenCache::new(clock.clone()),
        };
        let claims = Claims::new(claim_redis, &config.store_prefix, clock.clone());
        let journal = match &config.journal {
            Some(path) => Some(Arc::new(Journal::open(path)?)),
            None => None,
        };
        Ok(Client {
            config,
            base_url,
            transport,
            tokens,
            claims,
            clock,
            nonces,
            journal,
        })
    }

    /// The journal of money-moving calls, when the config names one.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_deref()
    }

    /// The journal's open entries (calls whose outcome is not known yet):
    /// a config error when the client has no journal.
    pub fn journal_pending(&self) -> Result<Vec<crate::journal::Entry>> {
        self.journal
            .as_ref()
            .ok_or_else(|| Error::config("journal", "is not set: this client keeps no journal"))?
            .pending()
    }

    /// The client's clock, in Unix milliseconds.
    pub fn clock_now_ms(&self) -> i64 {
        self.clock.now_unix_millis()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Beijing time now, from the client's clock.
    pub fn now(&self) -> BeijingTime {
        BeijingTime::from_unix_millis(self.clock.now_unix_millis())
    }

    /// `bills/update-qrcode` with a JSON request text.
    pub fn update_qrcode(&self, request_json: &str) -> Result<Answer> {
        self.execute(&ops::UPDATE_QRCODE, parse_request(request_json)?)
    }

    /// Runs a known operation on a JSON request text.
    pub fn execute_json(&self, op: &'static Operation, request_json: &str) -> Result<Answer> {
        self.execute(op, parse_request(request_json)?)
    }

    /// Runs a known operation.
    pub fn execute(&self, op: &'static Operation, request: Map<String, Value>) -> Result<Answer> {
        let prepared = self.prepare(op, request)?;
        if !op.money_moving {
            return self.send(&prepared);
        }
        self.send_money_moving(op, &prepared)
    }

    /// [`Client::execute`] as if the config said `"resolvable": true`, for
    /// this call only: the identifiers `resolve` needs are added where the
    /// request leaves them out (needs `msgSrcId`).
    pub fn execute_resolvable(
        &self,
        op: &'static Operation,
        mut request: Map<String, Value>,
    ) -> Result<Answer> {
        if self.config.msg_src_id.is_none() {
            return Err(Error::config(
                "msgSrcId",
                "is needed to make the identifiers of a resolvable call",
            ));
        }
        let now = self.now();
        let enveloped = request.len() == 1;
        match request.get_mut("data") {
            Some(Value::Object(inner)) if enveloped => self.add_resolvable_ids(op, inner, now),
            _ => self.add_resolvable_ids(op, &mut request, now),
        }
        self.execute(op, request)
    }

    /// Sends a money-moving request: recorded in the journal (when there is
    /// one) before its first byte, the entry closed on a definite answer and
    /// left open otherwise; a result whose outcome is not final carries
    /// `resolveWith` (what `resolve` needs).
    fn send_money_moving(
        &self,
        op: &'static Operation,
        prepared: &PreparedRequest,
    ) -> Result<Answer> {
        // The record re-reads the signed body (a third of a call's
        // instructions): made before sending only for the journal, otherwise
        // only when the outcome is not final.
        let mut record = None;
        let mut entry = None;
        if let Some(journal) = &self.journal {
            record = CallRecord::from_body(op, &prepared.body);
            if let Some(r) = &record {
                entry = Some(journal.begin(r, self.clock_now_ms())?);
            }
        }
        let result = self.send(prepared);
        if let (Some(journal), Some(id)) = (&self.journal, entry) {
            if let Some(outcome) = definite_outcome(&result) {
                if let Err(e) = journal.close(id, &outcome) {
                    crate::log::log(crate::log::Level::Warn, || {
                        format!("journal entry {id} stays open: {e}")
                    });
                }
            }
        }
        result.map_err(|mut e| {
            if matches!(e.kind, ErrorKind::OutcomeUnknown | ErrorKind::Pending) {
                if record.is_none() {
                    record = CallRecord::from_body(op, &prepared.body);
                }
                if let Some(record) = &record {
                    let mut hint = record.to_json();
                    if let Some(id) = entry {
                        hint["journalId"] = id.into();
                    }
                    e.resolve_with = Some(hint);
                }
            }
            e
        })
    }

    /// Calls any `/v1/...` service path. A path of a known operation gets that
    /// operation's defaults and checks; any other path is sent as given.
    pub fn call(&self, service_path: &str, request_json: &str) -> Result<Answer> {
        check_service_path(service_path)?;
        let request = parse_request(request_json)?;
        match ops::find(service_path) {
            Some(op) => self.execute(op, request),
            None => {
                let prepared = self.prepare_raw(service_path, &request, true)?;
                self.send(&prepared)
            }
        }
    }

    /// Verifies a notification with the configured `notifyKey` and
    /// `notifySignTypes` (MD5 refused when the config accepts only SHA256).
    pub fn verify_notification(&self, body: &[u8]) -> Result<crate::notify::VerifiedNotification> {
        let key = self
            .config
            .notify_key
            .as_ref()
            .ok_or_else(|| Error::config("notifyKey", "is needed to verify notifications"))?;
        crate::notify::verify_with(key.expose(), body, self.config.notify_accept_md5)
    }

    /// Claims a notification for processing, across every receiver that
    /// shares the `claimStore`: true the first time (process it, then answer
    /// `SUCCESS`, or [`Client::release_notification`] and answer `FAILED`
    /// when processing failed); false when it is already handled or being
    /// handled (answer `SUCCESS`). Claims live 25 h (ChinaUMS resends for
    /// 24 h). When Redis fails, this process's own claims answer instead
    /// (never losing a notification; at worst two receivers process it):
    /// see [`Client::notification_claim`] for which store answered.
    pub fn claim_notification(&self, notify_id: &str) -> Result<bool> {
        Ok(self.claims.claim(notify_id)?.claimed)
    }

    /// [`Client::claim_notification`] with the store that answered
    /// (`"redis"`, or `"memory"`: configured, or the fallback).
    pub fn notification_claim(&self, notify_id: &str) -> Result<Claim> {
        self.claims.claim(notify_id)
    }

    /// Deletes the claim on `notify_id`, so that ChinaUMS's next resend is
    /// processed (call it when processing failed, before answering
    /// `FAILED`). `store` says `"memory"` when Redis could not be reached:
    /// the release is then sent when it answers again.
    pub fn release_notification(&self, notify_id: &str) -> Result<Claim> {
        self.claims.release(notify_id)
    }

    /// Where the access token is shared: `"memory"`, `redis://host:port/db`
    /// (no password) or the integrator store's description.
    pub fn token_store(&self) -> String {
        self.tokens.describe()
    }

    /// Where notification claims are kept: `"memory"` or `redis://host:port/db`.
    pub fn claim_store(&self) -> String {
        self.claims.describe()
    }

    /// Whether the shared token store is failing right now (the client then
    /// works alone and tries the store again every few seconds).
    pub fn token_store_down(&self) -> bool {
        self.tokens.store_down()
    }

    /// A new merchant identifier (`billNo`, `merOrderId`, `refundOrderId`,
    /// `qrCodeId`) from the configured `msgSrcId` (docs/protocol.md §4.2).
    pub fn new_id(&self) -> Result<String> {
        let msg_src_id = self
            .config
            .msg_src_id
            .as_deref()
            .ok_or_else(|| Error::config("msgSrcId", "is needed to make identifiers"))?;
        crate::ids::new_id(msg_src_id, self.now())
    }

    /// The OPEN-BODY-SIG Authorization header for `body`, now.
    pub fn authorization_for(&self, body: &[u8]) -> String {
        self.sign_body_at(&self.now().compact(), &self.nonces.nonce(), body)
    }

    /// The OPEN-BODY-SIG Authorization header for `body` with a given
    /// timestamp (`yyyyMMddHHmmss`) and nonce (integrators' own HTTP stacks,
    /// reproducible requests).
    pub fn sign_body_at(&self, timestamp: &str, nonce: &str, body: &[u8]) -> String {
        sign::sign_body(
            &self.config.app_id,
            self.config.app_key.expose(),
            timestamp,
            nonce,
            body,
        )
    }

    /// The signed body of `POST /v1/token/access` (docs/protocol.md §3).
    pub fn token_request_body(&self, timestamp: &str, nonce: &str) -> String {
        let signature = sign::token_signature(
            &self.config.app_id,
            self.config.app_key.expose(),
            timestamp,
            nonce,
        );
        serde_json::json!({
            "appId": self.config.app_id,
            "timestamp": timestamp,
            "nonce": nonce,
            "signMethod": "SHA256",
            "signature": signature,
        })
        .to_string()
    }
}

/// How a call ended, when that is definite (the journal entry is closed);
/// None when the outcome is unknown or not final (the entry stays open).
fn definite_outcome(result: &Result<Answer>) -> Option<String> {
    let e = match result {
        Ok(_) => return Some("applied".into()),
        Err(e) => e,
    };
    match e.kind {
        ErrorKind::OutcomeUnknown | ErrorKind::Pending | ErrorKind::Internal => None,
        ErrorKind::GatewayRejected => Some(format!(
            "rejected (errCode {})",
            e.err_code.as_deref().unwrap_or("-")
        )),
        ErrorKind::OperationFailed => Some("failed: nothing moved".into()),
        kind if kind.nothing_sent() => Some(format!("not sent ({})", kind.as_str())),
        _ => None,
    }
}
