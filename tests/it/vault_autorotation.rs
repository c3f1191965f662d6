//! Rotation policies and autorotation, on a manual wall clock (no sleeping): the policy's bounds
//! and storage with the key, exactly one new version once the newest version is N days old (none
//! before, one under concurrent use), audited as `autoRotate`; and a customer-managed-key account
//! configured with a version-less key URI moving to the new version at its next key check with
//! all data readable.

use std::sync::Arc;

use serde_json::json;
use strata::{
    Account, AccountOptions, AuditFilter, Encryption, KeyUri, LocalVault, ManualWallClock, Principal,
    MAX_ROTATION_DAYS, MIN_ROTATION_DAYS,
};

const T0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
const DEK: [u8; 32] = [3u8; 32];
const FP: Principal = Principal::FirstParty;

fn vault_at(dir: &std::path::Path, clock: &ManualWallClock) -> LocalVault {
    LocalVault::open(dir).unwrap().with_clock(Arc::new(clock.clone()))
}

fn versions(vault: &LocalVault, name: &str) -> Vec<String> {
    vault
        .list_keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.name == name)
        .map(|k| k.version)
        .collect()
}

fn auto_rotations(vault: &LocalVault, name: &str) -> Vec<(String, Option<String>, u16)> {
    vault
        .audit_log(&AuditFilter {
            key: Some(name.into()),
            ..AuditFilter::default()
        })
        .unwrap()
        .into_iter()
        .filter(|e| e.operation == "autoRotate")
        .map(|e| (e.caller, e.version, e.status))
        .collect()
}

#[test]
fn a_rotation_policy_is_validated_and_stored_with_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let vault = vault_at(&tmp.path().join("vault"), &clock);
    vault.create_key("cmk", 2048).unwrap();
    assert_eq!((MIN_ROTATION_DAYS, MAX_ROTATION_DAYS), (7, 3650));
    for bad in [0, 1, 6, 3651] {
        let e = vault.set_rotation_policy("cmk", Some(bad)).unwrap_err();
        assert_eq!(e.status(), 400, "{bad}: {e}");
        assert!(e.to_string().contains("use 7 to 3650 days"), "{e}");
    }
    assert_eq!(
        vault.set_rotation_policy("nope", Some(30)).unwrap_err().status(),
        404
    );
    assert_eq!(vault.rotation_policy("nope").unwrap_err().status(), 404);
    assert_eq!(vault.rotation_policy("cmk").unwrap(), None);

    let p = vault.set_rotation_policy("cmk", Some(7)).unwrap().unwrap();
    assert_eq!((p.every_days, p.next_rotation), (7, T0 + 7 * DAY));
    let p = vault.set_rotation_policy("cmk", Some(3650)).unwrap().unwrap();
    assert_eq!(p.every_days, 3650);
    assert_eq!(vault.rotation_policy("cmk").unwrap(), Some(p.clone()));
    assert!(vault.dir().join("keys/cmk/rotation.json").exists());

    // The policy goes with the key through delete and recover; a deleted key cannot get one.
    vault.delete_key("cmk").unwrap();
    assert_eq!(vault.rotation_policy("cmk").unwrap(), Some(p.clone()));
    assert_eq!(
        vault.set_rotation_policy("cmk", Some(30)).unwrap_err().status(),
        409
    );
    vault.recover_key("cmk").unwrap();
    assert_eq!(vault.rotation_policy("cmk").unwrap(), Some(p));

    // --off removes it; removing nothing is not an error.
    assert_eq!(vault.set_rotation_policy("cmk", None).unwrap(), None);
    assert_eq!(vault.set_rotation_policy("cmk", None).unwrap(), None);
    assert_eq!(vault.rotation_policy("cmk").unwrap(), None);
    let ops: Vec<_> = vault
        .audit_log(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.operation.ends_with("RotationPolicy") && e.status == 200)
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        ops,
        vec![
            "setRotationPolicy",
            "setRotationPolicy",
            "removeRotationPolicy",
            "removeRotationPolicy"
        ]
    );
}

