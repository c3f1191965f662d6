//! Key backup and restore: a backup restores (all versions, same key material) only into a vault
//! of the same tenant that shares the tenant's backup secret, never over an existing key, and a
//! damaged blob is refused; the blob holds no key name or key material in the clear.

use strata::{substatus, LocalVault, NetworkAccess, Principal, VaultProperties};

const DEK: [u8; 32] = [5u8; 32];

fn props(tenant: Option<&str>) -> VaultProperties {
    VaultProperties {
        tenant_id: tenant.map(str::to_string),
        purge_protection: true,
        network: NetworkAccess::Public,
        ..VaultProperties::default()
    }
}

#[test]
fn backup_restores_only_into_a_vault_of_the_same_tenant() {
    let tmp = tempfile::tempdir().unwrap();
    let fp = Principal::FirstParty;
    let a = LocalVault::open(&tmp.path().join("a")).unwrap();
    let v1 = a.create_key("cmk", 2048).unwrap();
    let v2 = a.create_key("cmk", 2048).unwrap();
    a.set_attributes("cmk", v1.version(), None, Some(4_000_000_000))
        .unwrap();
    let (_, wrapped) = a.wrap_key(&fp, &v1, &DEK).unwrap();
    let blob = a.backup_key("cmk").unwrap();
    assert!(!blob.windows(3).any(|w| w == b"cmk"), "the key name is sealed");

    // Same tenant, sharing the secret: every version comes back and unwraps.
    let b = LocalVault::create_with(&tmp.path().join("b"), "b", &props(Some(a.tenant_id()))).unwrap();
    b.share_tenant_secret(&a).unwrap();
    let uri = b.restore_key(&blob).unwrap();
    assert_eq!(uri.to_string(), "https://b.vault.local/keys/cmk");
    let in_b = strata::KeyUri::new("b", "cmk", v1.version()).unwrap();
    assert_eq!(&b.unwrap_key(&fp, &in_b, &wrapped).unwrap()[..], &DEK[..]);
    let listed = b.list_keys().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed
            .iter()
            .find(|k| k.version == v1.version().unwrap())
            .unwrap()
            .exp,
        Some(4_000_000_000)
    );
    assert_eq!(b.wrap_key(&fp, &uri, &DEK).unwrap().0.version(), v2.version());

    // Not over an existing key, live or deleted.
    for v in [&a, &b] {
        let e = v.restore_key(&blob).unwrap_err();
        assert_eq!(e.status(), 409, "{e}");
    }
    b.delete_key("cmk").unwrap();
    assert_eq!(b.restore_key(&blob).unwrap_err().status(), 409);

    // Another tenant: 403.4002.
    let c = LocalVault::create_with(&tmp.path().join("c"), "c", &props(None)).unwrap();
    let e = c.restore_key(&blob).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    assert!(e.to_string().contains(a.tenant_id()), "{e}");
    assert_eq!(
        c.share_tenant_secret(&a).unwrap_err().substatus(),
        substatus::KEY_VAULT_ACCESS
    );

    // The same tenant id without the tenant's secret cannot decrypt it: 400.
    let d = LocalVault::create_with(&tmp.path().join("d"), "d", &props(Some(a.tenant_id()))).unwrap();
    d.create_key("other", 2048).unwrap();
    d.backup_key("other").unwrap(); // gives d a secret of its own
    let e = d.restore_key(&blob).unwrap_err();
    assert_eq!(e.status(), 400, "{e}");
    assert!(e.to_string().contains("tenant secret"), "{e}");
    assert_eq!(d.share_tenant_secret(&a).unwrap_err().status(), 409);

    let ops: Vec<String> = a
        .audit_log(&Default::default())
        .unwrap()
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert!(ops.contains(&"backup".to_string()), "{ops:?}");
}

#[test]
fn a_damaged_or_foreign_blob_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let a = LocalVault::open(&tmp.path().join("a")).unwrap();
    a.create_key("cmk", 2048).unwrap();
    let blob = a.backup_key("cmk").unwrap();
    let b = LocalVault::create_with(&tmp.path().join("b"), "b", &props(Some(a.tenant_id()))).unwrap();
    b.share_tenant_secret(&a).unwrap();
    for at in [0, 9, 20, 60, blob.len() / 2, blob.len() - 1] {
        let mut bad = blob.clone();
        bad[at] ^= 0x01;
        let e = b.restore_key(&bad).unwrap_err();
        assert!(matches!(e.status(), 400 | 403), "flip at {at}: {e}");
    }
    for bad in [
        &blob[..10],
        &blob[..blob.len() - 1],
        &[][..],
        &b"not a backup"[..],
    ] {
        assert_eq!(b.restore_key(bad).unwrap_err().status(), 400);
    }
    assert!(b.list_keys().unwrap().is_empty());
    // A deleted key cannot be backed up; a missing one is 404.
    a.delete_key("cmk").unwrap();
    assert_eq!(a.backup_key("cmk").unwrap_err().status(), 409);
    assert_eq!(a.backup_key("nope").unwrap_err().status(), 404);
    b.restore_key(&blob).unwrap();
    let ops: Vec<String> = b
        .audit_log(&Default::default())
        .unwrap()
        .into_iter()
        .map(|e| e.operation)
        .collect();
    assert!(ops.contains(&"restore".to_string()), "{ops:?}");
}
