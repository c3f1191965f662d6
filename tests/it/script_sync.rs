//! Sync of scripts between accounts: procedures, triggers and UDFs are carried both ways with
//! their replacements, and so are their deletions: one deleted on one side is deleted on the
//! other by the next sync (and stays deleted when syncing back), a script created again after
//! its deletion comes back, and between a deletion and a change made on the other side the
//! later one wins on both sides.

use serde_json::json;
use strata::{Account, AccountOptions, Container, ManualWallClock, TriggerOperation, TriggerType};

fn open(dir: &std::path::Path, name: &str, clock: &ManualWallClock) -> Account {
    let opts =
        AccountOptions::new(dir.join(name), dir.join("home")).wall_clock(std::sync::Arc::new(clock.clone()));
    Account::create(opts, name, strata::Encryption::ServiceManaged).unwrap()
}

fn names(c: &Container) -> (Vec<String>, Vec<String>, Vec<String>) {
    (
        c.list_stored_procedures().unwrap(),
        c.list_triggers().unwrap().into_iter().map(|t| t.id).collect(),
        c.list_user_defined_functions()
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect(),
    )
}

/// Accounts `a` and `b` on `clock`, and container `db/c` (partitioned on `/pk`) in `a`.
fn pair(dir: &std::path::Path, clock: &ManualWallClock) -> (Account, Account, Container) {
    let (a, b) = (open(dir, "a", clock), open(dir, "b", clock));
    let ca = a
        .create_database("db")
        .unwrap()
        .create_container("c", "/pk")
        .unwrap();
    (a, b, ca)
}

/// `(copied, deleted)` of each direction of a both-ways sync.
fn sync(a: &Account, b: &Account) -> ((usize, usize), (usize, usize)) {
    let (to_b, to_a) = Account::sync_both_ways(a, b).unwrap();
    (
        (to_b.scripts_copied, to_b.scripts_deleted),
        (to_a.scripts_copied, to_a.scripts_deleted),
    )
}

#[test]
fn a_deleted_script_is_deleted_on_the_other_side_and_stays_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b, ca) = pair(dir.path(), &clock);
    ca.create_stored_procedure("one", "function one() { getContext().getResponse().setBody(1); }")
        .unwrap();
    ca.create_stored_procedure("two", "function two() {}").unwrap();
    ca.create_trigger("t", TriggerType::Pre, TriggerOperation::All, "function t() {}")
        .unwrap();
    ca.create_user_defined_function("f", "function f(x) { return x; }")
        .unwrap();
    assert_eq!(sync(&a, &b), ((4, 0), (0, 0)));
    let cb = b.database("db").container("c");
    let all = |p: &[&str], t: &[&str], f: &[&str]| {
        let v = |s: &[&str]| s.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        (v(p), v(t), v(f))
    };
    assert_eq!(names(&cb), all(&["one", "two"], &["t"], &["f"]));

    clock.advance(5);
    ca.delete_stored_procedure("one").unwrap();
    ca.delete_trigger("t").unwrap();
    ca.delete_user_defined_function("f").unwrap();
    assert_eq!(sync(&a, &b), ((0, 3), (0, 0)));
    assert_eq!(names(&cb), all(&["two"], &[], &[]));
    assert_eq!(cb.stored_procedure("one").unwrap_err().status(), 404);
    assert_eq!(
        cb.execute_stored_procedure("one", "p", &[]).unwrap_err().status(),
        404
    );
    assert_eq!(cb.trigger("t").unwrap_err().status(), 404);
    assert_eq!(cb.user_defined_function("f").unwrap_err().status(), 404);
    // Nothing comes back, however often the two sync.
    assert_eq!(sync(&a, &b), ((0, 0), (0, 0)));
    assert_eq!(names(&ca), all(&["two"], &[], &[]));

    // Created again after its deletion (on either side), a script is carried like a new one.
    clock.advance(5);
    cb.create_stored_procedure("one", "function one() { getContext().getResponse().setBody(2); }")
        .unwrap();
    ca.create_trigger(
        "t",
        TriggerType::Post,
        TriggerOperation::Create,
        "function t() {}",
    )
    .unwrap();
    assert_eq!(sync(&a, &b), ((1, 0), (1, 0)));
    assert_eq!(
        ca.execute_stored_procedure("one", "p", &[]).unwrap().body,
        json!(2)
    );
    assert_eq!(cb.trigger("t").unwrap().trigger_type, TriggerType::Post);
    assert_eq!(sync(&a, &b), ((0, 0), (0, 0)));
}

