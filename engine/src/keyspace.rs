//! The registry of the engine's key spaces: every key the engine writes to its LSM store starts
//! with one byte naming its key space, and this file is the only place those bytes are assigned.
//! Owns the bytes, what each space holds and whether its keys belong to a container. Must not
//! lay out the rest of a key (document/, index/ and account/ do, as each entry says) and never
//! touches the store. A byte, once written, is never changed nor given to another space:
//! existing stores read by it (docs/format.md, "LSM keys and values").
//!
//! Code that removes or copies a container's data iterates `KeySpace::ALL` (account/purge.rs),
//! so a space added here is covered there without another list to keep.

/// Declares `KeySpace` and `KeySpace::ALL` from one list, so that no space can be left out of
/// `ALL`.
macro_rules! key_spaces {
    ($($(#[$doc:meta])* $name:ident = $byte:literal,)+) => {
        /// One key space of the store: the first byte of every key in it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub(crate) enum KeySpace {
            $($(#[$doc])* $name = $byte,)+
        }

        impl KeySpace {
            /// Every key space, in the order of their bytes.
            pub(crate) const ALL: &'static [KeySpace] = &[$(KeySpace::$name,)+];
        }
    };
}

key_spaces! {
    /// The items: `0x01 | container_id: u32 BE | pk_len: u16 BE | pk | id (UTF-8)` (a
    /// hierarchical key: `pk_len` 0, self-delimiting levels) -> the stored item as JSON (the
    /// newest version). Per container; layout in document/key.rs.
    Item = 0x01,
    /// The all-versions change feed: `0x02 | container_id: u32 BE | lsn: u64 BE` ->
    /// `crts: u64 BE | record JSON` (what a write did: metadata only). Per container; layout in
    /// document/change.rs, written by account/feed.rs.
    Feed = 0x02,
    /// Latest-version pointers: `0x03 | container_id: u32 BE | lsn: u64 BE` ->
    /// `crts: u64 BE | item key`, one per live item (its newest write). Per container;
    /// document/change.rs.
    Latest = 0x03,
    /// The container's LSN high-water mark: `0x04 | container_id: u32 BE` -> `lsn: u64 BE`.
    /// Per container; document/change.rs, account/lsn.rs.
    LsnMark = 0x04,
    /// The conflict feed: `0x05 | container_id: u32 BE | conflict id: u64 BE` (an LSN of the
    /// container) -> conflict JSON. Per container; account/conflict.rs.
    Conflict = 0x05,
    /// Sync checkpoints: `0x06 | container_id: u32 BE | source account id | source container:
    /// u32 BE` -> checkpoint JSON. Per container (the local one); account/sync.rs.
    SyncCheckpoint = 0x06,
    /// Secondary-index entries: `0x07 | container_id: u32 BE | generation: u32 BE | path_len:
    /// u16 BE | canonical path | value | pk_len: u16 BE | pk | id` -> empty. Per container;
    /// index/encode.rs, written by account/index.rs.
    IndexEntry = 0x07,
    /// The index's rebuild state: `0x08 | container_id: u32 BE` -> `generation: u32 BE |
    /// complete: u8 | items_done: u64 BE | cursor`. Per container; index/encode.rs,
    /// account/index.rs.
    IndexRebuild = 0x08,
    /// Lifetime metrics: `0x09 | container_id: u32 BE` -> `total RU: f64 bits BE | operations:
    /// u64 BE | 429s: u64 BE`, added as each session closes. Per container; account/metrics.rs.
    LifetimeMetrics = 0x09,
    /// Images of superseded versions: `0x0A | container_id: u32 BE | lsn: u64 BE` ->
    /// `crts: u64 BE | stored item` (version `lsn`, superseded at `crts`). Per container;
    /// document/change.rs, account/feed.rs.
    Image = 0x0A,
    /// Server-side scripts: `0x0B | container_id: u32 BE | kind: u8 (1: stored procedure, 2:
    /// trigger, 3: user-defined function) | name (UTF-8)` -> the script as JSON (`id`, `body`, `_etag`, `_ts`; a trigger's
    /// type and operation), sealed like items: bodies are customer data; kind `| 0x80`: the
    /// tombstone of a deleted one (`id`, `_etag`, `_ts`). Per container;
    /// account/procedure.rs, account/script_store.rs, account/script_tombstone.rs.
    Script = 0x0B,
}

impl KeySpace {
    /// The byte every key of the space starts with.
    pub(crate) const fn tag(self) -> u8 {
        self as u8
    }

    /// The key space of a key; `None` for a key no space claims.
    pub(crate) fn of(key: &[u8]) -> Option<KeySpace> {
        let first = *key.first()?;
        KeySpace::ALL.iter().copied().find(|s| s.tag() == first)
    }

    /// Whether every key of the space starts with `tag | container_id: u32 BE` and belongs to
    /// that container (removed with it, copied with it). A new space must say.
    pub(crate) const fn per_container(self) -> bool {
        match self {
            KeySpace::Item
            | KeySpace::Feed
            | KeySpace::Latest
            | KeySpace::LsnMark
            | KeySpace::Conflict
            | KeySpace::SyncCheckpoint
            | KeySpace::IndexEntry
            | KeySpace::IndexRebuild
            | KeySpace::LifetimeMetrics
            | KeySpace::Image
            | KeySpace::Script => true,
        }
    }

    /// Whether keys of the space are looked up one at a time (`Db::get`), and so belong in the
    /// segments' bloom filters. The change feed, the latest-version pointers and the index
    /// entries are only ever scanned: a loaded item writes seven to ten keys, of which only its
    /// item key is probed by point reads, so leaving those spaces out keeps the filters to about
    /// a third of the bits (docs/bench.md, "Change 6"). A lookup of a left-out key still finds
    /// it (the store skips the filter for it). Once `false`, a space never turns `true` again:
    /// the segments written meanwhile hold no filter bits for its keys.
    pub(crate) const fn point_read(self) -> bool {
        match self {
            KeySpace::Feed | KeySpace::Latest | KeySpace::IndexEntry => false,
            KeySpace::Item
            | KeySpace::LsnMark
            | KeySpace::Conflict
            | KeySpace::SyncCheckpoint
            | KeySpace::IndexRebuild
            | KeySpace::LifetimeMetrics
            | KeySpace::Image
            | KeySpace::Script => true,
        }
    }

    /// `tag | container_id: u32 BE`: the prefix of every key of the container in this space
    /// (for a per-container space), with room for what follows.
    pub(crate) fn container_prefix(self, container_id: u32) -> Vec<u8> {
        self.container_prefix_with_room(container_id, 27)
    }

    /// `container_prefix` in an allocation with room for `more` bytes after it, for a key
    /// whose length is known (one allocation, no regrowth).
    pub(crate) fn container_prefix_with_room(self, container_id: u32, more: usize) -> Vec<u8> {
        let mut k = Vec::with_capacity(5 + more);
        k.push(self.tag());
        k.extend_from_slice(&container_id.to_be_bytes());
        k
    }

    /// The container id of a key of this space; `None` for a key of another space or too short
    /// to hold one.
    pub(crate) fn container_of(self, key: &[u8]) -> Option<u32> {
        match key {
            [t, a, b, c, d, ..] if *t == self.tag() => Some(u32::from_be_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }
}

/// The store's bloom-filter policy (`DbOptions::filter_keys`): keys of the spaces that are
/// point-read, and any key no space claims.
pub(crate) fn in_filters(key: &[u8]) -> bool {
    KeySpace::of(key).is_none_or(KeySpace::point_read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_are_the_ones_on_disk() {
        // Changing any of these makes existing stores unreadable: never edit this table.
        let bytes: Vec<(KeySpace, u8)> = KeySpace::ALL.iter().map(|s| (*s, s.tag())).collect();
        assert_eq!(
            bytes,
            [
                (KeySpace::Item, 0x01),
                (KeySpace::Feed, 0x02),
                (KeySpace::Latest, 0x03),
                (KeySpace::LsnMark, 0x04),
                (KeySpace::Conflict, 0x05),
                (KeySpace::SyncCheckpoint, 0x06),
                (KeySpace::IndexEntry, 0x07),
                (KeySpace::IndexRebuild, 0x08),
                (KeySpace::LifetimeMetrics, 0x09),
                (KeySpace::Image, 0x0A),
                (KeySpace::Script, 0x0B),
            ]
        );
    }

    #[test]
    fn the_spaces_left_out_of_the_filters_stay_out() {
        // Segments on disk hold no filter bits for these spaces' keys: a space may leave this
        // list's `false`s only by a format change that rewrites every segment.
        let out: Vec<KeySpace> = KeySpace::ALL
            .iter()
            .copied()
            .filter(|s| !s.point_read())
            .collect();
        assert_eq!(out, [KeySpace::Feed, KeySpace::Latest, KeySpace::IndexEntry]);
        assert!(in_filters(&KeySpace::Item.container_prefix(1)));
        assert!(!in_filters(&KeySpace::IndexEntry.container_prefix(1)));
        assert!(
            in_filters(&[]) && in_filters(&[0xFF]),
            "an unclaimed key stays in"
        );
    }

    #[test]
    fn bytes_are_distinct_and_every_key_maps_back() {
        for (i, s) in KeySpace::ALL.iter().enumerate() {
            assert!(
                KeySpace::ALL[i + 1..].iter().all(|o| o.tag() > s.tag()),
                "{s:?}: ALL is sorted by byte, each byte once"
            );
            let key = s.container_prefix(0x0102_0304);
            assert_eq!(KeySpace::of(&key), Some(*s));
            assert_eq!(s.container_of(&key), Some(0x0102_0304));
            assert_eq!(s.container_of(&key[..4]), None);
        }
        assert_eq!(KeySpace::of(&[]), None);
        assert_eq!(KeySpace::of(&[0x00]), None);
        assert_eq!(KeySpace::of(&[0xFF, 1]), None);
        assert_eq!(
            KeySpace::Feed.container_of(&KeySpace::Item.container_prefix(1)),
            None
        );
    }
}
