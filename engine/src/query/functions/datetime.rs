//! Date and time functions over the dialect's date-time strings, ISO 8601 in UTC
//! (`YYYY-MM-DDThh:mm:ss.fffffffZ`, years 0001 to 9999; input may carry 0 to 9 fraction digits and
//! a UTC offset, output always has seven), ticks (100 ns units since the Unix epoch) and
//! timestamps (milliseconds since it). Calendar arithmetic is chrono's. Anything malformed, out of
//! range or of the wrong type gives undefined. Pure: the GetCurrent* functions read the query's
//! one "now", handed in.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde_json::Value;

use super::{int, text};
use crate::query::value::Val;

const TICKS_PER_SECOND: i64 = 10_000_000;
const TICKS_PER_DAY: i64 = 86_400 * TICKS_PER_SECOND;

pub(super) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "DATETIMEADD" => (3, 3),
        "DATETIMEDIFF" => (3, 3),
        "DATETIMEPART" => (2, 2),
        "DATETIMEFROMPARTS" => (3, 7),
        "DATETIMEBIN" => (2, 4),
        "DATETIMETOTICKS" | "DATETIMETOTIMESTAMP" | "TICKSTODATETIME" | "TIMESTAMPTODATETIME" => (1, 1),
        "GETCURRENTDATETIME" | "GETCURRENTTIMESTAMP" | "GETCURRENTTICKS" => (0, 0),
        _ => return None,
    })
}

/// A date-time part, named as the service names it (full name or abbreviation, any case).
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

impl Part {
    fn parse(s: &str) -> Option<Part> {
        Some(match s.to_ascii_lowercase().as_str() {
            "year" | "yyyy" | "yy" => Part::Year,
            "month" | "mm" | "m" => Part::Month,
            "day" | "dd" | "d" => Part::Day,
            "hour" | "hh" => Part::Hour,
            "minute" | "mi" | "n" => Part::Minute,
            "second" | "ss" | "s" => Part::Second,
            "millisecond" | "ms" => Part::Millisecond,
            "microsecond" | "mcs" => Part::Microsecond,
            "nanosecond" | "ns" => Part::Nanosecond,
            _ => return None,
        })
    }

    /// Ticks in one unit of a fixed-length part; `None` for months and years.
    fn ticks(self) -> Option<i64> {
        Some(match self {
            Part::Day => TICKS_PER_DAY,
            Part::Hour => 3_600 * TICKS_PER_SECOND,
            Part::Minute => 60 * TICKS_PER_SECOND,
            Part::Second => TICKS_PER_SECOND,
            Part::Millisecond => 10_000,
            Part::Microsecond => 10,
            // A nanosecond is a hundredth of a tick: not a whole number of ticks.
            Part::Nanosecond | Part::Month | Part::Year => return None,
        })
    }
}

fn part(args: &[Val], i: usize) -> Option<Part> {
    Part::parse(text(args, i)?)
}

pub(super) fn call(name: &str, args: &[Val]) -> Option<Val> {
    Some(match name {
        "DATETIMEADD" => part(args, 0)
            .zip(int(args, 1))
            .zip(datetime(args, 2))
            .and_then(|((p, n), t)| add(t, p, n))
            .and_then(format),
        "DATETIMEDIFF" => part(args, 0)
            .zip(datetime(args, 1).zip(datetime(args, 2)))
            .and_then(|(p, (a, b))| diff(p, a, b))
            .map(Value::from),
        "DATETIMEPART" => part(args, 0)
            .zip(datetime(args, 1))
            .map(|(p, t)| Value::from(get(p, t))),
        "DATETIMEFROMPARTS" => from_parts(args).and_then(format),
        "DATETIMEBIN" => bin(args).and_then(format),
        "DATETIMETOTICKS" => datetime(args, 0).and_then(ticks).map(Value::from),
        "DATETIMETOTIMESTAMP" => datetime(args, 0)
            .and_then(ticks)
            .map(|t| Value::from(t.div_euclid(10_000))),
        "TICKSTODATETIME" => int(args, 0).and_then(from_ticks).and_then(format),
        "TIMESTAMPTODATETIME" => int(args, 0)
            .and_then(|ms| ms.checked_mul(10_000))
            .and_then(from_ticks)
            .and_then(format),
        _ => return None,
    })
}

/// The GetCurrent* functions at `now` (ticks since the Unix epoch; one value per query).
pub(super) fn current(name: &str, now: i64) -> Option<Val> {
    Some(match name {
        "GETCURRENTDATETIME" => from_ticks(now).and_then(format),
        "GETCURRENTTIMESTAMP" => Some(Value::from(now.div_euclid(10_000))),
        "GETCURRENTTICKS" => Some(Value::from(now)),
        _ => return None,
    })
}

/// The `i`-th argument as a date-time (RFC 3339, converted to UTC), within years 1 to 9999.
fn datetime(args: &[Val], i: usize) -> Option<NaiveDateTime> {
    let t = DateTime::parse_from_rfc3339(text(args, i)?).ok()?.naive_utc();
    in_range(t)
}

fn in_range(t: NaiveDateTime) -> Option<NaiveDateTime> {
    (1..=9999).contains(&t.year()).then_some(t)
}

