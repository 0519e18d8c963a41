//! TLS: a client that trusts the test CA completes a handshake; plaintext on the TLS
//! port gets nothing usable.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::support::spawn_app_with;

/// A CA and a server certificate for 127.0.0.1/localhost, written as PEM files.
pub fn test_pki(dir: &Path) -> String {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Cordée test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    ca_cert.pem()
}

#[tokio::test]
async fn tls_handshake_with_trusted_ca_and_plaintext_refused() {
    let pki = std::env::temp_dir().join(format!("cordee-pki-{}", uuid::Uuid::now_v7().simple()));
    let ca_pem = test_pki(&pki);
    let app = spawn_app_with(|l| {
        l.tls_cert = Some(pki.join("cert.pem"));
        l.tls_key = Some(pki.join("key.pem"));
    })
    .await;
    assert!(app.base.starts_with("https://"));

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );

    // A client that does not trust the CA must fail the handshake.
    let untrusting = reqwest::Client::builder().build().unwrap();
    assert!(untrusting.get(app.url("/healthz")).send().await.is_err());

    // Plain HTTP to the TLS port: no HTTP response comes back.
    let plain = format!("http://127.0.0.1:{}/healthz", app.addr.port());
    let r = reqwest::Client::new().get(&plain).send().await;
    assert!(
        r.is_err(),
        "plaintext request to the TLS port got {:?}",
        r.map(|r| r.status())
    );
    app.stop().await;
    std::fs::remove_dir_all(pki).unwrap();
}

#[tokio::test]
async fn tls_1_2_and_1_3_are_served() {
    // rustls cannot even speak TLS 1.1; check what the server negotiates instead:
    // a TLS 1.2-only client must succeed, proving 1.2 is the floor we serve.
    let pki = std::env::temp_dir().join(format!("cordee-pki-{}", uuid::Uuid::now_v7().simple()));
    let ca_pem = test_pki(&pki);
    let app = spawn_app_with(|l| {
        l.tls_cert = Some(pki.join("cert.pem"));
        l.tls_key = Some(pki.join("key.pem"));
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    let ca_der = rustls_pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes()).unwrap();
    roots.add(ca_der).unwrap();
    for (version, name) in [
        (&rustls::version::TLS12, "1.2"),
        (&rustls::version::TLS13, "1.3"),
    ] {
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        let server_name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(server_name, tcp).await;
        assert!(tls.is_ok(), "TLS {name} handshake failed: {:?}", tls.err());
    }
    app.stop().await;
    std::fs::remove_dir_all(pki).unwrap();
}
