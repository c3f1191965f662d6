//! Crash recovery under SIGKILL: a child process (this test binary, re-executed) writes items with
//! `Durability::Sync` into one account — creates, upserts and deletes, with bodies of up to a few KB
//! and a 64 KiB memtable so that flushes and compactions run (and are interrupted) — and is killed
//! with SIGKILL at a random moment, many times over. After each kill the parent reopens the account
//! and proves that every acknowledged write is there with the acknowledged etag and content (and
//! every acknowledged delete stays deleted); only the single write in flight at the kill may go
//! either way. The next round writes into the same account. Both SMK and CMK accounts are covered.
//! The child also takes online backups now and then (every backup that lists must verify, and the
//! newest must restore) and, under CMK, rotates the customer key to a new version (a kill at any
//! point must leave an account that opens), and catches the container's analytical tier up
//! (killed at any point, the tier must open, catch up and hold exactly the container's live ids).
//!
//! Reproduce a failing run with `STRATA_CRASH_SEED=<seed printed by the test>`. CI runs 20 kill
//! rounds per mode; `STRATA_CRASH_ROUNDS=<n>` runs a long count (docs/reliability.md has the
//! figures of the last long run).

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use strata::analytical::Tier;
use strata::{Account, AccountOptions, AnalyticalSchema, Durability, Encryption, ItemOptions, LocalVault};

/// `<data dir>|<home>|<round>|<seed>`: present only in a child process.
const CHILD_ENV: &str = "STRATA_CRASH_CHILD";
const DB: &str = "crashdb";
const CONTAINER: &str = "items";
/// The customer key of the CMK runs, rotated by the child now and then.
const KEY_NAME: &str = "crash-cmk";
const MEMTABLE_BYTES: usize = 64 * 1024;
/// A child that was somehow never killed stops by itself after this long.
const CHILD_MAX_RUN: Duration = Duration::from_secs(30);

fn options(data: &Path, home: &Path) -> AccountOptions {
    AccountOptions::new(data, home)
        .memtable_bytes(MEMTABLE_BYTES)
        .durability(Durability::Sync)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where the child takes its backups: beside the data directory.
fn backups_of(data: &Path) -> std::path::PathBuf {
    data.parent()
        .map_or_else(|| Path::new("backups").to_path_buf(), |p| p.join("backups"))
}

/// The partition key an id lives in (derived, so the parent knows it without being told).
fn pk_of(id: &str) -> String {
    format!("p{}", fnv(id.as_bytes()) % 5)
}

/// The body written for version `ver` of `id`, `len` filler bytes long: fully determined by its
/// arguments, so the parent can rebuild what an acknowledged write stored.
fn body_for(id: &str, ver: u32, len: usize) -> Value {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x = fnv(format!("{id}#{ver}").as_bytes()) | 1;
    let fill: String = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u64) as usize] as char
        })
        .collect();
    json!({"id": id, "pk": pk_of(id), "ver": ver, "len": len, "fill": fill})
}

/// What the parent knows of one id after applying the acknowledged writes.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Present { ver: u32, len: usize, etag: String },
    Deleted,
}

/// One line of the child's protocol.
#[derive(Clone, Debug)]
struct Op {
    kind: char,
    id: String,
    ver: u32,
    len: usize,
}

// ---------------------------------------------------------------------------------------------
// The child.

