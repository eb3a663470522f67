//! TLS against the simulator behind an HTTPS front, with a certificate
//! authority made at test time: the client accepts the server only when that
//! CA is configured (`caFile`), and rejects an unknown CA, an expired
//! certificate and a wrong host name. No switch turns verification off.

use chinaums::{Client, ErrorKind};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use ums_sandbox::tls::HttpsFront;
use ums_sandbox::{demo, Sandbox};

struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl TestPki {
    fn new(name: &str) -> TestPki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        TestPki {
            ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    /// A server certificate for `host`, valid now unless `expired`.
    fn server_config(&self, host: &str, expired: bool) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![host.to_string()]).unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone(), self.ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }

    /// The CA certificate as a PEM file for `caFile`.
    fn ca_file(&self, tag: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("ums-test-ca-{}-{tag}.pem", std::process::id()));
        std::fs::write(&path, self.ca.pem()).unwrap();
        path
    }
}

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
