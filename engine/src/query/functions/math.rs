//! Math functions. Integer inputs stay integers where the result is exact (`ABS`, `FLOOR`,
//! `CEILING`, `ROUND`, `TRUNC`, `SIGN`, `SQUARE` and `POWER` while they fit in 64 bits); the rest
//! compute in f64, and a result that is not finite (`SQRT(-1)`, `LOG(0)`, `COT(0)`) is undefined.
//! A non-number argument gives undefined. Pure, except `RAND`.

use serde_json::Value;

use super::{arg, as_integer};
use crate::query::value::{number, Val};

pub(super) fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "ABS" | "CEILING" | "FLOOR" | "ROUND" | "TRUNC" | "SIGN" | "EXP" | "LOG10" | "SQRT" | "SQUARE"
        | "SIN" | "COS" | "TAN" | "COT" | "ASIN" | "ACOS" | "ATAN" | "DEGREES" | "RADIANS" => (1, 1),
        "LOG" | "NUMBERBIN" => (1, 2),
        "POWER" | "ATN2" => (2, 2),
        "PI" | "RAND" => (0, 0),
        _ => return None,
    })
}

fn float(args: &[Val], i: usize) -> Option<f64> {
    match arg(args, i) {
        Some(Value::Number(n)) => n.as_f64(),
        _ => None,
    }
}

/// An exact integer argument (not an integral float: those take the float path, which gives the
/// same value).
fn exact(args: &[Val], i: usize) -> Option<i64> {
    arg(args, i).and_then(Value::as_i64)
}

pub(super) fn call(name: &str, args: &[Val]) -> Option<Val> {
    if let Some(i) = exact(args, 0) {
        if let Some(v) = integer(name, i, args) {
            return Some(v);
        }
    }
    let x = || float(args, 0);
    Some(match name {
        "ABS" => x().and_then(|f| number(f.abs())),
        "CEILING" => x().and_then(|f| number(f.ceil())),
        "FLOOR" => x().and_then(|f| number(f.floor())),
        // Halves away from zero.
        "ROUND" => x().and_then(|f| number(f.round())),
        "TRUNC" => x().and_then(|f| number(f.trunc())),
        "SIGN" => x().and_then(|f| {
            number(if f > 0.0 {
                1.0
            } else if f < 0.0 {
                -1.0
            } else {
                0.0
            })
        }),
        "EXP" => x().and_then(|f| number(f.exp())),
        "LOG" => match args.get(1) {
            None => x().and_then(|f| number(f.ln())),
            Some(_) => x().zip(float(args, 1)).and_then(|(f, b)| number(f.log(b))),
        },
        "LOG10" => x().and_then(|f| number(f.log10())),
        "SQRT" => x().and_then(|f| number(f.sqrt())),
        "SQUARE" => x().and_then(|f| number(f * f)),
        "POWER" => x().zip(float(args, 1)).and_then(|(b, e)| number(b.powf(e))),
        "SIN" => x().and_then(|f| number(f.sin())),
        "COS" => x().and_then(|f| number(f.cos())),
        "TAN" => x().and_then(|f| number(f.tan())),
        "COT" => x().and_then(|f| number(1.0 / f.tan())),
        "ASIN" => x().and_then(|f| number(f.asin())),
        "ACOS" => x().and_then(|f| number(f.acos())),
        "ATAN" => x().and_then(|f| number(f.atan())),
        // ATN2(y, x), as the service documents it.
        "ATN2" => x().zip(float(args, 1)).and_then(|(y, x)| number(y.atan2(x))),
        "DEGREES" => x().and_then(|f| number(f.to_degrees())),
        "RADIANS" => x().and_then(|f| number(f.to_radians())),
        "PI" => number(std::f64::consts::PI),
        "RAND" => number(rand::random::<f64>()),
        "NUMBERBIN" => {
            let size = match args.get(1) {
                None => 1.0,
                Some(_) => float(args, 1)?,
            };
            if size == 0.0 {
                return Some(None);
            }
            x().and_then(|f| number((f / size).floor() * size))
        }
        _ => return None,
    })
}

/// Exact integer results for an integer first argument; `None` to take the float path.
fn integer(name: &str, i: i64, args: &[Val]) -> Option<Val> {
    let v = match name {
        "ABS" => i.checked_abs()?,
        "CEILING" | "FLOOR" | "ROUND" | "TRUNC" => i,
        "SIGN" => i.signum(),
        "SQUARE" => i.checked_mul(i)?,
        "POWER" => {
            let e = u32::try_from(args.get(1).and_then(as_integer)?).ok()?;
            i.checked_pow(e)?
        }
        "NUMBERBIN" => {
            let size = match args.get(1) {
                None => 1,
                Some(v) => as_integer(v)?,
            };
            if size == 0 {
                return Some(None);
            }
            // Floor division (toward negative infinity), as the float path's floor.
            let q = i.checked_div(size)?;
            let q = if i % size != 0 && ((i < 0) != (size < 0)) {
                q - 1
            } else {
                q
            };
            q.checked_mul(size)?
        }
        _ => return None,
    };
    Some(Some(Value::from(v)))
}
