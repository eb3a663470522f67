//! TLS against the simulator behind an HTTPS front, with a certificate
//! authority made at test time: the client accepts the server only when that
//! CA is configured (`caFile`), and rejects an unknown CA, an expired
//! certificate and a wrong host name. No switch turns verification off.

#[path = "common/test_pki.rs"]
mod test_pki;

use chinaums::{Client, ErrorKind};
use serde_json::json;
use std::path::PathBuf;
use test_pki::TestPki;
use ums_sandbox::tls::HttpsFront;
use ums_sandbox::{demo, Sandbox};

fn client(url: &str, ca_file: Option<&PathBuf>) -> Client {
    let mut config = json!({
        "environment": url, "appId": demo::APP_ID, "appKey": demo::APP_KEY,
        "mid": demo::MID, "tid": demo::TID, "connectTimeoutMs": 3000, "timeoutMs": 5000,
    });
    if let Some(path) = ca_file {
        config["caFile"] = json!(path.to_str().unwrap());
    }
    Client::from_json(&config.to_string()).unwrap()
}

fn update(client: &Client, bill_no: &str) -> chinaums::Result<chinaums::Answer> {
    let today = client.now().date();
    client.update_qrcode(
        &json!({"qrCodeId": demo::SEED_QR_CODE_ID, "billNo": bill_no, "billDate": today, "totalAmount": 26})
            .to_string(),
    )
}

#[test]
fn the_test_ca_is_trusted_only_when_configured() {
    let sandbox = Sandbox::start_default().unwrap();
    let pki = TestPki::new("ums test CA");
    let front = HttpsFront::start(sandbox.addr(), pki.server_config("localhost", false)).unwrap();
    let url = format!("https://localhost:{}", front.port());
    let ca = pki.ca_file("trusted");

    let answer =
        update(&client(&url, Some(&ca)), "31940000000000000000000601").expect("trusted CA");
    assert_eq!(answer.value["errCode"], "SUCCESS");

    let e = update(&client(&url, None), "31940000000000000000000602").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "unknown CA: {e}");
    assert!(e.kind.nothing_sent());

    let other = TestPki::new("some other CA").ca_file("other");
    let e = update(&client(&url, Some(&other)), "31940000000000000000000603").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "a different CA: {e}");
    assert_eq!(
        sandbox
            .stats()
            .requests_to("/v1/netpay/bills/update-qrcode"),
        1,
        "only the trusted call arrived"
    );
    let _ = std::fs::remove_file(ca);
    let _ = std::fs::remove_file(other);
}

#[test]
fn an_expired_certificate_is_rejected() {
    let sandbox = Sandbox::start_default().unwrap();
    let pki = TestPki::new("ums test CA");
    let front = HttpsFront::start(sandbox.addr(), pki.server_config("localhost", true)).unwrap();
    let ca = pki.ca_file("expired");
    let e = update(
        &client(&format!("https://localhost:{}", front.port()), Some(&ca)),
        "31940001",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    assert!(
        e.message.to_lowercase().contains("expired"),
        "{}",
        e.message
    );
    let _ = std::fs::remove_file(ca);
}

#[test]
fn a_wrong_host_name_is_rejected() {
    let sandbox = Sandbox::start_default().unwrap();
    let pki = TestPki::new("ums test CA");
    // The certificate names gateway.example, the client asks for localhost.
    let front =
        HttpsFront::start(sandbox.addr(), pki.server_config("gateway.example", false)).unwrap();
    let ca = pki.ca_file("host");
    let e = update(
        &client(&format!("https://localhost:{}", front.port()), Some(&ca)),
        "31940001",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
    assert_eq!(sandbox.stats().total_requests(), 0);
    let _ = std::fs::remove_file(ca);
}

#[test]
fn there_is_no_switch_that_turns_verification_off() {
    for key in [
        "insecure",
        "verify",
        "verifyTls",
        "tlsVerify",
        "skipVerify",
        "danger_accept_invalid_certs",
    ] {
        let config = json!({"environment": "test", "appId": "a", "appKey": "k", key: false});
        let e = Client::from_json(&config.to_string()).unwrap_err();
        assert_eq!((e.kind, e.field.as_deref()), (ErrorKind::Config, Some(key)));
    }
}
