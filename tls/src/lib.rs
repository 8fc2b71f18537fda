//! TLS for fila's two daemons, in one place so the edge and central never depend on each other.
//!
//! - [`server`]: a certificate and key read from PEM files, served through a resolver that
//!   reloads them on SIGHUP without dropping the process or its connections; a bad new pair is
//!   logged and the one in use is kept. Central serves HTTPS with it, and so may the edge.
//! - [`client`]: what the edge trusts when it dials central over `wss://`: the system's roots
//!   plus, optionally, a ministry's own CA from a PEM file.
//!
//! Every configuration uses rustls with the *ring* provider, named explicitly: it builds without
//! cmake on ARM boxes, and no process-wide default provider has to be installed first.

pub mod client;
pub mod server;
#[cfg(feature = "testing")]
pub mod testing;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use rustls;

/// Why a certificate, key or CA file cannot be used; the words an installer reads in
/// `check-config` or in the log after a reload.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{} holds no PEM private key (-----BEGIN PRIVATE KEY-----)", path.display())]
    NoKey { path: PathBuf },
    #[error("{} is not valid PEM: {reason}", path.display())]
    Pem { path: PathBuf, reason: String },
    #[error("the key in {} does not go with the certificate in {}: {reason}", key.display(), cert.display())]
    KeyPair { cert: PathBuf, key: PathBuf, reason: String },
    #[error("{} holds a certificate that cannot be a trusted root: {reason}", path.display())]
    BadCa { path: PathBuf, reason: String },
    #[error("cannot make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The one crypto provider fila uses (see the crate doc).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file, in order; none at all is an error.
fn read_certificates(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, TlsError> {
    use rustls::pki_types::pem::{self, PemObject};
    let bytes = read(path)?;
    let certificates = rustls::pki_types::CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|error| TlsError::Pem { path: path.into(), reason: error.to_string() })?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate { path: path.into() });
    }
    Ok(certificates)
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.into(), source })
}
