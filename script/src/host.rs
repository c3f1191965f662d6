//! The host side of a script: the one trait through which a running script reaches documents,
//! and the requests and errors that cross it. Owns only the shapes; must not know how documents
//! are stored (the engine implements `Host`) nor anything about JavaScript (sandbox.rs).

use serde_json::Value;

/// One document operation a script asks for, on the partition the execution runs on.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Read one document. `link` is the last segment of the document link the script gave:
    /// the document's id, or its `_rid` (as in `doc._self`).
    Read { link: String },
    /// Create `doc`; without an `id`, the host gives it one unless `auto_id` is false.
    Create { doc: Value, auto_id: bool },
    /// Replace the document `link` addresses with `doc`, if its etag is `if_match` (when given).
    Replace {
        link: String,
        doc: Value,
        if_match: Option<String>,
    },
    /// Create or replace `doc`.
    Upsert { doc: Value, if_match: Option<String> },
    /// Delete the document `link` addresses.
    Delete { link: String, if_match: Option<String> },
    /// Run a query with `@name` parameters: one page of the documents it returns, as
    /// `{"documents": [...], "continuation": token | null}`.
    Query {
        sql: String,
        parameters: Vec<(String, Value)>,
        page: Page,
    },
    /// One page of every document of the partition, answered as a query is.
    ReadAll { page: Page },
}

/// Which page of a query or read: the token of the previous page (`options.continuation`) and
/// the most documents wanted (`options.pageSize`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub continuation: Option<String>,
    pub size: Option<usize>,
}

/// Why the host refused or failed a request.
#[derive(Clone, Debug, PartialEq)]
pub struct HostError {
    pub status: u16,
    pub substatus: u32,
    pub message: String,
    /// The execution cannot go on whatever the script does (a revoked key, throttling, a
    /// storage failure): the script is stopped and the call fails with this error. Otherwise the
    /// script gets the error in its callback and decides.
    pub fatal: bool,
}

/// What a script's documents are reached through. Called on the thread that called
/// `run_procedure`, one request at a time, in the order the script made them.
pub trait Host {
    fn call(&mut self, request: Request) -> Result<Value, HostError>;
}
