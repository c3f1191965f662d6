//! Vault-wide properties fixed in `vault.json`: tenant, soft-delete retention, purge protection
//! and network access, and the rules an account applies before it uses a vault (403.4002 when
//! one fails). Pure values; no I/O. See docs/keys.md, "Vault properties".

use serde::{Deserialize, Serialize};

use crate::error::{substatus, Error, Result};

/// Shortest and longest soft-delete retention a vault may be created with, in days.
pub const MIN_RETENTION_DAYS: u32 = 7;
pub const MAX_RETENTION_DAYS: u32 = 90;
/// The retention of a vault created without one, and of a vault.json written before retention
/// was recorded.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// Who may reach the vault over the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkAccess {
    /// Any caller (the default).
    #[default]
    Public,
    /// Only trusted first-party services, which an embedded account is.
    TrustedServices,
    /// Only callers inside a private endpoint; an embedded account is never one.
    PrivateEndpointOnly,
}

impl NetworkAccess {
    /// Parses `public`, `trusted-services` or `private-endpoint-only` (400 otherwise).
    pub fn parse(s: &str) -> Result<NetworkAccess> {
        match s {
            "public" => Ok(NetworkAccess::Public),
            "trusted-services" => Ok(NetworkAccess::TrustedServices),
            "private-endpoint-only" => Ok(NetworkAccess::PrivateEndpointOnly),
            other => Err(Error::BadRequest(format!(
                "network access {other:?} is not known; use public, trusted-services or \
                 private-endpoint-only"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NetworkAccess::Public => "public",
            NetworkAccess::TrustedServices => "trusted-services",
            NetworkAccess::PrivateEndpointOnly => "private-endpoint-only",
        }
    }
}

/// The properties a vault is created with. Soft delete is always on; its retention, like the
/// tenant, is fixed at creation. Purge protection can be turned on later, never off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultProperties {
    /// `None`: a new random tenant id.
    pub tenant_id: Option<String>,
    pub retention_days: u32,
    pub purge_protection: bool,
    pub network: NetworkAccess,
}

impl Default for VaultProperties {
    /// What `strata vault create NAME` gives without options: a new tenant, 90 days, purge
    /// protection off (as in a cloud vault), public network access.
    fn default() -> Self {
        VaultProperties {
            tenant_id: None,
            retention_days: DEFAULT_RETENTION_DAYS,
            purge_protection: false,
            network: NetworkAccess::Public,
        }
    }
}

impl VaultProperties {
    /// The properties of the `default` vault made on first use of a home: purge protection on,
    /// so that a customer-managed account can use it at once.
    pub fn default_vault() -> Self {
        VaultProperties {
            purge_protection: true,
            ..VaultProperties::default()
        }
    }

    /// 400 unless the retention is within 7–90 days and the tenant id is a UUID.
    pub(crate) fn validate(&self) -> Result<()> {
        if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&self.retention_days) {
            return Err(Error::BadRequest(format!(
                "soft-delete retention of {} days is not allowed; use {MIN_RETENTION_DAYS} to \
                 {MAX_RETENTION_DAYS} days",
                self.retention_days
            )));
        }
        if let Some(t) = &self.tenant_id {
            check_tenant_id(t)?;
        }
        Ok(())
    }
}

/// 400 unless `t` is a UUID in its 36-character hyphenated lower- or upper-case hex form.
pub fn check_tenant_id(t: &str) -> Result<()> {
    let ok = t.len() == 36
        && t.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "tenant id {t:?} is not a UUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47"
        )))
    }
}

/// 403.4002 unless an account of `account_tenant` may use vault `vault` with these settings:
/// same tenant, purge protection on (soft delete always is), not private-endpoint-only.
pub(crate) fn check_account_use(
    vault: &str,
    vault_tenant: &str,
    purge_protection: bool,
    network: NetworkAccess,
    account_tenant: &str,
) -> Result<()> {
    if !vault_tenant.eq_ignore_ascii_case(account_tenant) {
        return Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "key vault {vault} belongs to tenant {vault_tenant}, but this account's tenant is \
                 {account_tenant}; use a vault of the account's tenant (`strata vault create NAME \
                 --tenant {account_tenant} --purge-protection`)"
            ),
        ));
    }
    if !purge_protection {
        return Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "key vault {vault} does not have purge protection, which a customer-managed key \
                 requires; turn it on with `strata vault update {vault} \
                 --purge-protection` (it cannot be turned off again)"
            ),
        ));
    }
    if network == NetworkAccess::PrivateEndpointOnly {
        return Err(Error::vault(
            substatus::KEY_VAULT_ACCESS,
            format!(
                "key vault {vault} accepts only private-endpoint traffic, which this account \
                 cannot reach; use a vault created with --network public or trusted-services"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn retention_and_tenant_are_validated() {
        for (days, ok) in [(6, false), (7, true), (90, true), (91, false), (0, false)] {
            let p = VaultProperties {
                retention_days: days,
                ..VaultProperties::default()
            };
            assert_eq!(p.validate().is_ok(), ok, "{days}");
        }
        let bad = VaultProperties {
            tenant_id: Some("tenant".into()),
            ..VaultProperties::default()
        };
        assert_eq!(bad.validate().unwrap_err().status(), 400);
        assert!(check_tenant_id(T).is_ok());
        assert!(check_tenant_id(&T.replace('-', "x")).is_err());
    }

    #[test]
    fn network_access_round_trips() {
        for n in [
            NetworkAccess::Public,
            NetworkAccess::TrustedServices,
            NetworkAccess::PrivateEndpointOnly,
        ] {
            assert_eq!(NetworkAccess::parse(n.as_str()).unwrap(), n);
        }
        assert_eq!(NetworkAccess::parse("open").unwrap_err().status(), 400);
    }

    #[test]
    fn account_use_rules() {
        let other = "00000000-0000-4000-8000-000000000000";
        assert!(check_account_use("v", T, true, NetworkAccess::TrustedServices, T).is_ok());
        for (tenant, purge, net, needle) in [
            (other, true, NetworkAccess::Public, "tenant"),
            (T, false, NetworkAccess::Public, "purge protection"),
            (T, true, NetworkAccess::PrivateEndpointOnly, "private-endpoint"),
        ] {
            let e = check_account_use("v", tenant, purge, net, T).unwrap_err();
            assert_eq!((e.status(), e.substatus()), (403, 4002), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }
}
