//! Central's booking secrets, made once and kept in its store: the Ed25519 key that signs
//! booking passes (its public half goes into each edge's `[central] booking_key`), and the
//! secret under which identity numbers are hashed.

use ed25519_dalek::SigningKey;
use fila_store::{Store, StoreError};
use rand::RngCore;

const SIGNING_KEY: &str = "booking/secret/signing-key";
const IDENTITY_SECRET: &str = "booking/secret/identity";

pub struct Secrets {
    pub signing: SigningKey,
    pub identity: [u8; 32],
}

impl Secrets {
    /// The stored secrets, or new random ones stored durably before use. Blocking.
    pub fn load_or_create(store: &dyn Store) -> Result<Secrets, StoreError> {
        let signing = stored_or_new(store, SIGNING_KEY)?;
        let identity = stored_or_new(store, IDENTITY_SECRET)?;
        Ok(Secrets { signing: SigningKey::from_bytes(&signing), identity })
    }

    /// Fixed secrets from a published seed: the demo's, so that `fila-edge demo` knows the
    /// public key without being told. Never for a real deployment.
    pub fn from_seed(seed: &str) -> Secrets {
        use fila_protocol::booking::code::key_from_seed;
        Secrets {
            signing: SigningKey::from_bytes(&key_from_seed(seed, "signing")),
            identity: key_from_seed(seed, "identity"),
        }
    }

    /// The public key as an edge's configuration writes it.
    pub fn public_key(&self) -> String {
        fila_protocol::booking::code::public_key_text(&self.signing.verifying_key())
    }
}

fn stored_or_new(store: &dyn Store, key: &str) -> Result<[u8; 32], StoreError> {
    if let Some(bytes) = store.get_meta(key)? {
        if let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(bytes);
        }
        tracing::error!(key, "a stored booking secret is damaged; a new one is made (earlier passes no longer check)");
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    store.put_meta(key, &bytes)?;
    store.flush()?;
    Ok(bytes)
}
