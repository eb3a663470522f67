//! A certificate authority made at test time and server configurations
//! signed by it, for the simulator's HTTPS front (included with `#[path]`):
//! no certificate or key is ever checked in.
#![allow(dead_code)]

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::PathBuf;
use std::sync::Arc;

pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl TestPki {
    pub fn new(name: &str) -> TestPki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        TestPki {
            ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    /// A server certificate for `host`, valid now unless `expired`.
    pub fn server_config(&self, host: &str, expired: bool) -> Arc<rustls::ServerConfig> {
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

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The CA certificate as a PEM file for `caFile`.
    pub fn ca_file(&self, tag: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("ums-test-ca-{}-{tag}.pem", std::process::id()));
        std::fs::write(&path, self.ca.pem()).unwrap();
        path
    }

    /// The CA certificate as PEM, written to `path`.
    pub fn write_ca(&self, path: &std::path::Path) {
        std::fs::write(path, self.ca.pem()).expect("CA file");
    }
}
