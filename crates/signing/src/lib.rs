#![doc = include_str!("../README.md")]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use async_trait::async_trait;
use openbadges_credentials::{DataIntegrity, Ed25519KeyPair, KeyVault, RsaKeyPair, RsaPublicKey};
use openbadges_domain::documents::Urls;
use openbadges_domain::keys::{KeyMaker, KeyMaterial, KeyRing};
use openbadges_domain::ports::{CredentialSigner, RepoResult, Store};
use openbadges_domain::*;
use serde_json::{json, Map, Value};

/// Size of the RSA keys made for issuers, in bits.
pub const RSA_BITS: usize = 2048;

/// The algorithm of a VC-JWT: EdDSA (the default) or RS256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// Ed25519, with the issuer's Ed25519 key.
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256, with the issuer's RSA key.
    Rs256,
}

impl JwtAlgorithm {
    /// The JWS `alg` name, as asked for with `?alg=` (case-insensitive).
    pub fn parse(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("EdDSA") {
            Some(Self::EdDsa)
        } else if value.eq_ignore_ascii_case("RS256") {
            Some(Self::Rs256)
        } else {
            None
        }
    }
}

/// Remembers each issuer's active key between signatures, for a service
/// that can tell when keys change: the server's document cache, which
/// forgets everything when the database reports a change to any key.
pub trait ActiveKeys: Send + Sync {
    /// The key kept as `issuer`'s active key of `algorithm`.
    fn get(&self, issuer: IssuerId, algorithm: KeyAlgorithm) -> Option<SigningKey>;
    /// Taken before reading the store: what [`Self::keep`] checks that
    /// nothing changed since. `None`: keep nothing now.
    fn ticket(&self) -> Option<u64>;
    /// Keeps `key` as its issuer's active key of its algorithm, if nothing
    /// changed since `ticket` was taken.
    fn keep(&self, ticket: u64, key: SigningKey);
    /// The signer is making a key (an issuer's first, or by rotation),
    /// which the issuer's DID document will list once it is stored.
    fn key_made(&self);
}

/// Signs credentials with the issuers' keys.
pub struct Signing {
    integrity: Arc<DataIntegrity>,
    vault: KeyVault,
    urls: Urls,
    store: Arc<dyn Store>,
    /// Opened key pairs by key id: keys never change once made, so this
    /// stays correct across instances; it grows with the number of keys.
    opened: RwLock<HashMap<SigningKeyId, Arc<Ed25519KeyPair>>>,
    /// Opened RSA keys by key id, likewise (reading one is not free).
    opened_rsa: RwLock<HashMap<SigningKeyId, Arc<RsaKeyPair>>>,
    /// Held while a missing key is made, so that concurrent first uses in
    /// this process make one key, not one each (an RSA key costs a fraction
    /// of a second of CPU); other instances are settled by the database.
    making: tokio::sync::Mutex<()>,
    /// Where active keys are remembered, once the service gives one.
    active: OnceLock<Arc<dyn ActiveKeys>>,
}

impl Signing {
    /// A signer over `store`'s keys, sealing and opening private keys with
    /// `vault`, naming verification methods under `urls`. Loads the bundled
    /// JSON-LD contexts once, which fails only if they do not parse.
    pub fn new(
        store: Arc<dyn Store>,
        vault: KeyVault,
        urls: Urls,
    ) -> Result<Self, openbadges_credentials::Error> {
        Ok(Self {
            integrity: Arc::new(DataIntegrity::new()?),
            vault,
            urls,
            store,
            opened: RwLock::new(HashMap::new()),
            opened_rsa: RwLock::new(HashMap::new()),
            making: tokio::sync::Mutex::new(()),
            active: OnceLock::new(),
        })
    }

    /// From now on, remembers the issuers' active keys in `keys` instead
    /// of reading them from the store for every signature. `keys` must
    /// forget a key as soon as any key changes (rotated, revoked, made).
    /// Only the first call counts.
    pub fn remember_active_keys(&self, keys: Arc<dyn ActiveKeys>) {
        let _ = self.active.set(keys);
    }

    /// The Data Integrity engine, for verification.
    pub fn integrity(&self) -> &Arc<DataIntegrity> {
        &self.integrity
    }

