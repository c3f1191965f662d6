//! Block compression with reused zstd contexts: one compressor and one decompressor per thread.
//! `zstd::bulk::compress`/`decompress` allocate and initialise a fresh context on every call,
//! which profiling showed to cost more than compressing a 16 KiB block (a fifth of a bulk load's
//! background CPU). The level is the caller's (it differs by LSM level, `DbOptions::zstd_levels`);
//! every level writes a standard zstd frame, which the one decompressor reads. Knows nothing of
//! blocks' contents, ciphers or files.

use std::cell::RefCell;
use std::io;

use zstd::bulk::{Compressor, Decompressor};

thread_local! {
    /// The compressor and the level it is set to.
    static COMPRESSOR: RefCell<Option<(Compressor<'static>, i32)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// `raw` compressed at zstd level `level`, through this thread's context.
pub(crate) fn compress(raw: &[u8], level: i32) -> io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(io::Error::other)?;
        match slot.as_mut() {
            Some((c, at)) => {
                if *at != level {
                    c.set_compression_level(level)?;
                    *at = level;
                }
            }
            None => *slot = Some((Compressor::new(level)?, level)),
        }
        match slot.as_mut() {
            Some((c, _)) => c.compress(raw),
            None => Err(io::Error::other("no zstd compressor")),
        }
    })
}

/// `compressed` decompressed into at most `capacity` bytes, through this thread's context.
pub(crate) fn decompress(compressed: &[u8], capacity: usize) -> io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(io::Error::other)?;
        if slot.is_none() {
            *slot = Some(Decompressor::new()?);
        }
        match slot.as_mut() {
            Some(d) => d.decompress(compressed, capacity),
            None => Err(io::Error::other("no zstd decompressor")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reuses_the_context() {
        let a = b"strata block strata block strata block".repeat(100);
        let b = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect::<Vec<u8>>();
        // The level changes between calls on one context, as flushes and compactions of
        // different levels share a thread.
        for level in [1, -1, 3, 1, -5, 1] {
            for raw in [&a[..], &b[..], &a[..], &[][..]] {
                let c = compress(raw, level).unwrap();
                assert_eq!(decompress(&c, raw.len()).unwrap(), raw);
                // Same bytes as the one-shot API at that level.
                assert_eq!(c, zstd::bulk::compress(raw, level).unwrap(), "level {level}");
            }
        }
    }

    #[test]
    fn a_too_small_capacity_or_garbage_is_an_error_and_the_context_recovers() {
        let raw = vec![7u8; 10_000];
        let c = compress(&raw, 1).unwrap();
        assert!(decompress(&c, 100).is_err());
        assert!(decompress(b"not zstd at all", 1000).is_err());
        assert_eq!(decompress(&c, raw.len()).unwrap(), raw);
    }
}
