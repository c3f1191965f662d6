//! The key a segment's index names a data block by: not the block's last key but a short key
//! between it and the next block's first key (LevelDB's "shortest separator"). Owns only that
//! choice; pure, and knows nothing of blocks, files or what the keys mean.
//!
//! Every index key only has to be an upper bound of its block and below the next block's first
//! key: a lookup takes the first block whose index key is `>=` the key sought, and no key lies
//! strictly between two blocks. The engine's keys share long prefixes (key space, container,
//! index path) and end in long values, so a whole last key averaged ~146 bytes in the index while
//! the byte where two neighbouring blocks part comes much earlier (docs/bench.md, "Change 5").

/// The shortest prefix of `next` (or `last` itself) that is `>= last` and `< next`: what the
/// index stores for a block whose last key is `last` when the following block starts at `next`.
/// `last < next` is required; if it does not hold, `last` comes back unchanged.
pub(crate) fn separator<'a>(last: &'a [u8], next: &'a [u8]) -> &'a [u8] {
    let common = last.iter().zip(next).take_while(|(a, b)| a == b).count();
    // `next[..=common]` is above `last` (it is `last`'s prefix then a greater byte, or it
    // extends all of `last`) and below `next` as long as it is a proper prefix of `next`.
    if common < next.len().saturating_sub(1) && last.get(common).is_none_or(|&b| b < next[common]) {
        if let Some(s) = next.get(..=common) {
            if s.len() < last.len() {
                return s;
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::separator;
    use proptest::prelude::*;

    #[test]
    fn picks_the_short_prefix_of_the_next_key() {
        let cases: [(&[u8], &[u8], &[u8]); 7] = [
            // The keys part at byte 4: "abcdX" is the shortest key in [last, next).
            (b"abcdA-long-tail", b"abcdZ-other-tail", b"abcdZ"),
            // `next` extends `last`'s prefix: shortened to that prefix plus one byte of `next`.
            (b"ab\x00zzzz", b"ab\x01\x00", b"ab\x01"),
            // Adjacent bytes: `next[..=4]` = "abcdB" still lies below "abcdB..." only if longer.
            (b"abcdAzzzz", b"abcdB", b"abcdAzzzz"),
            (b"abcdAzzzz", b"abcdBq", b"abcdB"),
            // Nothing shorter than `last` fits.
            (b"ab", b"abc", b"ab"),
            (b"a", b"b", b"a"),
            // Not in order: `last` unchanged.
            (b"b", b"a", b"b"),
        ];
        for (last, next, want) in cases {
            assert_eq!(
                separator(last, next),
                want,
                "{:?}",
                (String::from_utf8_lossy(last), String::from_utf8_lossy(next))
            );
        }
    }

    proptest! {
        /// Whatever the keys, the separator is an upper bound of `last`, below `next`, and never
        /// longer than `last`.
        #[test]
        fn lies_between_and_is_never_longer(
            a in proptest::collection::vec(any::<u8>(), 0..12),
            b in proptest::collection::vec(any::<u8>(), 0..12),
        ) {
            let (last, next) = if a < b { (a, b) } else { (b, a) };
            prop_assume!(last < next);
            let s = separator(&last, &next);
            prop_assert!(s >= last.as_slice());
            prop_assert!(s < next.as_slice());
            prop_assert!(s.len() <= last.len());
        }
    }
}
