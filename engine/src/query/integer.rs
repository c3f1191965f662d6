//! Integer semantics of the dialect: the bitwise operators (`& | ^ ~ << >> >>>`) work on 32-bit
//! integers as JavaScript's do (each operand converted with ToInt32, shift counts taken mod 32,
//! `>>>` unsigned), and the `Int*` functions on 64-bit integers with C++-style wrap-around.
//! Operands that are not numbers (or, for `Int*`, not integers) give undefined. Pure.

use serde_json::{Number, Value};

use super::ast::BinOp;
use super::value::Val;

/// 2^32, the modulus of JavaScript's ToInt32.
const TWO_32: f64 = 4_294_967_296.0;

/// JavaScript's ToInt32 of a number: integers wrap mod 2^32 exactly; a float is truncated toward
/// zero first, and NaN and the infinities (which JSON cannot hold anyway) are 0.
fn to_int32(n: &Number) -> i32 {
    if let Some(i) = n.as_i64() {
        // Truncation to the low 32 bits is the wrap mod 2^32.
        return i as i32;
    }
    if let Some(u) = n.as_u64() {
        return u as u32 as i32;
    }
    let f = n.as_f64().unwrap_or(0.0);
    if !f.is_finite() {
        return 0;
    }
    // In [0, 2^32), so the casts are exact.
    f.trunc().rem_euclid(TWO_32) as u32 as i32
}

fn int32_operand(v: &Val) -> Option<i32> {
    match v {
        Some(Value::Number(n)) => Some(to_int32(n)),
        _ => None,
    }
}

/// `a op b` for a bitwise operator; undefined unless both are numbers.
pub(crate) fn bitwise(op: BinOp, a: &Val, b: &Val) -> Val {
    let (x, y) = (int32_operand(a)?, int32_operand(b)?);
    // Shift counts use the low five bits, as JavaScript's do.
    let n = (y as u32) & 31;
    let v: i64 = match op {
        BinOp::BitAnd => i64::from(x & y),
        BinOp::BitOr => i64::from(x | y),
        BinOp::BitXor => i64::from(x ^ y),
        BinOp::Shl => i64::from(x.wrapping_shl(n)),
        BinOp::Shr => i64::from(x >> n),
        BinOp::UShr => i64::from((x as u32) >> n),
        _ => return None,
    };
    Some(Value::from(v))
}

/// `~a`; undefined unless `a` is a number.
pub(crate) fn bit_not(a: &Val) -> Val {
    int32_operand(a).map(|x| Value::from(!x))
}

/// A value as a 64-bit integer: an integer number, or a float with an integral value in range
/// (`2.0` is the integer 2, as `2 = 2.0`); anything else is not one.
pub(crate) fn as_int64(v: &Val) -> Option<i64> {
    let Some(Value::Number(n)) = v else {
        return None;
    };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // -2^63 converts exactly; 2^63 is the first value out of range.
    let min = i64::MIN as f64;
    let in_range = (min..-min).contains(&f);
    // Integral and in range, so the cast is exact.
    (f.fract() == 0.0 && in_range).then_some(f as i64)
}

/// The `Int*` functions (`INTADD`, ..., upper-cased); `None` for another name.
pub(crate) fn int_function(name: &str, args: &[Val]) -> Option<Val> {
    let arg = |i: usize| args.get(i).and_then(as_int64);
    let result = match name {
        "INTBITNOT" => arg(0).map(|a| !a),
        "INTADD" | "INTSUB" | "INTMUL" | "INTDIV" | "INTMOD" | "INTBITAND" | "INTBITOR" | "INTBITXOR"
        | "INTBITLEFTSHIFT" | "INTBITRIGHTSHIFT" => arg(0).zip(arg(1)).and_then(|(a, b)| {
            // Shift counts use the low six bits, as the hardware does.
            let n = (b & 63) as u32;
            match name {
                "INTADD" => Some(a.wrapping_add(b)),
                "INTSUB" => Some(a.wrapping_sub(b)),
                "INTMUL" => Some(a.wrapping_mul(b)),
                // Division by zero is undefined; i64::MIN / -1 wraps to i64::MIN.
                "INTDIV" => (b != 0).then(|| a.wrapping_div(b)),
                "INTMOD" => (b != 0).then(|| a.wrapping_rem(b)),
                "INTBITAND" => Some(a & b),
                "INTBITOR" => Some(a | b),
                "INTBITXOR" => Some(a ^ b),
                "INTBITLEFTSHIFT" => Some(a.wrapping_shl(n)),
                _ => Some(a.wrapping_shr(n)),
            }
        }),
        _ => return None,
    };
    Some(result.map(Value::from))
}

