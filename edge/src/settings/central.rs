//! The headquarters aggregator this office syncs with (`[central]`), once checked. The link
//! itself is `sync_client`'s.

#[derive(Debug, Clone)]
pub struct CentralSettings {
    /// `ws://central.example:9090/api/v1/sync`
    pub url: String,
    /// The office's branch token (central keeps only its hash).
    pub token: String,
}
