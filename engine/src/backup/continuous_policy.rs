//! The continuous backup policy of an account: the tier (how many days of history a
//! point-in-time restore can reach: 7 or 30) and where the log is shipped. Validated here (400);
//! stored sealed in the catalog's settings. Plain data.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Continuous backup: a base snapshot plus the sealed write-ahead log shipped to `backup_dir`
/// (`None`: the account's default backup directory), restorable to any moment of the last
/// `tier_days` days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinuousPolicy {
    pub tier_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_dir: Option<PathBuf>,
}

impl ContinuousPolicy {
    /// A validated policy: 400 unless the tier is 7 or 30 days.
    pub fn new(tier_days: u32, backup_dir: Option<PathBuf>) -> Result<ContinuousPolicy> {
        let p = ContinuousPolicy {
            tier_days,
            backup_dir,
        };
        p.validate()?;
        Ok(p)
    }

    pub fn validate(&self) -> Result<()> {
        if self.tier_days != 7 && self.tier_days != 30 {
            return Err(Error::BadRequest(format!(
                "continuous backup tier {} days is invalid: use 7 or 30",
                self.tier_days
            )));
        }
        Ok(())
    }

    /// The restore window in milliseconds.
    pub(crate) fn window_ms(&self) -> u64 {
        u64::from(self.tier_days) * 86_400_000
    }

    /// The warning owed when going from `old` to `self`: a shorter tier drops history.
    pub(crate) fn warning_from(&self, old: Option<&ContinuousPolicy>) -> Option<String> {
        let old = old?;
        (self.tier_days < old.tier_days).then(|| {
            format!(
                "continuous backup tier lowered from {} to {} days: history older than {} days will be lost",
                old.tier_days, self.tier_days, self.tier_days
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ContinuousPolicy;

    #[test]
    fn tiers_and_the_downgrade_warning() {
        assert!(ContinuousPolicy::new(7, None).is_ok() && ContinuousPolicy::new(30, None).is_ok());
        for bad in [0, 1, 8, 29, 31, 365] {
            assert_eq!(
                ContinuousPolicy::new(bad, None).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
        let (seven, thirty) = (
            ContinuousPolicy::new(7, None).unwrap(),
            ContinuousPolicy::new(30, None).unwrap(),
        );
        assert!(seven
            .warning_from(Some(&thirty))
            .unwrap()
            .contains("older than 7 days will be lost"));
        assert!(thirty.warning_from(Some(&seven)).is_none());
        assert!(seven.warning_from(None).is_none());
        assert_eq!(seven.window_ms(), 7 * 86_400_000);
    }
}