#[test]
fn autorotation_creates_exactly_one_version_when_due_and_none_before() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let vault = vault_at(&tmp.path().join("vault"), &clock);
    let v1 = vault.create_key("cmk", 2048).unwrap();
    let other = vault.create_key("other", 2048).unwrap();
    let any = v1.without_version();
    let (_, wrapped) = vault.wrap_key(&FP, &v1, &DEK).unwrap();
    vault.set_rotation_policy("cmk", Some(7)).unwrap();

    // One second early: every kind of use leaves the key alone.
    clock.advance(7 * DAY - 1);
    assert_eq!(vault.get_key(&FP, &any).unwrap().uri, v1);
    vault.wrap_key(&FP, &any, &DEK).unwrap();
    vault.unwrap_key(&FP, &v1, &wrapped).unwrap();
    assert_eq!(versions(&vault, "cmk").len(), 1);
    assert!(auto_rotations(&vault, "cmk").is_empty());

    // Due: the next use creates one enabled version of the same size, and uses it.
    clock.advance(1);
    let v2 = vault.get_key(&FP, &any).unwrap();
    assert_ne!(v2.uri, v1);
    assert_eq!((v2.enabled, v2.bits, v2.created), (true, 2048, T0 + 7 * DAY));
    assert_eq!(vault.wrap_key(&FP, &any, &DEK).unwrap().0, v2.uri);
    assert_eq!(&vault.unwrap_key(&FP, &v1, &wrapped).unwrap()[..], &DEK[..]);
    assert_eq!(
        versions(&vault, "cmk"),
        vec![v1.version().unwrap().to_string(), v2.version]
    );
    assert_eq!(
        auto_rotations(&vault, "cmk"),
        vec![("owner".to_string(), v2.uri.version().map(str::to_string), 201)]
    );
    assert_eq!(
        vault.rotation_policy("cmk").unwrap().unwrap().next_rotation,
        T0 + 14 * DAY
    );
    // A key without a policy never rotates by itself.
    assert_eq!(versions(&vault, "other").len(), 1);
    assert_eq!(vault.get_key(&FP, &other.without_version()).unwrap().uri, other);

    // The period runs from the newest version: a manual rotation postpones the next one.
    clock.advance(3 * DAY);
    vault.rotate_key("cmk").unwrap();
    clock.advance(6 * DAY);
    vault.list_keys().unwrap();
    assert_eq!(versions(&vault, "cmk").len(), 3);
    // Listing checks every key: a week later it rotates without any get/wrap/unwrap.
    clock.advance(DAY);
    assert_eq!(versions(&vault, "cmk").len(), 4);
    assert_eq!(auto_rotations(&vault, "cmk").len(), 2);

    // A removed policy stops it.
    vault.set_rotation_policy("cmk", None).unwrap();
    clock.advance(100 * DAY);
    vault.get_key(&FP, &any).unwrap();
    assert_eq!(versions(&vault, "cmk").len(), 4);
}

#[test]
fn concurrent_users_of_a_due_key_create_one_version() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let vault = Arc::new(vault_at(&tmp.path().join("vault"), &clock));
    let v1 = vault.create_key("cmk", 2048).unwrap();
    vault.set_rotation_policy("cmk", Some(30)).unwrap();
    clock.advance(30 * DAY);
    let any = v1.without_version();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (vault, any) = (vault.clone(), any.clone());
            std::thread::spawn(move || vault.get_key(&FP, &any).unwrap().uri)
        })
        .collect();
    let seen: Vec<KeyUri> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(versions(&vault, "cmk").len(), 2);
    assert_eq!(auto_rotations(&vault, "cmk").len(), 1);
    let newest = vault.get_key(&FP, &any).unwrap().uri;
    assert!(seen.iter().all(|u| *u == newest), "{seen:?}");
}

#[test]
fn a_versionless_account_moves_to_the_autorotated_version_at_its_next_key_check() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(T0);
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"))
        .wall_clock(Arc::new(clock.clone()));
    let vault = vault_at(&opts.vault_dir(), &clock);
    let v1 = vault.create_key("cmk", 2048).unwrap();
    let account = Account::create(
        opts.clone(),
        "acct",
        Encryption::CustomerManaged {
            key_uri: v1.without_version().to_string(),
        },
    )
    .unwrap();
    let c = account
        .create_database("db")
        .and_then(|db| db.create_container("c", "/pk"))
        .unwrap();
    for i in 0..20 {
        c.create_item("p", &json!({"id": i.to_string(), "pk": "p", "v": i}))
            .unwrap();
    }
    vault.set_rotation_policy("cmk", Some(30)).unwrap();

    clock.advance(30 * DAY - 1);
    assert_eq!(account.check_key().unwrap().kid, Some(v1.to_string()));
    assert_eq!(versions(&vault, "cmk").len(), 1);

    // Due: the check's own unwrap makes the vault rotate, and the check follows the new version.
    clock.advance(1);
    let status = account.check_key().unwrap();
    let vs = versions(&vault, "cmk");
    assert_eq!(vs.len(), 2);
    let v2 = v1.with_version(&vs[1]).unwrap();
    assert_eq!(status.kid, Some(v2.to_string()));
    assert_eq!(status.state, "active");
    let read = |c: &strata::Container| {
        (0..20)
            .map(|i| {
                let item = c
                    .read_item::<serde_json::Value>("p", &i.to_string())
                    .unwrap()
                    .item
                    .unwrap();
                item["v"].as_i64().unwrap()
            })
            .sum::<i64>()
    };
    assert_eq!(read(&c), 190);

    // From now on only the new version is used: the old one can be disabled without effect.
    let since = vault.audit_log(&AuditFilter::default()).unwrap().len();
    vault.set_enabled("cmk", v1.version(), false).unwrap();
    assert_eq!(account.check_key().unwrap().kid, Some(v2.to_string()));
    drop((c, account));
    let reopened = Account::open(opts).unwrap();
    assert_eq!(read(&reopened.database("db").container("c")), 190);
    let used: Vec<_> = vault.audit_log(&AuditFilter::default()).unwrap()[since..]
        .iter()
        .filter(|e| e.operation == "unwrapKey" || e.operation == "wrapKey")
        .map(|e| e.version.clone())
        .collect();
    assert!(!used.is_empty());
    assert!(used.iter().all(|v| v.as_deref() == v2.version()), "{used:?}");
    assert_eq!(auto_rotations(&vault, "cmk").len(), 1);
}