    fn open(&self, key: &SigningKey) -> Result<Arc<Ed25519KeyPair>, DomainError> {
        if let Some(pair) = self
            .opened
            .read()
            .ok()
            .and_then(|m| m.get(&key.id).cloned())
        {
            return Ok(pair);
        }
        let seed = self.vault.open(&key.sealed_private_key).map_err(internal)?;
        let seed: [u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| DomainError::Internal(format!("signing key {} is malformed", key.id)))?;
        let pair = Arc::new(Ed25519KeyPair::from_seed(&seed));
        if pair.public_key_multibase() != key.public_key {
            return Err(DomainError::Internal(format!(
                "signing key {} does not match its public key",
                key.id
            )));
        }
        if let Ok(mut opened) = self.opened.write() {
            opened.insert(key.id, Arc::clone(&pair));
        }
        Ok(pair)
    }

    fn open_rsa(&self, key: &SigningKey) -> Result<Arc<RsaKeyPair>, DomainError> {
        if let Some(pair) = self
            .opened_rsa
            .read()
            .ok()
            .and_then(|m| m.get(&key.id).cloned())
        {
            return Ok(pair);
        }
        let der = self.vault.open(&key.sealed_private_key).map_err(internal)?;
        let pair = RsaKeyPair::from_pkcs8_der(&der).map_err(|e| {
            DomainError::Internal(format!("signing key {} is malformed: {e}", key.id))
        })?;
        let stored = RsaPublicKey::from_pem(&key.public_key)
            .map_err(|e| DomainError::Internal(format!("stored public key of {}: {e}", key.id)))?;
        if pair.public_key() != &stored {
            return Err(DomainError::Internal(format!(
                "signing key {} does not match its public key",
                key.id
            )));
        }
        let pair = Arc::new(pair);
        if let Ok(mut opened) = self.opened_rsa.write() {
            opened.insert(key.id, Arc::clone(&pair));
        }
        Ok(pair)
    }

    /// The key lifecycle over the store, making keys with this signer.
    pub fn keys(&self) -> KeyRing<'_> {
        KeyRing::new(self.store.signing_keys(), self)
    }

    /// The issuer's active Ed25519 key, made on first use.
    pub async fn active_key(&self, issuer: IssuerId) -> Result<SigningKey, DomainError> {
        self.active_key_of(issuer, KeyAlgorithm::Ed25519).await
    }

    /// The issuer's active key of `algorithm`, made on first use (see
    /// [`KeyRing::active`]).
    pub async fn active_key_of(
        &self,
        issuer: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> Result<SigningKey, DomainError> {
        let memo = self.active.get();
        if let Some(key) = memo.and_then(|memo| memo.get(issuer, algorithm)) {
            return Ok(key);
        }
        let ticket = memo.and_then(|memo| memo.ticket());
        if let Some(key) = self.store.signing_keys().active(issuer, algorithm).await? {
            if let (Some(memo), Some(ticket)) = (memo, ticket) {
                memo.keep(ticket, key.clone());
            }
            return Ok(key);
        }
        let _making = self.making.lock().await;
        self.keys().active(issuer, algorithm).await
    }

    /// Signs `payload` (JSON) as a compact JWS with the RSA key `key`
    /// (RS256), `header` giving the other header parameters.
    pub async fn sign_rs256(
        &self,
        key: &SigningKey,
        header: Map<String, Value>,
        payload: &Value,
    ) -> Result<String, DomainError> {
        let pair = self.open_rsa(key)?;
        let payload = serde_json::to_vec(payload)
            .map_err(|e| DomainError::Internal(format!("serializing a JWS payload: {e}")))?;
        tokio::task::spawn_blocking(move || {
            openbadges_credentials::jws::sign_rs256(header, &payload, &pair)
        })
        .await
        .map_err(|e| DomainError::Internal(format!("signing task failed: {e}")))?
        .map_err(|e| DomainError::Internal(format!("signing a JWS failed: {e}")))
    }
}

/// A failure of the cryptography, as the domain's internal error (its
/// text is logged, never answered).
fn internal(error: openbadges_credentials::Error) -> DomainError {
    DomainError::Internal(error.to_string())
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410): the form JWT
/// libraries take private keys in.
fn ed25519_pkcs8(seed: &[u8; 32]) -> zeroize::Zeroizing<Vec<u8>> {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = zeroize::Zeroizing::new(Vec::with_capacity(48));
    der.extend_from_slice(&PREFIX);
    der.extend_from_slice(seed);
    der
}

