//! Test tokens for the PKCS#11 backend (feature `test-token`, and this crate's own tests): a
//! SoftHSM2 token directory private to the test process, and a fresh token in it per test, made
//! through the module itself (C_InitToken, then C_InitPIN as the security officer). Tests using it
//! run with `--ignored` from scripts/test.sh; they fail, never skip, when the module is missing.
//! Not for production use: the PINs are fixed test values.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use super::config::Pkcs11Config;
use super::module;

/// The variable naming the module; unset, Debian's SoftHSM2 path.
pub const MODULE_ENV: &str = "STRATA_PKCS11_MODULE";
const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The environment variable the test tokens' user PIN is in.
pub const PIN_ENV: &str = "STRATA_TEST_TOKEN_PIN";
const USER_PIN: &str = "4711-user";
const SO_PIN: &str = "4711-so";

/// One token of the test process's SoftHSM2, and the vault configuration that names it.
pub struct SoftToken {
    pub label: String,
    pub config: Pkcs11Config,
}

struct Process {
    _root: tempfile::TempDir,
    tokens: PathBuf,
    conf: PathBuf,
}

fn process() -> &'static Process {
    static PROCESS: OnceLock<Process> = OnceLock::new();
    PROCESS.get_or_init(|| {
        let root = tempfile::tempdir().expect("a temp dir for the SoftHSM2 tokens");
        let tokens = root.path().join("tokens");
        std::fs::create_dir(&tokens).expect("create the SoftHSM2 token directory");
        let conf = root.path().join("softhsm2.conf");
        let text = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            tokens.display()
        );
        std::fs::write(&conf, text).expect("write the SoftHSM2 configuration");
        // Set before the module is first loaded (it reads SOFTHSM2_CONF in C_Initialize), and
        // inherited by the `strata` processes CLI tests start.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        std::env::set_var(PIN_ENV, USER_PIN);
        Process {
            _root: root,
            tokens,
            conf,
        }
    })
}

impl SoftToken {
    /// The PKCS#11 module under test: `$STRATA_PKCS11_MODULE`, else Debian's SoftHSM2. Panics
    /// (the test fails) if it is not there: install softhsm2 (scripts/test.sh does).
    pub fn module() -> PathBuf {
        let path = std::env::var_os(MODULE_ENV).map_or_else(|| PathBuf::from(DEFAULT_MODULE), PathBuf::from);
        assert!(
            path.is_file(),
            "the PKCS#11 module {} is missing: install softhsm2 (`apt-get install softhsm2`) or set \
             {MODULE_ENV}; these tests fail rather than skip without it",
            path.display()
        );
        path
    }

    /// A new, initialised token with its user PIN in `$STRATA_TEST_TOKEN_PIN`.
    pub fn create() -> SoftToken {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        static INIT: Mutex<()> = Mutex::new(());
        let module_path = Self::module();
        process();
        let label = format!(
            "strata-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let ctx = module::load(&module_path).expect("load the PKCS#11 module");
        // One C_InitToken at a time: each takes the token-less slot SoftHSM2 offers.
        let _g = INIT.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = ctx
            .get_all_slots()
            .expect("list the slots")
            .into_iter()
            .find(|s| ctx.get_token_info(*s).is_ok_and(|t| !t.token_initialized()))
            .expect("SoftHSM2 offers a slot with an uninitialised token");
        let so = AuthPin::new(SO_PIN.into());
        ctx.init_token(slot, &so, &label).expect("C_InitToken");
        let session = ctx
            .open_rw_session(slot)
            .expect("open a session as security officer");
        session
            .login(UserType::So, Some(&so))
            .expect("log in as security officer");
        session
            .init_pin(&AuthPin::new(USER_PIN.into()))
            .expect("C_InitPIN");
        session.logout().expect("log out");
        let config = Pkcs11Config::new(module_path, &label, PIN_ENV).expect("a valid test configuration");
        SoftToken { label, config }
    }

    /// The directory holding every test token's files (for leak scans).
    pub fn token_dir() -> &'static Path {
        &process().tokens
    }

    /// The SoftHSM2 configuration file (what `SOFTHSM2_CONF` points at).
    pub fn conf() -> &'static Path {
        &process().conf
    }
}