#[test]
fn between_a_deletion_and_a_change_on_the_other_side_the_later_wins_on_both() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b, ca) = pair(dir.path(), &clock);
    ca.create_user_defined_function("early", "function early(x) { return 1; }")
        .unwrap();
    ca.create_user_defined_function("late", "function late(x) { return 1; }")
        .unwrap();
    sync(&a, &b);
    let cb = b.database("db").container("c");

    // `early`: deleted on a, then replaced on b: the replacement wins.
    // `late`: replaced on b, then deleted on a: the deletion wins.
    clock.advance(5);
    ca.delete_user_defined_function("early").unwrap();
    cb.replace_user_defined_function("late", "function late(x) { return 2; }")
        .unwrap();
    clock.advance(5);
    cb.replace_user_defined_function("early", "function early(x) { return 2; }")
        .unwrap();
    ca.delete_user_defined_function("late").unwrap();

    // b from a: a's deletion of `late` is the later; a's of `early` loses to b's replacement.
    // a from b: b's `early` is the later; b's `late` loses to a's deletion.
    assert_eq!(sync(&a, &b), ((0, 1), (1, 0)));
    for c in [&ca, &cb] {
        assert_eq!(
            c.user_defined_function("early").unwrap().body,
            "function early(x) { return 2; }"
        );
        assert_eq!(c.user_defined_function("late").unwrap_err().status(), 404);
    }
    assert_eq!(sync(&a, &b), ((0, 0), (0, 0)));
}

#[test]
fn sync_carries_procedures_triggers_and_udfs_both_ways_and_their_replacements() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualWallClock::at(1_800_000_000);
    let (a, b, ca) = pair(dir.path(), &clock);
    ca.create_stored_procedure("one", "function one() { getContext().getResponse().setBody(1); }")
        .unwrap();
    ca.create_trigger("t", TriggerType::Pre, TriggerOperation::All, "function t() {}")
        .unwrap();
    ca.create_user_defined_function("f", "function f(x) { return x; }")
        .unwrap();
    let (to_b, _) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!(to_b.scripts_copied, 3);
    let cb = b.database("db").container("c");
    assert_eq!(
        cb.execute_stored_procedure("one", "p", &[]).unwrap().body,
        json!(1)
    );
    assert_eq!(cb.trigger("t").unwrap().trigger_type, TriggerType::Pre);
    assert_eq!(
        cb.user_defined_function("f").unwrap().body,
        "function f(x) { return x; }"
    );
    // A later change on b comes back to a; a second sync has nothing to carry.
    clock.advance(5);
    cb.replace_stored_procedure("one", "function one() { getContext().getResponse().setBody(2); }")
        .unwrap();
    cb.replace_trigger(
        "t",
        TriggerType::Post,
        TriggerOperation::Create,
        "function t() {}",
    )
    .unwrap();
    let (to_b, to_a) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!((to_b.scripts_copied, to_a.scripts_copied), (0, 2));
    assert_eq!(
        ca.execute_stored_procedure("one", "p", &[]).unwrap().body,
        json!(2)
    );
    let t = ca.trigger("t").unwrap();
    assert_eq!(
        (t.trigger_type, t.trigger_operation),
        (TriggerType::Post, TriggerOperation::Create)
    );
    let (to_b, to_a) = Account::sync_both_ways(&a, &b).unwrap();
    assert_eq!((to_b.scripts_copied, to_a.scripts_copied), (0, 0));
}