impl Signing {
    /// The credential as a VC-JWT: a compact JWS (EdDSA, or RS256 with the
    /// issuer's RSA key, made on first use) whose payload is the credential
    /// (with its Data Integrity proof) plus the JWT claims, `kid` naming the
    /// verification method.
    pub async fn jwt(
        &self,
        issuer: IssuerId,
        credential: &Value,
        algorithm: JwtAlgorithm,
    ) -> Result<String, DomainError> {
        if algorithm == JwtAlgorithm::Rs256 {
            let key = self.active_key_of(issuer, KeyAlgorithm::Rs256).await?;
            let mut header = Map::new();
            header.insert("typ".to_owned(), json!("JWT"));
            header.insert("kid".to_owned(), json!(self.urls.verification_method(&key)));
            return self
                .sign_rs256(&key, header, &documents::jwt_claims(credential))
                .await;
        }
        let key = self.active_key(issuer).await?;
        let pair = self.open(&key)?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(self.urls.verification_method(&key));
        header.typ = Some("JWT".to_owned());
        let der = ed25519_pkcs8(&pair.seed());
        jsonwebtoken::encode(
            &header,
            &documents::jwt_claims(credential),
            &jsonwebtoken::EncodingKey::from_ed_der(&der),
        )
        .map_err(|e| DomainError::Internal(format!("signing a JWT failed: {e}")))
    }
}

/// Ed25519 and RSA key pairs, their private halves sealed by the vault.
#[async_trait]
impl KeyMaker for Signing {
    async fn make(
        &self,
        id: SigningKeyId,
        algorithm: KeyAlgorithm,
    ) -> Result<KeyMaterial, DomainError> {
        // Told before the key is stored, so that whoever asks after the
        // request that stored it has heard of it.
        if let Some(keys) = self.active.get() {
            keys.key_made();
        }
        match algorithm {
            KeyAlgorithm::Ed25519 => {
                let pair = Ed25519KeyPair::generate()
                    .map_err(|e| DomainError::Internal(format!("generating a key: {e}")))?;
                Ok(KeyMaterial {
                    public_key: pair.public_key_multibase(),
                    sealed_private_key: self
                        .vault
                        .seal(pair.seed().as_slice())
                        .map_err(internal)?,
                })
            }
            KeyAlgorithm::Rs256 => {
                // A search for primes: a fraction of a second or more, so
                // off the async workers.
                let pair = tokio::task::spawn_blocking(|| RsaKeyPair::generate(RSA_BITS))
                    .await
                    .map_err(|e| DomainError::Internal(format!("key generation task failed: {e}")))?
                    .map_err(|e| DomainError::Internal(format!("generating an RSA key: {e}")))?;
                let pem = pair
                    .public_key()
                    .to_pem()
                    .map_err(|e| DomainError::Internal(e.to_string()))?;
                let der = pair
                    .to_pkcs8_der()
                    .map_err(|e| DomainError::Internal(e.to_string()))?;
                let sealed = self.vault.seal(&der).map_err(internal)?;
                if let Ok(mut opened) = self.opened_rsa.write() {
                    opened.insert(id, Arc::new(pair));
                }
                Ok(KeyMaterial {
                    public_key: pem,
                    sealed_private_key: sealed,
                })
            }
        }
    }
}

#[async_trait]
impl CredentialSigner for Signing {
    /// Opens the key once and signs the batch in as many chunks as there
    /// are cores, each on the blocking pool.
    async fn sign_many(
        &self,
        key: &SigningKey,
        credentials: Vec<Value>,
    ) -> RepoResult<Vec<IssuedCredential>> {
        let pair = self.open(key)?;
        let method = self.urls.verification_method(key);
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let chunk = credentials.len().div_ceil(cores).max(1);
        let mut credentials = credentials.into_iter();
        let mut tasks = Vec::new();
        loop {
            let part: Vec<Value> = credentials.by_ref().take(chunk).collect();
            if part.is_empty() {
                break;
            }
            let (integrity, pair, method, created) = (
                Arc::clone(&self.integrity),
                Arc::clone(&pair),
                method.clone(),
                created.clone(),
            );
            tasks.push(tokio::task::spawn_blocking(move || {
                // Each signed tree is written out as text at once, on the
                // core that made it.
                part.iter()
                    .map(|credential| {
                        integrity
                            .sign(credential, &pair, &method, &created)
                            .map(|signed| IssuedCredential::new(&signed))
                    })
                    .collect::<Result<Vec<_>, _>>()
            }));
        }
        let mut signed = Vec::new();
        for part in futures_util::future::join_all(tasks).await {
            let part = part
                .map_err(|e| DomainError::Internal(format!("signing task failed: {e}")))?
                .map_err(|e| DomainError::Internal(format!("signing failed: {e}")))?;
            signed.extend(part);
        }
        Ok(signed)
    }

