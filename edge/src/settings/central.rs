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
}

impl CentralSettings {
    /// A `ws://` address whose host is not this machine: the token and the days go in clear.
    pub fn is_unencrypted_over_a_network(&self) -> bool {
        let Some(rest) = self.url.strip_prefix("ws://") else { return false };
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
}
