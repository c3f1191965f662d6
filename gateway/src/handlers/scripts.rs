//! Stored procedures, triggers and user-defined functions as REST resources under a collection
//! (`/sprocs`, `/triggers`, `/udfs`): create (POST to the feed), list (GET of the feed), read,
//! replace (PUT) and delete, each the engine's call (`Container::create_stored_procedure`,
//! `replace_trigger`, …). Owns the translation of the service's resource bodies; must not run a
//! script (sproc_exec.rs does).

use serde::Serialize;
use serde_json::{json, Value};
use strata_engine::{Account, Container, TriggerOperation, TriggerType};

use super::databases::body_id;
use super::{engine, Request};
use crate::resources;
use crate::route::ScriptKind;
use crate::wire::Reply;

/// Where a script lives and what kind it is.
pub struct Site<'a> {
    pub db: &'a str,
    pub coll: &'a str,
    pub kind: ScriptKind,
}

impl Site<'_> {
    fn container(&self, account: &Account) -> Container {
        account.database(self.db).container(self.coll)
    }

    /// The path segment of the kind's feed.
    fn feed(&self) -> &'static str {
        match self.kind {
            ScriptKind::StoredProcedure => "sprocs",
            ScriptKind::Trigger => "triggers",
            ScriptKind::UserDefinedFunction => "udfs",
        }
    }

    /// The name of the array a feed answers in.
    fn list_name(&self) -> &'static str {
        match self.kind {
            ScriptKind::StoredProcedure => "StoredProcedures",
            ScriptKind::Trigger => "Triggers",
            ScriptKind::UserDefinedFunction => "UserDefinedFunctions",
        }
    }

    fn what(&self) -> &'static str {
        match self.kind {
            ScriptKind::StoredProcedure => "stored procedure",
            ScriptKind::Trigger => "trigger",
            ScriptKind::UserDefinedFunction => "user-defined function",
        }
    }

    /// An engine record as the resource the SDKs read.
    fn resource(&self, record: &impl Serialize) -> Result<Value, Reply> {
        let v = serde_json::to_value(record)
            .map_err(|e| Reply::error(500, format!("serialising a {}: {e}", self.what())))?;
        Ok(resources::script(self.db, self.coll, self.feed(), v))
    }
}

/// The script's JavaScript: the body's `body` string (the SDKs also accept `serverScript` and
/// send it as `body`).
fn script_body<'b>(site: &Site<'_>, body: &'b Value) -> Result<&'b str, Reply> {
    body.get("body").and_then(Value::as_str).ok_or_else(|| {
        Reply::error(
            400,
            format!(
                "the {} needs its JavaScript as a string \"body\", e.g. \"function () {{ ... }}\"",
                site.what()
            ),
        )
    })
}

/// A trigger body's `triggerType` and `triggerOperation` (any case: `Pre`, `pre`, `All`, …).
fn trigger_kind(body: &Value) -> Result<(TriggerType, TriggerOperation), Reply> {
    let field = |name: &str, example: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| Reply::error(400, format!("the trigger needs a string \"{name}\" ({example})")))
    };
    let trigger_type = field("triggerType", "Pre or Post")?;
    let operation = field("triggerOperation", "All, Create, Replace, Upsert or Delete")?;
    Ok((engine(trigger_type.parse())?, engine(operation.parse())?))
}

/// POST to a script feed: creates one (201 with the resource).
pub fn create(account: &Account, site: &Site<'_>, req: &Request<'_>) -> Result<Reply, Reply> {
    if req.is_query()? {
        return Err(Reply::error(
            400,
            format!(
                "queries over {}s are not served: list them with a GET of the feed",
                site.what()
            ),
        ));
    }
    let (body, id) = body_id(req, site.what())?;
    let js = script_body(site, &body)?;
    let c = site.container(account);
    let v = match site.kind {
        ScriptKind::StoredProcedure => site.resource(&engine(c.create_stored_procedure(&id, js))?)?,
        ScriptKind::Trigger => {
            let (t, op) = trigger_kind(&body)?;
            site.resource(&engine(c.create_trigger(&id, t, op, js))?)?
        }
        ScriptKind::UserDefinedFunction => {
            site.resource(&engine(c.create_user_defined_function(&id, js))?)?
        }
    };
    Ok(with_etag(Reply::json(201, &v), &v))
}

/// GET of a script feed: every script of the kind, with its body.
pub fn list(account: &Account, site: &Site<'_>) -> Result<Reply, Reply> {
    let c = site.container(account);
    let items = match site.kind {
        ScriptKind::StoredProcedure => engine(c.list_stored_procedures())?
            .iter()
            .map(|name| site.resource(&engine(c.stored_procedure(name))?))
            .collect::<Result<Vec<_>, _>>()?,
        ScriptKind::Trigger => engine(c.list_triggers())?
            .iter()
            .map(|t| site.resource(t))
            .collect::<Result<Vec<_>, _>>()?,
        ScriptKind::UserDefinedFunction => engine(c.list_user_defined_functions())?
            .iter()
            .map(|u| site.resource(u))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let count = items.len();
    Ok(Reply::json(
        200,
        &json!({"_rid": resources::collection_rid(site.db, site.coll), site.list_name(): items, "_count": count}),
    )
    .with_header("x-ms-item-count", count.to_string()))
}

/// GET of one script.
pub fn read(account: &Account, site: &Site<'_>, id: &str) -> Result<Reply, Reply> {
    let c = site.container(account);
    let v = match site.kind {
        ScriptKind::StoredProcedure => site.resource(&engine(c.stored_procedure(id))?)?,
        ScriptKind::Trigger => site.resource(&engine(c.trigger(id))?)?,
        ScriptKind::UserDefinedFunction => site.resource(&engine(c.user_defined_function(id))?)?,
    };
    Ok(with_etag(Reply::json(200, &v), &v))
}

/// PUT of one script: its new body (and a trigger's type and operation); the id cannot change.
pub fn replace(account: &Account, site: &Site<'_>, id: &str, req: &Request<'_>) -> Result<Reply, Reply> {
    let (body, body_id) = body_id(req, site.what())?;
    if body_id != id {
        return Err(Reply::error(
            400,
            format!(
                "the body's id {body_id:?} is not the {} in the URL ({id:?})",
                site.what()
            ),
        ));
    }
    let js = script_body(site, &body)?;
    let c = site.container(account);
    let v = match site.kind {
        ScriptKind::StoredProcedure => site.resource(&engine(c.replace_stored_procedure(id, js))?)?,
        ScriptKind::Trigger => {
            let (t, op) = trigger_kind(&body)?;
            site.resource(&engine(c.replace_trigger(id, t, op, js))?)?
        }
        ScriptKind::UserDefinedFunction => {
            site.resource(&engine(c.replace_user_defined_function(id, js))?)?
        }
    };
    Ok(with_etag(Reply::json(200, &v), &v))
}

/// DELETE of one script (204).
pub fn delete(account: &Account, site: &Site<'_>, id: &str) -> Result<Reply, Reply> {
    let c = site.container(account);
    engine(match site.kind {
        ScriptKind::StoredProcedure => c.delete_stored_procedure(id),
        ScriptKind::Trigger => c.delete_trigger(id),
        ScriptKind::UserDefinedFunction => c.delete_user_defined_function(id),
    })?;
    Ok(Reply::empty(204))
}

/// The resource's `_etag` also as the `etag` header, as the service sends it.
fn with_etag(reply: Reply, v: &Value) -> Reply {
    match v.get("_etag").and_then(Value::as_str) {
        Some(etag) => reply.with_header("etag", etag),
        None => reply,
    }
}
