//! The engine's side of a running stored procedure: `strata_script::Host` over one container
//! and one partition-key value. Reads see the execution's own earlier writes (an overlay);
//! writes are checked and staged (staged.rs), never stored here; every item first read from the
//! store is remembered with its etag, so the commit (procedure_run.rs) can prove nothing changed
//! under the execution. Queries see the execution's own writes too, once it has made any
//! (query_overlay.rs). Must not store anything nor run JavaScript.

use std::collections::HashMap;

use serde_json::{json, Value};
use strata_script::{Host, HostError, Page, Request};

use super::container::{new_guid, public_size, without_lsn, Container, Resolved, WriteKind};
use super::query::QueryOptions;
use super::query_overlay::Overlay;
use super::staged::{Current, Staged};
use crate::document::{remove_system_properties, PartitionKey};
use crate::error::{Error, Result};
use crate::metering::point_read_charge;

/// The host of one execution.
pub(crate) struct ProcedureHost<'c> {
    c: &'c Container,
    r: &'c Resolved,
    pk: &'c PartitionKey,
    /// What the execution sees under a key: its own last write (`None`: deleted), else what
    /// the store held when the execution first read it (repeatable reads).
    overlay: HashMap<Vec<u8>, Option<Current>>,
    /// The etag of what the store held under each key when the execution first read it
    /// (`None`: nothing, or an item without one).
    pub(super) observed: HashMap<Vec<u8>, Option<String>>,
    /// The writes, in the order the script made them.
    pub(super) staged: Vec<Staged<'c>>,
    /// Point reads' charges, not yet drawn.
    pub(super) reads: Vec<f64>,
    /// Queries' charges, already drawn by each query.
    pub(super) queried: Vec<f64>,
    /// The error that stopped the execution, as the engine raised it (a revoked key, 429, …).
    pub(super) fatal: Option<Error>,
}

impl<'c> ProcedureHost<'c> {
    pub(super) fn new(c: &'c Container, r: &'c Resolved, pk: &'c PartitionKey) -> Self {
        ProcedureHost {
            c,
            r,
            pk,
            overlay: HashMap::new(),
            observed: HashMap::new(),
            staged: Vec::new(),
            reads: Vec::new(),
            queried: Vec::new(),
            fatal: None,
        }
    }

    /// What `key` holds for this execution: its own last write, else what the store held at
    /// the first read (remembered, with its etag for the commit's check).
    fn current(&mut self, key: &[u8]) -> Result<Option<Current>> {
        if let Some(c) = self.overlay.get(key) {
            return Ok(c.clone());
        }
        let stored = self.c.current(key)?;
        self.observed
            .insert(key.to_vec(), stored.as_ref().and_then(|c| etag_of(&c.item)));
        self.overlay.insert(key.to_vec(), stored.clone());
        Ok(stored)
    }

    /// The live item `key` holds for this execution.
    fn live(&mut self, key: &[u8]) -> Result<Option<Current>> {
        Ok(self.current(key)?.filter(|c| self.c.is_live(self.r, &c.item)))
    }

