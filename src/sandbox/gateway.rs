//! Request routing: control endpoints, the token endpoint and the business
//! operations, with the checks every ChinaUMS path shares (method, content
//! type, authentication, JSON object body).

use super::auth::{self, Settings};
use super::bills::{self, Call};
use super::http::{Answer, Rejection, Request, Service};
use super::state::State;
use crate::clock::Clock;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) const TOKEN_PATH: &str = "/v1/token/access";
pub(crate) const CONTROL_PREFIX: &str = "/_sandbox/";

/// The simulated gateway: all state behind one mutex.
pub(crate) struct Gateway {
    state: Mutex<State>,
    settings: Settings,
    clock: Arc<dyn Clock>,
}

impl Gateway {
    pub fn new(settings: Settings, clock: Arc<dyn Clock>) -> Gateway {
        let state = State::with_demo_data(clock.now_unix_millis());
        Gateway {
            state: Mutex::new(state),
            settings,
            clock,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // Handlers do not panic while holding the lock, but if one ever did,
        // the state is still consistent enough for a simulator.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn control(&self, request: &Request) -> Answer {
        let known = matches!(
            request.path.as_str(),
            "/_sandbox/health" | "/_sandbox/stats"
        );
        if !known {
            return error(404, "NO_SERVICE", "没有这个模拟器控制接口");
        }
        if request.method != "GET" {
            return error(405, "BAD_REQUEST", "控制接口只支持 GET");
        }
        match request.path.as_str() {
            "/_sandbox/health" => Answer::json(200, &json!({"ok": true})),
            _ => Answer::json(200, &self.lock().stats().to_json()),
        }
    }

    fn token(&self, request: &Request, state: &mut State, now_ms: i64) -> Answer {
        if let Some(refusal) = check_post_json(request) {
            return refusal;
        }
        Answer::json(
            200,
            &auth::issue_token(state, self.settings, now_ms, &request.body),
        )
    }

    fn business(
        &self,
        request: &Request,
        state: &mut State,
        now_ms: i64,
        operation: bills::Operation,
    ) -> Answer {
        if let Some(refusal) = check_post_json(request) {
            return refusal;
        }
        let authorization: Vec<&str> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str())
            .collect();
        let app_id =
            match auth::authenticate(state, self.settings, now_ms, &authorization, &request.body) {
                Ok(app_id) => app_id,
                Err(failure) => {
                    state.counters.auth_failures += 1;
                    return Answer::json(401, &failure.to_json());
                }
            };
        let body: Map<String, Value> = match serde_json::from_slice(&request.body) {
            Ok(Value::Object(map)) => map,
            _ => return error(200, "BAD_REQUEST", "请求体必须是 UTF-8 编码的 JSON 对象"),
        };
        let call = Call {
            app_id: &app_id,
            now_ms,
            skew_ms: self.settings.clock_skew_ms,
            body: &body,
        };
        let answer = match operation(state, &call) {
            Ok(reply) => reply.into_value(),
            Err(reject) => bills::refusal(&reject, &call),
        };
        Answer::json(200, &answer)
    }
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(status, &json!({"errCode": code, "errMsg": message}))
}

/// POST with `Content-Type: application/json` (parameters such as charset
/// allowed), as every ChinaUMS path requires.
fn check_post_json(request: &Request) -> Option<Answer> {
    if request.method != "POST" {
        return Some(error(405, "BAD_REQUEST", "只支持 POST"));
    }
    let media_type = request
        .header("content-type")
        .map(|v| v.split(';').next().unwrap_or("").trim());
    match media_type {
        Some(t) if t.eq_ignore_ascii_case("application/json") => None,
        _ => Some(error(
            415,
            "BAD_REQUEST",
            "Content-Type 必须是 application/json",
        )),
    }
}

impl Service for Gateway {
    fn handle(&self, request: &Request) -> Answer {
        if request.path.starts_with(CONTROL_PREFIX) || request.path == "/_sandbox" {
            return self.control(request);
        }
        let now_ms = self.clock.now_unix_millis();
        let mut state = self.lock();
        state.count_request(&request.path);
        if request.path == TOKEN_PATH {
            return self.token(request, &mut state, now_ms);
        }
        match bills::operation(&request.path) {
            Some(operation) => self.business(request, &mut state, now_ms, operation),
            None => error(404, "NO_SERVICE", "没有这个服务 (路径不存在)"),
        }
    }

    fn rejected(&self, what: Rejection) {
        let mut state = self.lock();
        match what {
            Rejection::Malformed => state.counters.malformed_requests += 1,
            Rejection::TooManyConnections => state.counters.connections_refused += 1,
        }
    }
}
