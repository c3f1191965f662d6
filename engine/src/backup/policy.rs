//! The periodic backup policy of an account: how often a backup is due and how long one is
//! kept. Validated here (400 on a bad policy); stored sealed in the catalog's settings.
//! Plain data.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How often backups are taken (1-24 h) and how long each is kept (at least twice the interval,
/// at most 720 h). Defaults: every 4 h, kept 8 h (two copies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupPolicy {
    pub interval_hours: u32,
    pub retention_hours: u32,
}

impl Default for BackupPolicy {
    fn default() -> Self {
        BackupPolicy {
            interval_hours: 4,
            retention_hours: 8,
        }
    }
}

impl BackupPolicy {
    /// A validated policy; 400 saying which bound is broken.
    pub fn new(interval_hours: u32, retention_hours: u32) -> Result<BackupPolicy> {
        let p = BackupPolicy {
            interval_hours,
            retention_hours,
        };
        p.validate()?;
        Ok(p)
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=24).contains(&self.interval_hours) {
            return Err(Error::BadRequest(format!(
                "backup interval {} h is invalid: use 1 to 24 hours",
                self.interval_hours
            )));
        }
        let min = self.interval_hours * 2;
        if self.retention_hours < min || self.retention_hours > 720 {
            return Err(Error::BadRequest(format!(
                "backup retention {} h is invalid: use at least twice the interval ({min} h) and at most 720 hours",
                self.retention_hours
            )));
        }
        Ok(())
    }

    /// The retention in seconds.
    pub(crate) fn retention_secs(&self) -> u64 {
        u64::from(self.retention_hours) * 3600
    }
}

#[cfg(test)]
mod tests {
    use super::BackupPolicy;

    #[test]
    fn bounds() {
        for (i, r) in [(1, 2), (4, 8), (24, 48), (24, 720), (1, 720)] {
            assert!(BackupPolicy::new(i, r).is_ok(), "{i} {r}");
        }
        for (i, r) in [(0, 8), (25, 60), (4, 7), (1, 1), (4, 721), (24, 47)] {
            assert_eq!(BackupPolicy::new(i, r).unwrap_err().status(), 400, "{i} {r}");
        }
        assert!(BackupPolicy::default().validate().is_ok());
    }
}