/// The child process's entry point. It only does something when the parent set `CHILD_ENV`;
/// ignored in ordinary runs so it never shows up as a test that passes without checking anything.
#[test]
#[ignore = "entry point of the crash-recovery child process; the crash tests run it"]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [data, home, round, seed] = parts[..] else {
        panic!("bad {CHILD_ENV}: {spec}");
    };
    let round: u32 = round.parse().unwrap();
    let mut rng = StdRng::seed_from_u64(seed.parse().unwrap());
    let account = Account::open(options(Path::new(data), Path::new(home))).unwrap();
    let c = account.database(DB).container(CONTAINER);
    let sync = ItemOptions::default().with_durability(Durability::Sync);
    let out = std::io::stdout();
    let say = |line: String| {
        // One write per line (well under PIPE_BUF), so a line is never torn by the kill.
        let mut o = out.lock();
        if o.write_all(line.as_bytes()).and_then(|()| o.flush()).is_err() {
            std::process::exit(0); // the parent is gone
        }
    };
    let cmk = matches!(account.encryption(), Encryption::CustomerManaged { .. });
    // A key rotation to a new version: a kill at any point must leave an account that opens with
    // one of the two versions.
    let rotate = || {
        say("ROTATE\n".to_string());
        let vault = LocalVault::open(&options(Path::new(data), Path::new(home)).vault_dir()).unwrap();
        let uri = vault.rotate_key(KEY_NAME).unwrap();
        account.rotate_customer_key(Some(&uri.to_string())).unwrap();
        say("ROTATED\n".to_string());
    };
    // Rotations make an RSA key, so most of those begun among the writes are killed: every fifth
    // round also rotates before READY, which completes unless the round is killed early.
    if cmk && round % 5 == 2 {
        rotate();
    }
    // Backups begun among the writes are often killed (or, by chance, never begun in a run): the
    // first round, which the parent never kills early, takes one before READY, so every run
    // lists and verifies at least one whole backup.
    if round == 0 {
        account.backup_now(&backups_of(Path::new(data))).unwrap();
    }
    say("READY\n".to_string());

    // Live ids of this round with their current version: upserts and deletes target these.
    let mut live: Vec<(String, u32)> = Vec::new();
    // The container's analytical tier, opened at its first catch-up.
    let mut tier: Option<Tier> = None;
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < CHILD_MAX_RUN {
        let roll = rng.gen_range(0..100);
        let len = if rng.gen_bool(0.1) {
            rng.gen_range(2000..6000)
        } else {
            rng.gen_range(10..2500)
        };
        if roll < 20 && !live.is_empty() {
            let i = rng.gen_range(0..live.len());
            let (id, ver) = (live[i].0.clone(), live[i].1 + 1);
            say(format!("BEGIN U {id} {ver} {len}\n"));
            let r = c
                .upsert_item_with(pk_of(&id), &body_for(&id, ver, len), &sync)
                .unwrap();
            assert_eq!(r.status_code, 200);
            live[i].1 = ver;
            say(format!("ACK U {id} {ver} {len} {}\n", r.etag.unwrap()));
        } else if roll == 28 {
            // An online backup beside the data directory, killed or not: the parent verifies
            // every backup that lists.
            account.backup_now(&backups_of(Path::new(data))).unwrap();
        } else if (roll == 29 || roll == 30) && cmk {
            rotate();
        } else if roll == 26 || roll == 27 {
            // An analytical catch-up (Parquet file, then STATE switched), killed or not: the
            // parent checks that the tier opens, catches up and matches the container.
            let t = match tier.as_mut() {
                Some(t) => t,
                None => tier.insert(Tier::open(&c).unwrap()),
            };
            say("SYNC\n".to_string());
            t.catch_up().unwrap();
            say("SYNCED\n".to_string());
        } else if roll < 26 && !live.is_empty() {
            let i = rng.gen_range(0..live.len());
            let (id, ver) = live.swap_remove(i);
            say(format!("BEGIN D {id} {ver} 0\n"));
            let r = c.delete_item_with(pk_of(&id), &id, &sync).unwrap();
            assert_eq!(r.status_code, 204);
            say(format!("ACK D {id} {ver} 0 -\n"));
        } else {
            let id = format!("r{round:02}-{n:06}");
            n += 1;
            say(format!("BEGIN C {id} 0 {len}\n"));
            let r = c
                .create_item_with(pk_of(&id), &body_for(&id, 0, len), &sync)
                .unwrap();
            assert_eq!(r.status_code, 201);
            live.push((id.clone(), 0));
            say(format!("ACK C {id} 0 {len} {}\n", r.etag.unwrap()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parent.

struct RoundOutput {
    ready: bool,
    /// Acknowledged operations, in order, with their etag ("-" for deletes).
    acked: Vec<(Op, String)>,
    /// The operation begun but not acknowledged when the child died.
    in_flight: Option<Op>,
    /// Analytical catch-ups begun and completed.
    syncs: (usize, usize),
    /// Key rotations begun and completed.
    rotations: (usize, usize),
}

fn parse_stdout(text: &str) -> RoundOutput {
    let mut out = RoundOutput {
        ready: false,
        acked: Vec::new(),
        in_flight: None,
        syncs: (0, 0),
        rotations: (0, 0),
    };
    // Only complete lines count: a line without its newline was not fully written.
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    for line in complete.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[..] {
            // The harness prints "test crash_recovery::child_writer ... " without a newline before the test runs.
            [.., "READY"] => out.ready = true,
            ["BEGIN", kind, id, ver, len] => {
                assert!(out.in_flight.is_none(), "two operations in flight: {line}");
                out.in_flight = Some(Op {
                    kind: kind.chars().next().unwrap(),
                    id: id.to_string(),
                    ver: ver.parse().unwrap(),
                    len: len.parse().unwrap(),
                });
            }
            ["ACK", kind, id, ver, len, etag] => {
                let op = out.in_flight.take().expect("ACK without BEGIN");
                assert_eq!(
                    (op.kind.to_string().as_str(), op.id.as_str(), op.ver, op.len),
                    (kind, id, ver.parse().unwrap(), len.parse().unwrap()),
                    "ACK does not match BEGIN"
                );
                out.acked.push((op, etag.to_string()));
            }
            ["SYNC"] => out.syncs.0 += 1,
            ["SYNCED"] => out.syncs.1 += 1,
            // A rotation before READY follows the harness's "test crash_recovery::child_writer ... " too.
            [.., "ROTATE"] => out.rotations.0 += 1,
            ["ROTATED"] => out.rotations.1 += 1,
            // The test harness's own chatter ("running 1 test", ...).
            _ => {}
        }
    }
    out
}

/// The child entry point's name for the test harness: its module path within this test binary
/// (`crash_recovery::child_writer`), without the binary's crate name.
fn child_test_name() -> String {
    let module = module_path!();
    let module = module.split_once("::").map_or(module, |(_, rest)| rest);
    format!("{module}::child_writer")
}

fn spawn_child(data: &Path, home: &Path, round: u32, seed: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &child_test_name(),
            "--nocapture",
            "--test-threads=1",
            "--ignored",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{}|{round}|{seed}", data.display(), home.display()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the child's stdout to the end, telling `ready` as soon as the child says READY.
fn read_stdout(r: impl Read + Send + 'static, ready: mpsc::Sender<()>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            let start = buf.len();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if buf[start..].ends_with(b"READY\n") {
                        let _ = ready.send(());
                    }
                }
            }
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn read_all(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Checks the reopened account against the expectations, resolving the in-flight operation
/// (either outcome is allowed) and recording what it turned out to be. Returns how many ids were
/// read.
fn verify(
    account: &Account,
    expect: &mut HashMap<String, Expect>,
    in_flight: Option<&Op>,
    ctx: &str,
) -> usize {
    let c = account.database(DB).container(CONTAINER);
    let mut ids: Vec<String> = expect.keys().cloned().collect();
    if let Some(op) = in_flight {
        if !expect.contains_key(&op.id) {
            ids.push(op.id.clone());
        }
    }
    ids.sort();
    for id in &ids {
        let got = match c.read_item::<Value>(pk_of(id), id) {
            Ok(r) => {
                let body = r.item.unwrap();
                let ver = body["ver"].as_u64().unwrap() as u32;
                let len = body["len"].as_u64().unwrap() as usize;
                let want = body_for(id, ver, len);
                for (k, v) in want.as_object().unwrap() {
                    assert_eq!(&body[k], v, "{ctx}: item {id} field {k} is not what was written");
                }
                assert_eq!(body["_etag"].as_str(), r.etag.as_deref(), "{ctx}: {id}");
                Some((ver, len, r.etag.unwrap()))
            }
            Err(e) if e.status() == 404 => None,
            Err(e) => panic!("{ctx}: reading {id} after the crash failed: {e}"),
        };
        let acked = expect.get(id).cloned();
        let matches_acked = match (&acked, &got) {
            (Some(Expect::Present { ver, len, etag }), Some((gv, gl, ge))) => {
                (ver, len, etag) == (gv, gl, ge)
            }
            (Some(Expect::Deleted), None) | (None, None) => true,
            _ => false,
        };
        let flight = in_flight.filter(|op| &op.id == id);
        let matches_flight = match (flight, &got) {
            (Some(op), Some((gv, gl, _))) if op.kind != 'D' => (op.ver, op.len) == (*gv, *gl),
            (Some(op), None) => op.kind == 'D',
            _ => false,
        };
        assert!(
            matches_acked || matches_flight,
            "{ctx}: item {id}: acknowledged state {acked:?}, in-flight {flight:?}, found {got:?}"
        );
        if matches_flight && !matches_acked {
            // The unacknowledged write reached the log: from now on it is the expected state.
            let (ver, len, etag) = got.clone().map_or((0, 0, String::new()), |g| g);
            let now = if got.is_some() {
                Expect::Present { ver, len, etag }
            } else {
                Expect::Deleted
            };
            expect.insert(id.clone(), now);
        }
    }
    ids.len()
}

/// Opens the container's analytical tier (which removes what a killed catch-up left), catches it
/// up and checks that it holds exactly the live ids of `expect` (resolved by `verify`), as many
/// rows as the container's own count, and an applied LSN that never went back. Returns its
/// applied LSN and row count.
fn check_tier(account: &Account, expect: &HashMap<String, Expect>, last_lsn: u64, ctx: &str) -> (u64, usize) {
    let c = account.database(DB).container(CONTAINER);
    let mut tier = Tier::open(&c).unwrap_or_else(|e| panic!("{ctx}: the analytical tier does not open: {e}"));
    let before = tier.applied_lsn();
    assert!(
        before >= last_lsn,
        "{ctx}: the tier's applied LSN went back from {last_lsn} to {before}"
    );
    let caught = tier
        .catch_up()
        .unwrap_or_else(|e| panic!("{ctx}: the analytical catch-up failed: {e}"));
    // The tier keeps rows forever (analytical TTL -1): any "now" gives every live row.
    let now = i64::MAX / 2;
    let rows = tier
        .query("SELECT c.id FROM c", now)
        .unwrap_or_else(|e| panic!("{ctx}: the analytical query failed: {e}"))
        .rows;
    let mut got: Vec<String> = rows
        .iter()
        .map(|r| {
            r["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{ctx}: row without an id: {r:?}"))
                .to_string()
        })
        .collect();
    got.sort();
    let mut want: Vec<String> = expect
        .iter()
        .filter(|(_, e)| matches!(e, Expect::Present { .. }))
        .map(|(id, _)| id.clone())
        .collect();
    want.sort();
    assert_eq!(
        got, want,
        "{ctx}: the analytical tier's ids differ from the container's live ids"
    );
    let count = c
        .query_items("SELECT VALUE COUNT(1) FROM c", &[], &Default::default())
        .unwrap()
        .items;
    assert_eq!(count, vec![json!(got.len())], "{ctx}: the container's count");
    (caught.applied_lsn.max(before), got.len())
}

fn crash_rounds(cmk: bool, seed: u64, rounds: u32) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("home");
    let opts = options(&data, &home);
    let enc = common::encryption(&opts, cmk, KEY_NAME);
    let first_kid = {
        let account = Account::create(opts.clone(), "crashacct", enc.clone()).unwrap();
        let c = account
            .create_database(DB)
            .unwrap()
            .create_container(CONTAINER, "/pk")
            .unwrap();
        if cmk {
            // Under a customer key the tier's key is wrapped through a managed identity.
            let vault = LocalVault::open(&opts.vault_dir()).unwrap();
            common::use_user_identity(&opts, &vault, &account, "ops");
        }
        c.enable_analytical(-1, AnalyticalSchema::WellDefined).unwrap();
        account.key_status().unwrap().kid
    };

    let mode = if cmk { "CMK" } else { "SMK" };
    eprintln!("crash_recovery {mode}: seed {seed} (set STRATA_CRASH_SEED to reproduce)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut expect: HashMap<String, Expect> = HashMap::new();
    let (mut total_acks, mut torn_tails, mut orphans) = (0, 0, 0);
    let (mut late_rounds, mut late_rounds_with_acks) = (0, 0);
    let mut backups_verified = 0;
    let (mut tier_lsn, mut tier_rows) = (0, 0);
    // Catch-ups the child completed, and those it was killed in.
    let (mut syncs, mut syncs_killed) = (0, 0);
    // Key rotations (CMK) the child completed, and those it was killed in.
    let (mut rotations, mut rotations_killed) = (0, 0);
    for round in 0..rounds {
        let ctx = format!("{mode} seed {seed} round {round}");
        let mut child = spawn_child(&data, &home, round, rng.gen());
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = read_stdout(child.stdout.take().unwrap(), ready_tx);
        let stderr = read_all(child.stderr.take().unwrap());
        // One round in four is killed early, timed from the spawn: often while the child is still
        // opening the account (replaying the log, removing orphans). The others are killed a
        // random time after the child is ready, while it writes.
        // Round 0 is never early: its backup before READY must complete (see the child).
        let early = round > 0 && rng.gen_bool(0.25);
        let wait_ms = if early {
            rng.gen_range(0..60)
        } else {
            ready_rx
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("{ctx}: the child never became ready"));
            rng.gen_range(30..400)
        };
        thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                status.signal(),
                Some(9),
                "{ctx}: the child ended by itself ({status}) instead of being killed:\n\
                 stdout:\n{stdout}\nstderr:\n{stderr}"
            );
        }
        #[cfg(not(unix))]
        let _ = (status, &stderr);

        let out = parse_stdout(&stdout);
        for (op, etag) in &out.acked {
            let e = match op.kind {
                'D' => Expect::Deleted,
                _ => Expect::Present {
                    ver: op.ver,
                    len: op.len,
                    etag: etag.clone(),
                },
            };
            expect.insert(op.id.clone(), e);
        }
        total_acks += out.acked.len();
        syncs += out.syncs.1;
        syncs_killed += out.syncs.0 - out.syncs.1;
        rotations += out.rotations.1;
        rotations_killed += out.rotations.0 - out.rotations.1;
        if !early {
            late_rounds += 1;
            late_rounds_with_acks += usize::from(!out.acked.is_empty());
        }

        let account = Account::open(opts.clone())
            .unwrap_or_else(|e| panic!("{ctx}: reopening after SIGKILL failed: {e}"));
        let report = account.recovery_report();
        torn_tails += usize::from(report.torn_tail.is_some());
        orphans += report.orphans_removed;
        let checked = verify(&account, &mut expect, out.in_flight.as_ref(), &ctx);
        (tier_lsn, tier_rows) = check_tier(&account, &expect, tier_lsn, &ctx);
        // Every backup that lists is whole (an interrupted one never lists).
        for b in Account::list_backups(&backups_of(&data)).unwrap_or_default() {
            Account::verify_backup(&opts, &b.path)
                .unwrap_or_else(|e| panic!("{ctx}: backup {} does not verify: {e}", b.id));
            backups_verified += 1;
        }
        eprintln!(
            "{ctx}: killed {wait_ms} ms after {} (ready: {}), {} acks, in flight {:?}, {checked} ids \
             verified, recovery {report:?}",
            if early { "spawn" } else { "READY" },
            out.ready,
            out.acked.len(),
            out.in_flight.as_ref().map(|o| (o.kind, &o.id))
        );
        drop(account);
    }

    // The run must actually have exercised the store, or the checks above prove nothing.
    let (stats, last_kid) = {
        let account = Account::open(opts.clone()).unwrap();
        let total = verify(&account, &mut expect, None, &format!("{mode} final"));
        assert_eq!(total, expect.len());
        (account.store_stats().unwrap(), account.key_status().unwrap().kid)
    };
    if cmk {
        eprintln!(
            "crash_recovery {mode}: {rotations} key rotations by the child, {rotations_killed} killed in one"
        );
        assert_ne!(
            first_kid, last_kid,
            "{mode}: the child never completed a key rotation"
        );
    }
    assert!(
        backups_verified > 0,
        "{mode}: no backup was ever listed and verified"
    );
    let segments: usize = stats.segments_per_level.iter().sum();
    eprintln!(
        "crash_recovery {mode}: {total_acks} acknowledged writes over {rounds} rounds \
         ({late_rounds_with_acks} of {late_rounds} killed after READY had writes), {} ids, {torn_tails} torn tails, {orphans} orphans, \
         tree {:?}",
        expect.len(),
        stats.segments_per_level
    );
    assert!(
        late_rounds_with_acks * 2 >= late_rounds && late_rounds > 0,
        "{mode}: only {late_rounds_with_acks} of {late_rounds} rounds killed after READY got any \
         write acknowledged"
    );
    assert!(
        total_acks >= 200,
        "{mode}: only {total_acks} writes were acknowledged"
    );
    assert!(segments > 0, "{mode}: no segment was ever flushed: {stats:?}");
    // The newest backup restores into a new account that opens (its own keys, as taken).
    if let Some(newest) = Account::list_backups(&backups_of(&data))
        .unwrap_or_default()
        .pop()
    {
        let restored = Account::restore(&newest.path, options(&tmp.path().join("restored"), &home))
            .unwrap_or_else(|e| panic!("{mode}: the newest backup does not restore: {e}"));
        assert_eq!(restored.name(), "crashacct");
    }
    eprintln!(
        "crash_recovery {mode}: {backups_verified} backup verifications; analytical tier: {tier_rows} rows, \
         applied LSN {tier_lsn}, {syncs} catch-ups by the child, {syncs_killed} killed in one"
    );
    assert!(
        syncs > 0,
        "{mode}: the child never completed an analytical catch-up"
    );
}

