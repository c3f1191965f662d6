//! The parsed partition-key definition a catalog entry keeps beside its recorded paths, so a
//! data-plane call does not validate and split the paths again on every operation. Owns only
//! that memo: it is never written to the catalog file, carries no data of its own beyond what
//! the entry's paths say, and compares equal to any other memo (two entries are equal when
//! their recorded fields are).

use std::sync::{Arc, OnceLock};

use crate::document::PartitionKeyDefinition;
use crate::error::Result;

/// Filled on first use from the entry's paths; emptied whenever they change.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParsedPk(OnceLock<Arc<PartitionKeyDefinition>>);

impl ParsedPk {
    /// The memo, or `parse()` (remembered when it succeeds; an error is returned each time).
    pub(crate) fn get_or_parse(
        &self,
        parse: impl FnOnce() -> Result<PartitionKeyDefinition>,
    ) -> Result<Arc<PartitionKeyDefinition>> {
        if let Some(def) = self.0.get() {
            return Ok(def.clone());
        }
        let def = Arc::new(parse()?);
        // Another thread may have filled it meanwhile, from the same paths: either is right.
        Ok(self.0.get_or_init(|| def).clone())
    }
}

/// A memo of the entry's own fields: it never makes two entries differ.
impl PartialEq for ParsedPk {
    fn eq(&self, _: &ParsedPk) -> bool {
        true
    }
}

impl Eq for ParsedPk {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn parses_once_and_does_not_remember_an_error() {
        let memo = ParsedPk::default();
        let bad = memo.get_or_parse(|| Err(Error::BadRequest("no".into())));
        assert_eq!(bad.err().map(|e| e.status()), Some(400));
        let first = memo
            .get_or_parse(|| PartitionKeyDefinition::new(&["/tenant"]))
            .unwrap();
        let again = memo.get_or_parse(|| panic!("parsed twice")).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(*again, PartitionKeyDefinition::new(&["/tenant"]).unwrap());
        // A clone carries the memo; a fresh one does not, and both compare equal.
        assert!(Arc::ptr_eq(
            &memo.clone().get_or_parse(|| panic!("cloned")).unwrap(),
            &first
        ));
        assert!(memo == ParsedPk::default());
    }
}