/// `YYYY-MM-DDThh:mm:ss.fffffffZ`: seven fraction digits (ticks), as the service writes them.
fn format(t: NaiveDateTime) -> Option<Value> {
    let t = in_range(t)?;
    let fraction = t.nanosecond() % 1_000_000_000 / 100;
    Some(Value::String(format!(
        "{}.{fraction:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S")
    )))
}

/// Ticks since the Unix epoch, truncated to whole ticks.
fn ticks(t: NaiveDateTime) -> Option<i64> {
    let u = t.and_utc();
    u.timestamp()
        .checked_mul(TICKS_PER_SECOND)?
        .checked_add(i64::from(u.timestamp_subsec_nanos() / 100))
}

fn from_ticks(ticks: i64) -> Option<NaiveDateTime> {
    let secs = ticks.div_euclid(TICKS_PER_SECOND);
    let nanos = u32::try_from(ticks.rem_euclid(TICKS_PER_SECOND) * 100).ok()?;
    in_range(DateTime::<Utc>::from_timestamp(secs, nanos)?.naive_utc())
}

/// Truncated to whole ticks (input may have nanoseconds).
fn whole_ticks(t: NaiveDateTime) -> Option<NaiveDateTime> {
    from_ticks(ticks(t)?)
}

fn add(t: NaiveDateTime, p: Part, n: i64) -> Option<NaiveDateTime> {
    let t = whole_ticks(t)?;
    let months = |m: i64| -> Option<NaiveDateTime> {
        let abs = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
        if m >= 0 {
            t.checked_add_months(abs)
        } else {
            t.checked_sub_months(abs)
        }
    };
    match p {
        Part::Year => months(n.checked_mul(12)?),
        Part::Month => months(n),
        // Nanoseconds below a tick are dropped (a date-time holds whole ticks).
        Part::Nanosecond => from_ticks(ticks(t)?.checked_add(n / 100)?),
        _ => {
            let delta = n.checked_mul(p.ticks()?)?;
            from_ticks(ticks(t)?.checked_add(delta)?)
        }
    }
}

/// How many `p` boundaries lie between `a` and `b` (negative when `b` is earlier).
fn diff(p: Part, a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    let (ta, tb) = (ticks(a)?, ticks(b)?);
    Some(match p {
        Part::Year => i64::from(b.year() - a.year()),
        Part::Month => i64::from((b.year() - a.year()) * 12) + i64::from(b.month()) - i64::from(a.month()),
        Part::Nanosecond => tb.checked_sub(ta)?.checked_mul(100)?,
        _ => {
            let unit = p.ticks()?;
            tb.div_euclid(unit) - ta.div_euclid(unit)
        }
    })
}

fn get(p: Part, t: NaiveDateTime) -> i64 {
    let sub_ticks = i64::from(t.nanosecond() % 1_000_000_000 / 100);
    match p {
        Part::Year => i64::from(t.year()),
        Part::Month => i64::from(t.month()),
        Part::Day => i64::from(t.day()),
        Part::Hour => i64::from(t.hour()),
        Part::Minute => i64::from(t.minute()),
        Part::Second => i64::from(t.second()),
        Part::Millisecond => sub_ticks / 10_000,
        Part::Microsecond => sub_ticks / 10,
        Part::Nanosecond => sub_ticks * 100,
    }
}

/// `DateTimeFromParts(year, month, day [, hour [, minute [, second [, ticks]]]])`.
fn from_parts(args: &[Val]) -> Option<NaiveDateTime> {
    let field = |i: usize| -> Option<u32> {
        if i >= args.len() {
            return Some(0);
        }
        u32::try_from(int(args, i)?).ok()
    };
    let year = i32::try_from(int(args, 0)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, field(1)?, field(2)?)?;
    let fraction = field(6)?;
    if fraction >= 10_000_000 {
        return None;
    }
    in_range(date.and_hms_nano_opt(field(3)?, field(4)?, field(5)?, fraction * 100)?)
}

/// `DateTimeBin(datetime, part [, size [, origin]])`: rounded down to a multiple of `size` parts
/// counted from `origin` (default the Unix epoch). Fixed-length parts only (day and smaller).
fn bin(args: &[Val]) -> Option<NaiveDateTime> {
    let t = ticks(datetime(args, 0)?)?;
    let unit = part(args, 1)?.ticks()?;
    let size = match args.get(2) {
        None => 1,
        Some(_) => int(args, 2)?,
    };
    if size <= 0 {
        return None;
    }
    let origin = match args.get(3) {
        None => 0,
        Some(_) => ticks(datetime(args, 3)?)?,
    };
    let width = unit.checked_mul(size)?;
    let since = t.checked_sub(origin)?;
    from_ticks(origin.checked_add(since.div_euclid(width).checked_mul(width)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_ticks_round_trip() {
        let t = DateTime::parse_from_rfc3339("2020-05-29T08:30:00.1234567Z")
            .unwrap()
            .naive_utc();
        assert_eq!(ticks(t), Some(15_907_410_001_234_567));
        assert_eq!(
            format(from_ticks(15_907_410_001_234_567).unwrap()),
            Some(Value::from("2020-05-29T08:30:00.1234567Z"))
        );
        assert_eq!(from_ticks(-1).map(|t| t.year()), Some(1969));
        assert_eq!(from_ticks(i64::MAX), None);
    }
}
