//! For tests of the daemons (feature `testing`): a throw-away PKI written to files, as an
//! installer would have it (a ministry CA and the server certificate it signed), and a TLS
//! client that reports which certificate the server presented.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server::CertFiles;

/// A CA and the server certificates it issues, in one directory.
pub struct TestPki {
    dir: PathBuf,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestPki {
    /// Makes the CA and writes it to `dir/ca.pem`.
    pub fn new(dir: &Path) -> TestPki {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Ministerio de Pruebas CA");
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let key = rcgen::KeyPair::generate().expect("CA key");
        let certificate = params.self_signed(&key).expect("CA certificate");
        std::fs::write(dir.join("ca.pem"), certificate.pem()).expect("write ca.pem");
        TestPki { dir: dir.to_path_buf(), issuer: rcgen::Issuer::new(params, key) }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Where [`TestPki::issue`] writes the server's pair.
    pub fn cert_files(&self) -> CertFiles {
        CertFiles { cert: self.dir.join("cert.pem"), key: self.dir.join("key.pem") }
    }

    /// Issues a new certificate for `localhost` and 127.0.0.1, (over)writes `cert.pem` and
    /// `key.pem`, and returns the certificate (DER) a client should then be shown.
    pub fn issue(&self) -> CertificateDer<'static> {
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "central.test");
        let key = rcgen::KeyPair::generate().expect("server key");
        let certificate = params.signed_by(&key, &self.issuer).expect("server certificate");
        let files = self.cert_files();
        std::fs::write(&files.cert, certificate.pem()).expect("write cert.pem");
        std::fs::write(&files.key, key.serialize_pem()).expect("write key.pem");
        certificate.der().clone()
    }
}

/// Opens a TLS connection to `127.0.0.1:port` trusting the system roots and `ca_file`; answers
/// the certificate the server presented, or why the handshake failed.
pub async fn handshake(
    port: u16,
    ca_file: Option<&Path>,
) -> std::io::Result<(CertificateDer<'static>, tokio_rustls::client::TlsStream<tokio::net::TcpStream>)> {
    let config = crate::client::client_config(ca_file).map_err(std::io::Error::other)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
    let stream = connector.connect(name, tcp).await?;
    let presented = stream.get_ref().1.peer_certificates().and_then(|chain| chain.first()).cloned();
    let presented = presented.ok_or_else(|| std::io::Error::other("the server presented no certificate"))?;
    Ok((presented, stream))
}

/// `GET path` over HTTPS: the whole response, head and body, as text.
pub async fn https_get(port: u16, ca_file: &Path, path: &str) -> std::io::Result<String> {
    https_get_as(port, ca_file, path, None).await
}

/// [`https_get`] with `Authorization: Bearer <token>`.
pub async fn https_get_as(port: u16, ca_file: &Path, path: &str, bearer: Option<&str>) -> std::io::Result<String> {
    let (_, mut stream) = handshake(port, Some(ca_file)).await?;
    let authorization = bearer.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{authorization}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    // A server that closes without close_notify still sent a complete response.
    if let Err(error) = stream.read_to_end(&mut response).await {
        if response.is_empty() {
            return Err(error);
        }
    }
    Ok(String::from_utf8_lossy(&response).into_owned())
}