    /// Opens the key too (kept opened), so that a key sealed under
    /// another `KEY_ENCRYPTION_KEY` fails here.
    async fn key_for(&self, issuer: &Issuer) -> RepoResult<SigningKey> {
        let key = self.active_key(issuer.id).await?;
        self.open(&key)?;
        Ok(key)
    }

    async fn sign(&self, key: &SigningKey, credential: Value) -> RepoResult<IssuedCredential> {
        self.sign_with(key, credential).await
    }
}

impl Signing {
    /// Signs `credential` with `key` (an Ed25519 key of ours), for a caller
    /// that must know which key signs, such as a cache of signed documents
    /// keyed on it.
    pub async fn sign_with(
        &self,
        key: &SigningKey,
        credential: Value,
    ) -> Result<IssuedCredential, DomainError> {
        let pair = self.open(key)?;
        let method = self.urls.verification_method(key);
        // Whole seconds: repeated proof configurations are cached by the
        // signer, and verifiers compare `created` as a date-time anyway.
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let integrity = Arc::clone(&self.integrity);
        tokio::task::spawn_blocking(move || {
            integrity
                .sign(&credential, &pair, &method, &created)
                .map(|signed| IssuedCredential::new(&signed))
        })
        .await
        .map_err(|e| DomainError::Internal(format!("signing task failed: {e}")))?
        .map_err(|e| DomainError::Internal(format!("signing failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwts_verify_with_the_public_key_and_map_the_claims() {
        let pair = Ed25519KeyPair::from_seed(&[9; 32]);
        let credential = json!({
            "id": "https://b.example.org/v3/credentials/1",
            "issuer": {"id": "did:web:b.example.org:issuers:1"},
            "validFrom": "2024-05-01T12:00:00Z",
            "validUntil": "2030-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:ada"},
        });
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        let token = jsonwebtoken::encode(
            &header,
            &documents::jwt_claims(&credential),
            &jsonwebtoken::EncodingKey::from_ed_der(&ed25519_pkcs8(&pair.seed())),
        )
        .unwrap();
        let x = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            pair.verifying_key().to_bytes(),
        );
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let decoded = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_ed_components(&x).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(
            decoded.claims["iss"],
            json!("did:web:b.example.org:issuers:1")
        );
        assert_eq!(decoded.claims["jti"], credential["id"]);
        assert_eq!(decoded.claims["sub"], json!("did:example:ada"));
        assert_eq!(decoded.claims["nbf"], json!(1714564800));
        assert_eq!(decoded.claims["exp"], json!(1893456000));
        let other = Ed25519KeyPair::from_seed(&[10; 32]);
        let other_x = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            other.verifying_key().to_bytes(),
        );
        assert!(jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_ed_components(&other_x).unwrap(),
            &validation,
        )
        .is_err());
    }

    #[test]
    fn did_web_follows_the_base_url() {
        let issuer: IssuerId = "6a0c9a3e-3c43-4a3e-8a5e-0d6b1f0f5b11".parse().unwrap();
        let urls = Urls::new("https://badges.example.org").unwrap();
        assert_eq!(
            urls.issuer_did(issuer),
            "did:web:badges.example.org:issuers:6a0c9a3e-3c43-4a3e-8a5e-0d6b1f0f5b11"
        );
        let urls = Urls::new("http://localhost:3000/ob").unwrap();
        assert_eq!(
            urls.issuer_did(issuer),
            "did:web:localhost%3A3000:ob:issuers:6a0c9a3e-3c43-4a3e-8a5e-0d6b1f0f5b11"
        );
        let key = SigningKeyId::generate();
        let method = format!("{}#key-{key}", urls.issuer_did(issuer));
        assert_eq!(urls.key_of_method(&method), Some((issuer, key)));
        assert_eq!(
            urls.key_of_method(&method.replace("localhost", "evil")),
            None
        );
    }

    #[test]
    fn cryptographic_key_urls_name_issuer_and_key() {
        let urls = Urls::new("http://localhost:3000/ob").unwrap();
        let issuer = IssuerId::generate();
        let key = SigningKeyId::generate();
        let url = urls.cryptographic_key(issuer, key);
        assert_eq!(
            url,
            format!("http://localhost:3000/ob/issuers/{issuer}/keys/{key}")
        );
        assert_eq!(urls.cryptographic_key_of(&url), Some((issuer, key)));
        for other in [
            url.replace("localhost", "evil"),
            format!("{url}/revoke"),
            format!("http://localhost:3000/issuers/{issuer}/keys/{key}"),
            urls.revocation_list(issuer),
        ] {
            assert_eq!(urls.cryptographic_key_of(&other), None, "{other}");
        }
    }
}
