//! What `strata bench` asks the operating system: CPU time used (getrusage, for the process and
//! for the calling thread), resident memory (/proc/self/status) and page-cache eviction
//! (posix_fadvise DONTNEED) for the cold reads. Linux only where the call is; elsewhere each probe
//! says it is unavailable. It must not write to the files it evicts or measure anything itself.

use std::io;
use std::path::Path;
use std::time::Duration;

/// Whose CPU time `cpu_time` reads.
#[derive(Clone, Copy)]
pub(super) enum Who {
    /// Every thread of the process, background flush and compaction included (RUSAGE_SELF).
    Process,
    /// The calling thread only (RUSAGE_THREAD on Linux; the process elsewhere).
    Thread,
}

/// User + system CPU time consumed so far by `who`, or zero if the call fails.
pub(super) fn cpu_time(who: Who) -> Duration {
    #[cfg(target_os = "linux")]
    let target = match who {
        Who::Process => libc::RUSAGE_SELF,
        Who::Thread => libc::RUSAGE_THREAD,
    };
    #[cfg(not(target_os = "linux"))]
    let target = {
        let _ = who;
        libc::RUSAGE_SELF
    };
    // SAFETY: `getrusage` only writes into the `rusage` we pass, which is a plain C struct for
    // which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` that outlives the call.
    if unsafe { libc::getrusage(target, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Resident set of this process in bytes: now (VmRSS), its peak so far (VmHWM), and the
/// anonymous part of it now (RssAnon: heap and stacks, without the file pages that memory-mapped
/// segments bring in, which VmRSS counts).
#[derive(Clone, Copy, Default)]
pub(super) struct Memory {
    pub rss: u64,
    pub peak: u64,
    pub anon: u64,
}

/// Reads /proc/self/status; None where there is no such file (not Linux).
pub(super) fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status(&status)
}

/// VmRSS, VmHWM and RssAnon (in kB) of a /proc/PID/status text, in bytes.
fn parse_status(status: &str) -> Option<Memory> {
    let kb = |key: &str| -> Option<u64> {
        let rest = status.lines().find_map(|l| l.strip_prefix(key))?;
        let n = rest.trim().trim_end_matches("kB").trim();
        n.parse::<u64>().ok().map(|k| k * 1024)
    };
    Some(Memory {
        rss: kb("VmRSS:")?,
        peak: kb("VmHWM:")?,
        anon: kb("RssAnon:")?,
    })
}

/// Drops every file under `dir` from the OS page cache: fsync (so no page is dirty), then
/// `posix_fadvise(POSIX_FADV_DONTNEED)` over the whole file. Needs no privileges; pages mapped by
/// a live process stay, so call it while the store is closed. Returns the bytes evicted.
pub(super) fn evict_page_cache(dir: &Path) -> io::Result<u64> {
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            bytes += evict_page_cache(&path)?;
            continue;
        }
        let file = std::fs::File::open(&path)?;
        file.sync_all()?;
        fadvise_dontneed(&file)?;
        bytes += file.metadata()?.len();
    }
    Ok(bytes)
}

#[cfg(target_os = "linux")]
fn fadvise_dontneed(file: &std::fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `file`, which is open for the whole call; offset 0 and
    // length 0 mean "to the end of the file". The call reads no memory of ours.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

#[cfg(not(target_os = "linux"))]
fn fadvise_dontneed(_file: &std::fs::File) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "evicting the page cache (posix_fadvise) is implemented for Linux only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read_in_bytes() {
        let text = "Name:\tstrata\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nRssAnon:\t 512 kB\nThreads:\t3\n";
        let m = parse_status(text).map(|m| (m.rss, m.peak, m.anon));
        assert_eq!(m, Some((1024 * 1024, 2048 * 1024, 512 * 1024)));
        assert!(parse_status("Name:\tx\n").is_none());
    }

    #[test]
    fn process_cpu_time_grows_with_work() {
        let before = cpu_time(Who::Process);
        let mut x = 0u64;
        while cpu_time(Who::Process) <= before {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn eviction_covers_every_file_below_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("a"), [1u8; 10]).expect("write");
        std::fs::write(dir.path().join("sub/b"), [2u8; 5]).expect("write");
        assert_eq!(evict_page_cache(dir.path()).ok(), Some(15));
        // The files are intact: eviction only drops clean cached pages.
        assert_eq!(std::fs::read(dir.path().join("sub/b")).ok(), Some(vec![2u8; 5]));
    }
}
