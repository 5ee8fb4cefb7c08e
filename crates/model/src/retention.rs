//! Retention periods: only AWS's allowed day counts.

use crate::error::{ApiError, ApiResult};

/// Day counts PutRetentionPolicy accepts.
pub const ALLOWED_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A retention period AWS allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(u32);

impl RetentionDays {
    pub fn parse(days: i64) -> ApiResult<Self> {
        match u32::try_from(days) {
            Ok(d) if ALLOWED_RETENTION_DAYS.contains(&d) => Ok(Self(d)),
            _ => Err(ApiError::constraint(
                "retentionInDays",
                &days.to_string(),
                "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
            )),
        }
    }

    pub fn days(self) -> u32 {
        self.0
    }

    /// The retention period in milliseconds.
    pub fn as_millis(self) -> i64 {
        i64::from(self.0) * 86_400_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_values() {
        assert!(RetentionDays::parse(14).is_ok());
        assert!(RetentionDays::parse(3653).is_ok());
        assert!(RetentionDays::parse(2).is_err());
        assert!(RetentionDays::parse(-1).is_err());
        assert!(RetentionDays::parse(i64::MAX).is_err());
    }
}
