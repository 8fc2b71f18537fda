//! The headquarters aggregator this office syncs with (`[central]`), once checked. The link
//! itself is `sync_client`'s.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct CentralSettings {
    /// `ws://central.example:9090/api/v1/sync`
    pub url: String,
    /// The office's branch token (central keeps only its hash).
    pub token: String,
    /// A CA trusted besides the system's roots, for `wss://` (PEM).
    pub ca_file: Option<PathBuf>,
    /// Where citizens reach central's pages; see [`CentralSettings::citizen_url`].
    pub citizen_url: Option<String>,
    /// Central's public key for booking passes: with it the office checks a booking in that
    /// has not reached it yet (the WAN down since the booking was made).
    pub booking_key: Option<fila_protocol::booking::code::VerifyingKey>,
    /// Other replicas of central, tried in turn when the one in use cannot be reached.
    pub fallback_urls: Vec<String>,
}

impl CentralSettings {
    /// Every address of central, the preferred first.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.url.as_str()).chain(self.fallback_urls.iter().map(String::as_str))
    }

    /// Central's address for citizens (survey links): the configured one, else the sync
    /// address's scheme and host (`wss://hq.example/api/v1/sync` is `https://hq.example`).
    pub fn citizen_url(&self) -> String {
        match &self.citizen_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => self.api_url(),
        }
    }

    /// Central's HTTP API for this box: the sync address's scheme and host.
    pub fn api_url(&self) -> String {
        let (scheme, rest) = match self.url.split_once("://") {
            Some(("wss", rest)) => ("https", rest),
            Some((_, rest)) => ("http", rest),
            None => ("http", self.url.as_str()),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        format!("{scheme}://{authority}")
    }

    /// A client for central's HTTP API that trusts what the sync link trusts (the system's
    /// roots and `ca_file`), shaped further by `shape` (timeouts); why not, in words for the log.
    pub fn http_client(
        &self,
        shape: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Result<reqwest::Client, String> {
        let tls = fila_tls::client::client_config(self.ca_file.as_deref()).map_err(|e| format!("TLS: {e}"))?;
        shape(reqwest::Client::builder().use_preconfigured_tls(tls)).build().map_err(|e| e.without_url().to_string())
    }

    /// `GET {api}{path}` with the branch token, its body read up to `max` bytes (the answer of a
    /// peer: a broken or hostile one could send anything); why not, in words for the log.
    pub async fn get_bounded(&self, client: &reqwest::Client, path: &str, max: usize) -> Result<Vec<u8>, String> {
        let mut response = client
            .get(format!("{}{path}", self.api_url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("central answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.without_url().to_string())? {
            if body.len() + chunk.len() > max {
                return Err(format!("central's answer is over {max} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// A `ws://` address whose host is not this machine: the token and the days go in clear.
    pub fn is_unencrypted_over_a_network(&self) -> bool {
        self.urls().any(unencrypted_over_a_network)
    }
}

fn unencrypted_over_a_network(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("ws://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    !loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(url: &str, citizen_url: Option<&str>) -> CentralSettings {
        CentralSettings {
            url: url.into(),
            token: "t".into(),
            ca_file: None,
            citizen_url: citizen_url.map(Into::into),
            booking_key: None,
            fallback_urls: Vec::new(),
        }
    }

    #[test]
    fn citizens_reach_central_at_the_sync_hosts_web_address_unless_told_otherwise() {
        assert_eq!(central("wss://hq.example.gob/api/v1/sync", None).citizen_url(), "https://hq.example.gob");
        assert_eq!(central("ws://127.0.0.1:9090/api/v1/sync", None).citizen_url(), "http://127.0.0.1:9090");
        assert_eq!(
            central("wss://10.0.0.5/api/v1/sync", Some("https://turnos.example.gob/")).citizen_url(),
            "https://turnos.example.gob"
        );
    }
}
