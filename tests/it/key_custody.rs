//! Key custody on disk, end to end: an account refuses to open (403.4002, naming the path and
//! the `chmod` that fixes it, nothing written) while its service key file or its key vault
//! directory is accessible by group or others, as ssh refuses a private key; once the owner
//! makes it private again the account opens with all its data.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{json, Value};
use strata::{substatus, Account, AccountOptions};

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn refused(opts: &AccountOptions, names: &str, fix: &str) {
    let before = common::snapshot(&opts.data_dir);
    let e = Account::open(opts.clone()).unwrap_err();
    assert_eq!(
        (e.status(), e.substatus()),
        (403, substatus::KEY_VAULT_ACCESS),
        "{e}"
    );
    let msg = e.to_string();
    assert!(msg.contains(names) && msg.contains(fix), "{msg}");
    assert!(
        common::snapshot(&opts.data_dir) == before,
        "a refused open changed the data directory"
    );
}

fn opens_with_its_data(opts: &AccountOptions) {
    let account = Account::open(opts.clone()).unwrap();
    let c = account.database("db").container("c");
    let r = c.read_item::<Value>("p", "kept").unwrap();
    assert_eq!(r.item.unwrap()["n"], json!(1));
}

#[test]
fn an_open_is_refused_while_the_service_key_or_the_vault_is_not_private() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = AccountOptions::new(tmp.path().join("data"), tmp.path().join("home"));
    let (_vault, _kid, account, c) = common::cmk_account(&opts);
    c.create_item("p", &json!({"id": "kept", "pk": "p", "n": 1}))
        .unwrap();
    drop((c, account));

    let smk = opts.service_dir().join("smk");
    for mode in [0o644, 0o640, 0o604] {
        chmod(&smk, mode);
        refused(&opts, "service key file", "chmod 600");
    }
    chmod(&smk, 0o600);
    opens_with_its_data(&opts);

    let vault_dir = opts.vault_dir();
    for mode in [0o755, 0o750, 0o711] {
        chmod(&vault_dir, mode);
        refused(&opts, "key vault directory", "chmod 700");
    }
    chmod(&vault_dir, 0o700);
    opens_with_its_data(&opts);
}
