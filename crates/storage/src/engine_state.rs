//! Engine state kept whole in the catalog (alarms, SNS topics): a name and the engine's
//! serialised value, opaque here, replaced atomically.

use crate::db::Storage;
use crate::error::Result;

impl Storage {
    /// The value last saved under `name`.
    pub fn engine_state(&self, name: &str) -> Result<Option<String>> {
        self.shared().catalog().engine_state(name)
    }

    /// Replaces the value saved under `name` in one catalog transaction: after a crash the
    /// old or the new value is there, never a mix.
    pub async fn save_engine_state(&self, name: &str, value: String) -> Result<()> {
        let name = name.to_owned();
        self.catalog_op(move |c, _| c.save_engine_state(&name, &value))
            .await
    }
}
