//! A filter predicate, `FROM c WHERE …`: the condition of a conditional patch, evaluated on one
//! document. Parsed and checked like a query (same errors, positions in the predicate's text);
//! pure, never reads storage.

use std::collections::HashMap;

use serde_json::Value;

use super::exec::Prepared;
use super::parser::parse_predicate;
use crate::error::{Error, Result};

/// A parsed and checked predicate.
#[derive(Debug)]
pub(crate) struct Predicate(Prepared);

impl Predicate {
    /// 400 for a malformed predicate (with the position) and for clauses that do not filter
    /// (GROUP BY, ORDER BY, OFFSET/LIMIT).
    pub(crate) fn new(src: &str) -> Result<Predicate> {
        let query = parse_predicate(src)?;
        if !query.group_by.is_empty() || !query.order_by.is_empty() || query.offset_limit.is_some() {
            return Err(Error::BadRequest(
                "a filter predicate is FROM c [JOIN …] WHERE <condition>; GROUP BY, ORDER BY and \
                 OFFSET/LIMIT do not belong in it"
                    .into(),
            ));
        }
        Ok(Predicate(Prepared::checked(query, src, HashMap::new())?))
    }

    /// Whether `doc` satisfies the predicate (with JOINs: whether any row of it does).
    pub(crate) fn matches(&self, doc: &Value) -> Result<bool> {
        Ok(!self.0.run([doc.clone()])?.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_predicate_matches_as_its_where_clause_says() {
        let doc = json!({"id": "1", "n": 4, "tags": ["a", "b"]});
        for (src, want) in [
            ("FROM c WHERE c.n = 4", true),
            ("from c where c.n > 4", false),
            ("FROM c", true),
            ("FROM c WHERE c.missing = 1", false),
            ("FROM c JOIN t IN c.tags WHERE t = 'b'", true),
            (
                "FROM d WHERE IS_DEFINED(d.tags) AND ARRAY_LENGTH(d.tags) = 3",
                false,
            ),
        ] {
            assert_eq!(Predicate::new(src).unwrap().matches(&doc).unwrap(), want, "{src}");
        }
    }

    #[test]
    fn malformed_predicates_are_400_with_their_own_positions() {
        let e = Predicate::new("FROM c WHERE c.n = ").unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.to_string().contains("line 1"), "{e}");
        for src in [
            "SELECT * FROM c",
            "WHERE c.n = 1",
            "FROM c ORDER BY c.n",
            "FROM c WHERE COUNT(1) > 0",
        ] {
            assert_eq!(Predicate::new(src).unwrap_err().status(), 400, "{src}");
        }
    }
}