    /// The id a document link's last segment names: an id, or the `_rid` of a live item of
    /// the partition (as `doc._self` links do).
    fn resolve_link(&mut self, link: &str) -> Result<String> {
        let key = self.r.item_key(self.pk, link)?;
        if self.live(&key)?.is_some() {
            return Ok(link.to_string());
        }
        let written = self
            .overlay
            .values()
            .flatten()
            .find(|c| rid_of(&c.item) == Some(link) && self.c.is_live(self.r, &c.item));
        if let Some(id) = written.and_then(|c| c.item.get("id")).and_then(Value::as_str) {
            return Ok(id.to_string());
        }
        let found = self.query_page(
            "SELECT c.id FROM c WHERE c._rid = @rid",
            &[("@rid".into(), json!(link))],
            &Page::default(),
        )?;
        Ok(found["documents"][0]["id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| link.to_string()))
    }

    fn read(&mut self, link: &str) -> Result<Value> {
        let id = self.resolve_link(link)?;
        let key = self.r.item_key(self.pk, &id)?;
        let found = self.live(&key)?;
        let size = found.as_ref().map_or(0, |c| public_size(c.len, &c.item));
        self.reads
            .push(point_read_charge(size, self.c.inner.container_cmk(self.r.id)));
        match found {
            Some(c) => Ok(without_lsn(c.item)),
            None => Err(self.c.not_found(self.pk, &id)),
        }
    }

    pub(super) fn write(
        &mut self,
        kind: WriteKind,
        mut doc: Value,
        if_match: Option<String>,
    ) -> Result<Value> {
        // What the script read comes with system properties; they are stamped anew.
        remove_system_properties(&mut doc);
        let in_doc = self.r.pk.extract(&doc)?;
        if in_doc != *self.pk {
            return Err(Error::BadRequest(format!(
                "a stored procedure writes only in the partition it runs on ({}); this document's partition key is {in_doc}",
                self.pk
            )));
        }
        let (id, key) = self.c.check_item(self.r, self.pk, &doc)?;
        let current = self.current(&key)?;
        let staged = self.c.stage_write(
            self.r,
            kind,
            (self.pk, &id, key.clone()),
            &mut doc,
            if_match.as_deref(),
            current,
        )?;
        self.overlay.insert(key, staged.after()?);
        self.staged.push(staged);
        Ok(without_lsn(doc))
    }

    pub(super) fn delete(&mut self, link: &str, if_match: Option<String>) -> Result<Value> {
        let id = self.resolve_link(link)?;
        let key = self.r.item_key(self.pk, &id)?;
        let current = self.current(&key)?;
        let staged =
            self.c
                .stage_delete(self.r, (self.pk, &id, key.clone()), if_match.as_deref(), current)?;
        self.overlay.insert(key, None);
        self.staged.push(staged);
        Ok(Value::Null)
    }

    fn query_page(&mut self, sql: &str, params: &[(String, Value)], page: &Page) -> Result<Value> {
        let opts = QueryOptions {
            partition_key: Some(self.pk.clone()),
            max_item_count: page.size,
            continuation: page.continuation.clone(),
            force_full_scan: false,
            partition_filter: None,
        };
        // Once the execution has written, its queries read the partition as it has left it
        // (query_overlay.rs); before that, the store and its indexes as any query does.
        let res = if self.staged.is_empty() {
            self.c.query_items(sql, params, &opts)?
        } else {
            let overlay: Overlay = self
                .overlay
                .iter()
                .map(|(key, now)| {
                    let bytes = now
                        .as_ref()
                        .map(|c| serde_json::to_vec(&c.item))
                        .transpose()
                        .map_err(|e| {
                            Error::Internal(format!("an item of the execution does not serialise: {e}"))
                        })?;
                    Ok((key.clone(), bytes))
                })
                .collect::<Result<_>>()?;
            self.c.query_items_over(sql, params, &opts, &overlay)?
        };
        self.queried.push(res.request_charge);
        Ok(json!({"documents": res.items, "continuation": res.continuation}))
    }

    fn serve(&mut self, request: Request) -> Result<Value> {
        match request {
            Request::Read { link } => self.read(&link),
            Request::Create { mut doc, auto_id } => {
                if doc.get("id").is_none() {
                    if !auto_id {
                        return Err(Error::BadRequest(
                            "the document has no id and disableAutomaticIdGeneration is set".into(),
                        ));
                    }
                    doc["id"] = Value::String(new_guid());
                }
                self.write(WriteKind::Create, doc, None)
            }
            Request::Replace { link, doc, if_match } => {
                let addressed = [doc.get("id"), doc.get("_rid")]
                    .into_iter()
                    .flatten()
                    .any(|v| v.as_str() == Some(link.as_str()));
                if !addressed {
                    return Err(Error::BadRequest(format!(
                        "replaceDocument: the link names '{link}', which is neither the document's id nor its _rid"
                    )));
                }
                self.write(WriteKind::Replace, doc, if_match)
            }
            Request::Upsert { doc, if_match } => self.write(WriteKind::Upsert, doc, if_match),
            Request::Delete { link, if_match } => self.delete(&link, if_match),
            Request::Query {
                sql,
                parameters,
                page,
            } => self.query_page(&sql, &parameters, &page),
            Request::ReadAll { page } => self.query_page("SELECT * FROM c", &[], &page),
        }
    }
}

impl Host for ProcedureHost<'_> {
    fn call(&mut self, request: Request) -> Result<Value, HostError> {
        self.serve(request).map_err(|e| {
            let status = e.status();
            // What no script can handle: the key, throttling, the store itself.
            let fatal = matches!(status, 403 | 423 | 429) || status >= 500;
            let out = HostError {
                status,
                substatus: e.substatus(),
                message: e.to_string(),
                fatal,
            };
            if fatal && self.fatal.is_none() {
                self.fatal = Some(e);
            }
            out
        })
    }
}

fn etag_of(item: &Value) -> Option<String> {
    item.get("_etag").and_then(Value::as_str).map(str::to_string)
}

fn rid_of(item: &Value) -> Option<&str> {
    item.get("_rid").and_then(Value::as_str)
}
