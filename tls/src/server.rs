//! Serving HTTPS with a certificate that can be replaced while the daemon runs.
//!
//! Certificates expire (Let's Encrypt's every 90 days, a ministry's yearly); renewing one must
//! not mean restarting central and dropping every office's WebSocket. [`ReloadingCert`] answers
//! each new handshake with the pair it holds now, and [`reload_on_hangup`] replaces that pair
//! when the process gets SIGHUP (`systemctl reload`). Connections already open keep the
//! certificate they started with.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::{read, read_certificates, TlsError};

/// Where a server's certificate chain and private key are, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The server's certificate first, then any intermediates (`fullchain.pem`).
    pub cert: PathBuf,
    /// Its private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub key: PathBuf,
}

/// What is wrong with a `[server] tls_cert` / `tls_key` pair, and which key to name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// `server.tls_cert` or `server.tls_key`.
    pub at: &'static str,
    pub problem: String,
}

impl CertFiles {
    /// The `[server] tls_cert` and `tls_key` settings, both or neither. The pair is read now, so
    /// `check-config` catches a wrong path, a key that is not the certificate's, or a file that
    /// is not PEM, before the daemon is restarted. Both daemons check their settings with it.
    pub fn from_settings(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<CertFiles>, SettingProblem> {
        let problem = |at, problem: &str| SettingProblem { at, problem: problem.to_string() };
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(_), None) => {
                Err(problem("server.tls_key", "is needed with tls_cert (the certificate's private key)"))
            }
            (None, Some(_)) => Err(problem("server.tls_cert", "is needed with tls_key (the certificate chain, PEM)")),
            (Some(cert), Some(key)) => {
                let files = CertFiles { cert, key };
                match files.load() {
                    Ok(_) => Ok(Some(files)),
                    Err(error) => Err(problem("server.tls_cert", &error.to_string())),
                }
            }
        }
    }

    /// Reads and checks the pair: both files parse and the key is the certificate's.
    pub fn load(&self) -> Result<Arc<CertifiedKey>, TlsError> {
        use rustls::pki_types::pem::{self, PemObject};
        let chain = read_certificates(&self.cert)?;
        let key_bytes = read(&self.key)?;
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|error| match error {
            pem::Error::NoItemsFound => TlsError::NoKey { path: self.key.clone() },
            other => TlsError::Pem { path: self.key.clone(), reason: other.to_string() },
        })?;
        let pair = CertifiedKey::from_der(chain, key, &crate::provider()).map_err(|error| TlsError::KeyPair {
            cert: self.cert.clone(),
            key: self.key.clone(),
            reason: error.to_string(),
        })?;
        Ok(Arc::new(pair))
    }
}

/// The certificate a server presents, replaceable while it serves.
#[derive(Debug)]
pub struct ReloadingCert {
    files: CertFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    /// Reads the pair once; a server must not start without a usable one.
    pub fn load(files: CertFiles) -> Result<Arc<ReloadingCert>, TlsError> {
        let current = RwLock::new(files.load()?);
        Ok(Arc::new(ReloadingCert { files, current }))
    }

    /// Reads the files again. A pair that does not load leaves the one in use in place, so a
    /// half-copied renewal never takes a running server down.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = self.files.load()?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The chain presented now (tests compare it with the files).
    pub fn chain(&self) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).cert.clone()
    }

    /// A server configuration that asks this resolver at every handshake.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, TlsError> {
        let config = rustls::ServerConfig::builder_with_provider(crate::provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        Ok(config)
    }

    pub fn files(&self) -> &CertFiles {
        &self.files
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // A lock poisoned by a panicking writer still holds a whole pair: the swap is one store.
        Some(self.current.read().unwrap_or_else(PoisonError::into_inner).clone())
    }
}

/// Reloads `certificate` whenever the process gets SIGHUP, until the returned task is aborted.
///
/// Call it even without a certificate (plain HTTP behind a reverse proxy): SIGHUP's default
/// would end the process, and `systemctl reload` must never stop a daemon. The handler is in
/// place when this returns, so a SIGHUP sent right after start-up is not fatal either.
pub fn reload_on_hangup(
    daemon: &'static str,
    certificate: Option<Arc<ReloadingCert>>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let Some(certificate) = &certificate else {
                tracing::info!(daemon, "SIGHUP: nothing to reload (no [server] tls_cert, plain HTTP)");
                continue;
            };
            let files = certificate.files();
            match certificate.reload() {
                Ok(()) => tracing::info!(
                    daemon,
                    cert = %files.cert.display(),
                    "SIGHUP: TLS certificate reloaded; new connections get it"
                ),
                Err(error) => tracing::error!(
                    daemon,
                    %error,
                    "SIGHUP: the new TLS certificate cannot be used; still serving the previous one"
                ),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair {
        _dir: tempfile::TempDir,
        files: CertFiles,
        der: Vec<u8>,
    }

    fn pair(name: &str) -> Pair {
        let dir = tempfile::tempdir().expect("temp dir");
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec![name.to_string()]).expect("certificate");
        let files = CertFiles { cert: dir.path().join("cert.pem"), key: dir.path().join("key.pem") };
        std::fs::write(&files.cert, cert.pem()).expect("write");
        std::fs::write(&files.key, signing_key.serialize_pem()).expect("write");
        Pair { _dir: dir, der: cert.der().to_vec(), files }
    }

    fn problem(files: &CertFiles) -> String {
        files.load().expect_err("refused").to_string()
    }

    #[test]
    fn a_certificate_and_its_key_load() {
        let pair = pair("central.example");
        let certificate = ReloadingCert::load(pair.files.clone()).expect("loads");
        assert_eq!(certificate.chain()[0].as_ref(), pair.der.as_slice());
    }

    #[test]
    fn a_missing_file_an_empty_file_and_a_key_that_is_not_the_certificates_are_named() {
        let a = pair("a.example");
        let b = pair("b.example");
        let missing = CertFiles { cert: a.files.cert.with_file_name("nowhere.pem"), key: a.files.key.clone() };
        assert!(problem(&missing).starts_with("cannot read"), "{}", problem(&missing));

        let no_key = CertFiles { cert: a.files.cert.clone(), key: a.files.cert.clone() };
        assert!(problem(&no_key).contains("holds no PEM private key"), "{}", problem(&no_key));

        let swapped = CertFiles { cert: a.files.cert.clone(), key: b.files.key.clone() };
        assert!(problem(&swapped).contains("does not go with the certificate"), "{}", problem(&swapped));

        std::fs::write(&a.files.cert, "not a certificate").expect("write");
        assert!(problem(&a.files).contains("holds no PEM certificate"), "{}", problem(&a.files));
    }

    #[test]
    fn a_reload_takes_the_new_pair_and_a_broken_one_keeps_the_old() {
        let first = pair("central.example");
        let certificate = ReloadingCert::load(first.files.clone()).expect("loads");

        let second = pair("central.example");
        std::fs::copy(&second.files.cert, &first.files.cert).expect("copy");
        std::fs::copy(&second.files.key, &first.files.key).expect("copy");
        certificate.reload().expect("reloads");
        assert_eq!(certificate.chain()[0].as_ref(), second.der.as_slice());

        std::fs::write(&first.files.key, "half a renewal").expect("write");
        assert!(certificate.reload().is_err());
        assert_eq!(certificate.chain()[0].as_ref(), second.der.as_slice(), "the working pair stays");
    }
}
