//! The RSA keys that sign CloudTrail digest files, one current key per region, and
//! ListPublicKeys (spec `cloudtrail-iam.md` B.3).
//!
//! A region's key is generated (2048 bits, off the async runtime) the first time a digest of
//! that region is signed or its public keys are listed, and is valid [`KEY_VALIDITY_MS`]; after
//! that a new key is generated and the old one is still listed (its digests stay verifiable).
//! Keys are engine state (`cloudtrail_signing_keys`, in the catalog of the data directory, with
//! the private key as PKCS#8 DER in base64), saved before the key signs anything, so a restart
//! keeps them. The fingerprint is the hex MD5 of the DER public key
//! ([`flowwatch_security::trail_files::fingerprint`]; AWS does not document its derivation).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flowwatch_model::cloudtrail::{ListPublicKeysRequest, ListPublicKeysResponse, PublicKey};
use flowwatch_model::{ApiError, ApiResult, Caller, ErrorCode};
use flowwatch_security::trail_files::SigningKey;
use serde::{Deserialize, Serialize};

use crate::Engine;

/// How long a key signs digests before the next one is generated (one year).
pub const KEY_VALIDITY_MS: i64 = 365 * 24 * 3600 * 1000;

/// Every region's signing keys, oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SigningKeys {
    regions: BTreeMap<String, Vec<StoredKey>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    created_ms: i64,
    valid_until_ms: i64,
    /// PKCS#8 DER, base64.
    private_key: String,
    fingerprint: String,
    /// PKCS#1 DER, base64 (ListPublicKeys' `Value`).
    public_key: String,
}

impl StoredKey {
    fn decode(&self) -> ApiResult<SigningKey> {
        let der = BASE64.decode(&self.private_key).map_err(|error| {
            tracing::error!(fingerprint = %self.fingerprint, %error, "stored signing key is not base64");
            internal()
        })?;
        SigningKey::from_pkcs8_der(&der).map_err(|error| {
            tracing::error!(fingerprint = %self.fingerprint, %error, "stored signing key does not decode");
            internal()
        })
    }
}

fn internal() -> ApiError {
    ApiError::internal("The service cannot complete the request; try again later.")
}

impl Engine {
    /// The key that signs `region`'s digests now, generated and saved when there is none.
    pub(crate) async fn signing_key(&self, region: &str) -> ApiResult<SigningKey> {
        let now = self.now();
        let current = self
            .signing_keys
            .read(|keys| {
                keys.regions
                    .get(region)
                    .and_then(|list| list.last())
                    .filter(|k| now < k.valid_until_ms)
                    .cloned()
            })
            .await;
        if let Some(stored) = current {
            return stored.decode();
        }
        let key = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .map_err(|error| {
                tracing::error!(%error, "signing key generation task failed");
                internal()
            })?
            .map_err(|error| {
                tracing::error!(%error, "signing key not generated");
                internal()
            })?;
        let private_key = key.to_pkcs8_der().map_err(|error| {
            tracing::error!(%error, "signing key does not encode");
            internal()
        })?;
        let stored = StoredKey {
            created_ms: now,
            valid_until_ms: now.saturating_add(KEY_VALIDITY_MS),
            private_key: BASE64.encode(private_key),
            fingerprint: key.fingerprint().to_owned(),
            public_key: BASE64.encode(key.public_key_der()),
        };
        // Another task may have saved a key meanwhile: the first one saved is the region's.
        let chosen = self
            .signing_keys
            .update_when(|keys| {
                let list = keys.regions.entry(region.to_owned()).or_default();
                if let Some(existing) = list.last().filter(|k| now < k.valid_until_ms) {
                    return Ok((existing.clone(), false));
                }
                list.push(stored.clone());
                Ok((stored, true))
            })
            .await?;
        tracing::info!(%region, fingerprint = %chosen.fingerprint, "CloudTrail digest signing key in use");
        chosen.decode()
    }

    /// ListPublicKeys: the public keys of the caller's region valid at some time between
    /// `StartTime` and `EndTime` (each defaults to now, so no times give the current key).
    pub async fn list_public_keys(
        &self,
        caller: &Caller,
        req: ListPublicKeysRequest,
    ) -> ApiResult<ListPublicKeysResponse> {
        let now = self.now();
        let ms = |secs: Option<f64>| secs.map_or(now, |s| (s * 1000.0) as i64);
        let (start, end) = (ms(req.start_time), ms(req.end_time));
        if start > end {
            return Err(ApiError::new(
                ErrorCode::InvalidTimeRangeException,
                "Occurs if the timestamp values are not valid. Either the start time occurs \
                 after the end time, or the time range is outside the range of possible values.",
            ));
        }
        if req.next_token.as_deref().is_some_and(|t| !t.is_empty()) {
            return Err(ApiError::new(
                ErrorCode::InvalidNextTokenException,
                "Invalid NextToken: the token is not valid for these parameters.",
            ));
        }
        let region = &caller.scope.region;
        // The region's first key exists once anyone asks for it.
        self.signing_key(region).await?;
        let public_key_list = self
            .signing_keys
            .read(|keys| {
                keys.regions
                    .get(region)
                    .into_iter()
                    .flatten()
                    .filter(|k| k.created_ms <= end && start <= k.valid_until_ms)
                    .map(|k| PublicKey {
                        value: k.public_key.clone(),
                        validity_start_time: k.created_ms as f64 / 1000.0,
                        validity_end_time: k.valid_until_ms as f64 / 1000.0,
                        fingerprint: k.fingerprint.clone(),
                    })
                    .collect()
            })
            .await;
        Ok(ListPublicKeysResponse {
            public_key_list,
            next_token: None,
        })
    }
}
