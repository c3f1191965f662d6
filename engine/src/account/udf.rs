//! A container's user-defined functions: the resources (create, replace, read, list, delete; name and
//! body sealed in the LSM, `Script` key space kind 3: the contract lists nothing of a UDF as
//! plaintext) and, for a query page that calls `udf.name(…)`, the running set of them
//! (`PageUdfs`: one sandbox runtime for the page, its first failure kept to fail the query).
//! Must not evaluate queries (query/ does) nor run JavaScript itself (strata-script does).

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use strata_script::{Functions, Limits, ScriptError};

use super::container::{new_etag, Container};
use super::procedure::KIND_UDF;
use super::script_store::script_record;
use crate::error::{Error, Result};
use crate::query::{Prepared, Udfs};

/// A user-defined function as the managed service shows one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDefinedFunction {
    pub id: String,
    /// Its JavaScript: one function, called with the query's arguments.
    pub body: String,
    #[serde(rename = "_etag")]
    pub etag: String,
    #[serde(rename = "_ts")]
    pub ts: u64,
}

script_record!(UserDefinedFunction, KIND_UDF, "user-defined function");

impl Container {
    /// Stores a new user-defined function, callable in queries as `udf.NAME(…)`. 400 for a bad
    /// name or a body that is not one function, 409 if the name is taken.
    pub fn create_user_defined_function(&self, name: &str, body: &str) -> Result<UserDefinedFunction> {
        self.create_script(name, body, || self.new_udf(name, body))
    }

    /// Replaces the body of user-defined function `name` (a new etag): as
    /// `create_user_defined_function`, but 404 if there is none. Queries that start after it
    /// call the new body.
    pub fn replace_user_defined_function(&self, name: &str, body: &str) -> Result<UserDefinedFunction> {
        self.replace_script(name, body, || self.new_udf(name, body))
    }

    fn new_udf(&self, name: &str, body: &str) -> UserDefinedFunction {
        UserDefinedFunction {
            id: name.to_string(),
            body: body.to_string(),
            etag: new_etag(),
            ts: self.inner.opts.wall_clock.now_secs(),
        }
    }

    /// The user-defined function `name`; 404 if there is none.
    pub fn user_defined_function(&self, name: &str) -> Result<UserDefinedFunction> {
        self.read_script(name)
    }

    /// The container's user-defined functions, by name.
    pub fn list_user_defined_functions(&self) -> Result<Vec<UserDefinedFunction>> {
        self.list_scripts()
    }

    /// Deletes the user-defined function `name`; 404 if there is none.
    pub fn delete_user_defined_function(&self, name: &str) -> Result<()> {
        self.delete_script::<UserDefinedFunction>(name)
    }

    /// The UDFs `prepared` calls, running, or `None` when it calls none: 404 for one the
    /// container does not have, 400 for one that does not compile.
    pub(super) fn page_udfs(&self, prepared: &Prepared) -> Result<Option<Arc<PageUdfs>>> {
        if prepared.udf_names().is_empty() {
            return Ok(None);
        }
        let definitions = prepared
            .udf_names()
            .iter()
            .map(|name| {
                let udf = self.user_defined_function(name).map_err(|e| match e {
                    Error::NotFound(_) => Error::NotFound(format!(
                        "the query calls udf.{name}, which container '{}' does not have",
                        self.name()
                    )),
                    other => other,
                })?;
                Ok((udf.id, udf.body))
            })
            .collect::<Result<Vec<_>>>()?;
        let (_, now_ms) = self.script_site();
        let functions = Functions::start(&definitions, now_ms, Limits::default()).map_err(Error::Script)?;
        Ok(Some(Arc::new(PageUdfs {
            functions: Mutex::new(functions),
            failure: Mutex::new(None),
        })))
    }
}

/// The user-defined functions of one query page, running in one sandbox.
pub(super) struct PageUdfs {
    functions: Mutex<Functions>,
    /// The first call that failed: the page answers it (400.3703, 408.3701 or 400.3702).
    failure: Mutex<Option<ScriptError>>,
}

impl std::fmt::Debug for PageUdfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageUdfs")
    }
}

impl PageUdfs {
    /// Time the page's calls took.
    pub(super) fn busy(&self) -> std::time::Duration {
        self.functions.lock().map(|f| f.busy()).unwrap_or_default()
    }

    /// Why a call failed, if one did.
    pub(super) fn failure(&self) -> Option<Error> {
        self.failure
            .lock()
            .ok()
            .and_then(|mut f| f.take())
            .map(Error::Script)
    }
}

impl Udfs for PageUdfs {
    fn call(&self, name: &str, args: &[Option<Value>]) -> Option<Value> {
        let mut failure = self.failure.lock().ok()?;
        if failure.is_some() {
            return None;
        }
        let args: Vec<Value> = args.iter().map(|a| a.clone().unwrap_or(Value::Null)).collect();
        let mut functions = self.functions.lock().ok()?;
        match functions.call(name, &args) {
            Ok(v) => v,
            Err(e) => {
                *failure = Some(e);
                None
            }
        }
    }
}
