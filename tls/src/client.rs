//! What a client trusts: the system's roots (Debian's `ca-certificates`, which the installer
//! keeps up to date) plus, optionally, a ministry's own CA that signs its central's certificate.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use crate::{read_certificates, TlsError};

/// The certificates of a CA file, each checked to be usable as a trusted root.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = read_certificates(path)?;
    let mut roots = RootCertStore::empty();
    for certificate in &certificates {
        roots
            .add(certificate.clone())
            .map_err(|error| TlsError::BadCa { path: path.into(), reason: error.to_string() })?;
    }
    Ok(certificates)
}

/// A client configuration trusting the system's roots and the certificates of `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!(%error, "a system root certificate could not be read");
    }
    let (added, ignored) = roots.add_parsable_certificates(system.certs);
    if ignored > 0 {
        tracing::debug!(added, ignored, "some system root certificates are not usable");
    }
    if let Some(path) = ca_file {
        for certificate in read_ca_file(path)? {
            roots.add(certificate).map_err(|error| TlsError::BadCa { path: path.into(), reason: error.to_string() })?;
        }
    }
    if roots.is_empty() {
        // Not an error here: every handshake will then fail with a certificate error, which the
        // link logs; this says why.
        tracing::warn!("no trusted root certificates: install ca-certificates or set [central] ca_file");
    }
    let config = rustls::ClientConfig::builder_with_provider(crate::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_with_a_certificate_is_read_and_anything_else_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = rcgen::generate_simple_self_signed(vec!["ministerio.example".into()]).expect("certificate");
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, ca.cert.pem()).expect("write");
        assert_eq!(read_ca_file(&good).expect("reads").len(), 1);
        assert!(client_config(Some(&good)).is_ok());

        let key_only = dir.path().join("key.pem");
        std::fs::write(&key_only, ca.signing_key.serialize_pem()).expect("write");
        let problem = read_ca_file(&key_only).expect_err("no certificate").to_string();
        assert!(problem.contains("holds no PEM certificate"), "{problem}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
            .expect("write");
        let problem = read_ca_file(&garbage).expect_err("bad PEM").to_string();
        assert!(problem.contains("garbage.pem"), "{problem}");

        let problem = read_ca_file(&dir.path().join("missing.pem")).expect_err("missing").to_string();
        assert!(problem.starts_with("cannot read"), "{problem}");
    }
}
