//! Access keys: the secret a request's signature is checked with, and whose key it is.

use flowwatch_security::SecretKey;

use crate::Engine;

/// An access key the server knows.
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub secret: SecretKey,
    /// The ARN of the key's owner (`arn:aws:iam::<account>:root` for the root key).
    pub principal_arn: String,
    /// The account the key belongs to.
    pub account: String,
}

impl Engine {
    /// The access key with this id, if any (the root key from the configuration).
    pub fn access_key(&self, access_key_id: &str) -> Option<AccessKey> {
        let root = self.config.auth.root.as_ref()?;
        (root.access_key_id == access_key_id).then(|| AccessKey {
            secret: root.secret_access_key.clone(),
            principal_arn: format!("arn:aws:iam::{}:root", self.config.account_id),
            account: self.config.account_id.clone(),
        })
    }

    /// The clock's time in epoch seconds (what request timestamps are checked against).
    pub fn now_secs(&self) -> i64 {
        self.now().div_euclid(1000)
    }
}