/// The `Int*` function names with their argument counts.
pub(crate) fn int_arity(name: &str) -> Option<(usize, usize)> {
    match name {
        "INTBITNOT" => Some((1, 1)),
        "INTADD" | "INTSUB" | "INTMUL" | "INTDIV" | "INTMOD" | "INTBITAND" | "INTBITOR" | "INTBITXOR"
        | "INTBITLEFTSHIFT" | "INTBITRIGHTSHIFT" => Some((2, 2)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bw(op: BinOp, a: Value, b: Value) -> Val {
        bitwise(op, &Some(a), &Some(b))
    }

    #[test]
    fn bitwise_like_javascript() {
        // The managed service's documented example.
        assert_eq!(bw(BinOp::Shr, json!(100), json!(2)), Some(json!(25)));
        assert_eq!(bw(BinOp::Shl, json!(100), json!(2)), Some(json!(400)));
        assert_eq!(bw(BinOp::UShr, json!(100), json!(0)), Some(json!(100)));
        assert_eq!(bw(BinOp::BitAnd, json!(100), json!(1000)), Some(json!(96)));
        assert_eq!(bw(BinOp::BitOr, json!(100), json!(1000)), Some(json!(1004)));
        assert_eq!(bw(BinOp::BitXor, json!(100), json!(1000)), Some(json!(908)));
        // 32-bit: -1 >>> 0 is 2^32 - 1; 1 << 31 is negative; shift counts mod 32.
        assert_eq!(
            bw(BinOp::UShr, json!(-1), json!(0)),
            Some(json!(4_294_967_295u32))
        );
        assert_eq!(bw(BinOp::UShr, json!(-16), json!(28)), Some(json!(15)));
        assert_eq!(bw(BinOp::Shr, json!(-16), json!(2)), Some(json!(-4)));
        assert_eq!(
            bw(BinOp::Shl, json!(1), json!(31)),
            Some(json!(-2_147_483_648i64))
        );
        assert_eq!(bw(BinOp::Shl, json!(1), json!(33)), Some(json!(2)));
        // ToInt32: 2^32 + 5 wraps to 5; floats truncate toward zero.
        assert_eq!(
            bw(BinOp::BitOr, json!(4_294_967_301u64), json!(0)),
            Some(json!(5))
        );
        assert_eq!(bw(BinOp::BitOr, json!(-5.7), json!(0)), Some(json!(-5)));
        assert_eq!(
            bw(BinOp::BitOr, json!(3e9), json!(0)),
            Some(json!(-1_294_967_296i64))
        );
        assert_eq!(bw(BinOp::BitAnd, json!("1"), json!(1)), None);
        assert_eq!(bitwise(BinOp::BitAnd, &None, &Some(json!(1))), None);
        assert_eq!(bit_not(&Some(json!(5))), Some(json!(-6)));
        assert_eq!(bit_not(&Some(json!(true))), None);
    }

    #[test]
    fn int_functions_wrap_at_64_bits() {
        let f = |name: &str, args: &[Value]| {
            let args: Vec<Val> = args.iter().cloned().map(Some).collect();
            int_function(name, &args).unwrap()
        };
        assert_eq!(f("INTADD", &[json!(i64::MAX), json!(1)]), Some(json!(i64::MIN)));
        assert_eq!(f("INTSUB", &[json!(1), json!(3)]), Some(json!(-2)));
        assert_eq!(f("INTMUL", &[json!(4), json!(2.0)]), Some(json!(8)));
        assert_eq!(f("INTDIV", &[json!(10), json!(-2)]), Some(json!(-5)));
        assert_eq!(f("INTDIV", &[json!(-7), json!(2)]), Some(json!(-3)));
        assert_eq!(f("INTDIV", &[json!(10), json!(0)]), None);
        assert_eq!(f("INTDIV", &[json!(10), json!(0.1)]), None);
        assert_eq!(f("INTDIV", &[json!(i64::MIN), json!(-1)]), Some(json!(i64::MIN)));
        assert_eq!(f("INTMOD", &[json!(12), json!(-5)]), Some(json!(2)));
        assert_eq!(f("INTMOD", &[json!(-12), json!(-5)]), Some(json!(-2)));
        assert_eq!(f("INTMOD", &[json!(12), json!(0)]), None);
        assert_eq!(f("INTBITNOT", &[json!(0)]), Some(json!(-1)));
        assert_eq!(
            f("INTBITLEFTSHIFT", &[json!(1), json!(62)]),
            Some(json!(1i64 << 62))
        );
        assert_eq!(f("INTBITRIGHTSHIFT", &[json!(-8), json!(1)]), Some(json!(-4)));
        assert_eq!(f("INTBITAND", &[json!(12), json!(10)]), Some(json!(8)));
        assert_eq!(f("INTBITOR", &[json!(12), json!(10)]), Some(json!(14)));
        assert_eq!(f("INTBITXOR", &[json!(12), json!(10)]), Some(json!(6)));
        assert_eq!(f("INTADD", &[json!(u64::MAX), json!(1)]), None);
        assert_eq!(f("INTADD", &[json!("1"), json!(1)]), None);
        assert_eq!(int_function("NOPE", &[]), None);
    }
}