/// Kill rounds per mode: 20 (the quick count CI runs), or `STRATA_CRASH_ROUNDS`.
fn rounds() -> u32 {
    match std::env::var("STRATA_CRASH_ROUNDS") {
        Ok(s) => s.parse().expect("STRATA_CRASH_ROUNDS must be a positive integer"),
        Err(_) => 20,
    }
}

fn seed() -> u64 {
    match std::env::var("STRATA_CRASH_SEED") {
        Ok(s) => s.parse().expect("STRATA_CRASH_SEED must be a u64"),
        Err(_) => rand::random(),
    }
}

#[test]
fn sigkill_loses_no_acknowledged_write_smk() {
    crash_rounds(false, seed(), rounds());
}

#[test]
fn sigkill_loses_no_acknowledged_write_cmk() {
    crash_rounds(true, seed(), rounds());
}

/// The protocol parser: torn last lines are ignored, ACKs pair with their BEGIN, catch-ups and
/// rotations are counted.
#[test]
fn child_protocol_is_parsed_strictly() {
    let out = parse_stdout(
        "running 1 test\ntest child_writer ... READY\nBEGIN C r00-000000 0 12\nACK C r00-000000 0 12 \"e1\"\n\
         BEGIN U r00-000000 1 40\nACK U r00-000000 1 40 \"e2\"\nSYNC\nSYNCED\nSYNC\nROTATE\nBEGIN D r00-000000 1 0\nACK D r0",
    );
    assert!(out.ready);
    assert_eq!(out.acked.len(), 2);
    assert_eq!(out.acked[1].1, "\"e2\"");
    assert_eq!(out.syncs, (2, 1));
    assert_eq!(out.rotations, (1, 0));
    let f = out.in_flight.unwrap();
    assert_eq!((f.kind, f.id.as_str()), ('D', "r00-000000"));
    // A rotation before READY, on the line the harness began.
    let out = parse_stdout("running 1 test\ntest child_writer ... ROTATE\nROTATED\nREADY\nROTATE\n");
    assert!(out.ready);
    assert_eq!(out.rotations, (2, 1));
    assert_eq!(body_for("a", 1, 30), body_for("a", 1, 30));
    assert_ne!(body_for("a", 1, 30)["fill"], body_for("a", 2, 30)["fill"]);
}
