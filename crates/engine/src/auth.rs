//! The clock requests are checked against. Access keys (root, users, role sessions) are
//! looked up in [`crate::iam`].

use crate::Engine;

impl Engine {
    /// The clock's time in epoch seconds (what request timestamps are checked against).
    pub fn now_secs(&self) -> i64 {
        self.now().div_euclid(1000)
    }
}
