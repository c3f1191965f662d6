//! The bench's data: item ids, partition keys and seeded JSON bodies, the seeded generator that
//! picks keys, and the Zipf sampler. Pure and deterministic (same seed, same items), so Strata
//! and every peer see the same sequence. It must not do I/O or time anything.

use serde_json::{json, Value};

use super::{GROUPS, PARTITIONS, SEED};

pub(super) fn id(n: usize) -> String {
    format!("it-{n:09}")
}

pub(super) fn pk(n: usize) -> String {
    format!("p-{:03}", n % PARTITIONS)
}

/// An item of about `size` bytes of JSON; `version` changes its body on replace.
pub(super) fn item(n: usize, size: usize, version: usize) -> Value {
    let mut v = json!({
        "id": id(n),
        "pk": pk(n),
        "n": n,
        "grp": n % GROUPS,
        "tenth": n / 10,
        "version": version,
        "pad": "",
    });
    let base = v.to_string().len();
    v["pad"] = json!(pad(n, version, size.saturating_sub(base)));
    v
}

/// `len` pseudo-random letters and digits (seeded by the item), so the body does not compress
/// away and bytes on disk stay comparable to real data.
fn pad(n: usize, version: usize, len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
    let mut rng = Rng::new(SEED ^ ((n as u64) << 16) ^ version as u64);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut bits = rng.next();
        for _ in 0..10 {
            if out.len() == len {
                break;
            }
            out.push(ALPHABET[(bits & 63) as usize] as char);
            bits >>= 6;
        }
    }
    out
}

/// Spreads zipf ranks over the key space so the hot items are not neighbours.
pub(super) fn scatter(rank: usize, n: usize) -> usize {
    ((rank as u128 * 2_654_435_761u128) % n as u128) as usize
}

/// splitmix64: a small seeded generator, enough to pick keys.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf(s) over ranks 0..n by inverse CDF (binary search over the cumulative weights).
pub(super) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub(super) fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=n.max(1))
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect();
        for c in cdf.iter_mut() {
            *c /= acc;
        }
        Zipf { cdf }
    }

    pub(super) fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_prefers_low_ranks_and_stays_in_range() {
        let z = Zipf::new(1000, super::super::ZIPF_S);
        let mut rng = Rng::new(7);
        let draws: Vec<usize> = (0..10_000).map(|_| z.sample(&mut rng)).collect();
        assert!(draws.iter().all(|d| *d < 1000));
        let low = draws.iter().filter(|d| **d < 10).count();
        let high = draws.iter().filter(|d| (990..1000).contains(*d)).count();
        assert!(low > high * 10, "low {low} high {high}");
    }

    #[test]
    fn items_have_about_the_requested_size() {
        assert_eq!(item(42, 1024, 0).to_string().len(), 1024);
        assert!(item(42, 10, 0).to_string().len() < 200);
    }
}
