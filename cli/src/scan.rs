//! Plaintext scan for the demo: reads every regular file under a directory and reports which
//! files contain given byte strings. Read-only; knows nothing of the store's file formats.

use std::io;
use std::path::{Path, PathBuf};

/// A byte string to look for, with a label for the report.
pub struct Needle<'a> {
    pub label: &'a str,
    pub bytes: &'a [u8],
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub files: usize,
    pub bytes: u64,
    /// For each needle (same order as given), the files that contain it.
    pub hits: Vec<Vec<PathBuf>>,
}

/// Scans every regular file under `dir` (recursively; symlinks are not followed).
pub fn scan(dir: &Path, needles: &[Needle<'_>]) -> io::Result<ScanReport> {
    let mut report = ScanReport {
        hits: vec![Vec::new(); needles.len()],
        ..ScanReport::default()
    };
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let data = std::fs::read(&path)?;
                report.files += 1;
                report.bytes += data.len() as u64;
                for (needle, hits) in needles.iter().zip(report.hits.iter_mut()) {
                    if contains(&data, needle.bytes) {
                        hits.push(path.clone());
                    }
                }
            }
        }
    }
    Ok(report)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_needles_in_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a"), b"xx secret yy").unwrap();
        std::fs::write(dir.path().join("sub/b"), b"nothing here").unwrap();
        let needles = [
            Needle {
                label: "s",
                bytes: b"secret",
            },
            Needle {
                label: "n",
                bytes: b"absent",
            },
        ];
        let r = scan(dir.path(), &needles).unwrap();
        assert_eq!(r.files, 2);
        assert_eq!(r.hits[0], vec![dir.path().join("a")]);
        assert!(r.hits[1].is_empty());
    }
}
