//! The clock requests are checked against. Access keys (root, users, role sessions) are
//! looked up in [`crate::iam`].

use crate::Engine;

impl Engine {
    /// The clock's time in epoch seconds (what request timestamps are checked against).
    pub fn now_secs(&self) -> i64 {
        self.now().div_euclid(1000)
    }
}

impl Engine {
    /// The tags of log group `group` in `scope` (none when it does not exist), for
    /// `aws:ResourceTag/<key>` in policy conditions.
    pub fn log_group_tags(
        &self,
        scope: &flowwatch_model::Scope,
        group: &str,
    ) -> flowwatch_model::tags::Tags {
        self.storage()
            .log_group(scope, group)
            .map(|g| g.tags)
            .unwrap_or_default()
    }
}
