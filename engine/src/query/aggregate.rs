//! Aggregates (COUNT, SUM, AVG, MIN, MAX) over the values of one group. Undefined values are
//! skipped; SUM and AVG of anything but numbers are undefined; MIN and MAX use the cross-type
//! order over scalars. Pure.

use serde_json::Value;

use super::value::{number, order, Val};

pub(crate) fn is_aggregate(name: &str) -> bool {
    matches!(name, "COUNT" | "SUM" | "AVG" | "MIN" | "MAX")
}

/// The aggregate `name` of `values` (one per row of the group).
pub(crate) fn aggregate(name: &str, values: Vec<Val>) -> Val {
    let defined: Vec<Value> = values.into_iter().flatten().collect();
    match name {
        "COUNT" => Some(Value::from(defined.len())),
        "SUM" | "AVG" => {
            let mut sum_i: Option<i64> = Some(0);
            let mut sum_f = 0.0;
            for v in &defined {
                let Value::Number(n) = v else {
                    return None;
                };
                sum_i = match (sum_i, n.as_i64()) {
                    (Some(acc), Some(i)) => acc.checked_add(i),
                    _ => None,
                };
                sum_f += n.as_f64()?;
            }
            if name == "SUM" {
                return sum_i.map(Value::from).or_else(|| number(sum_f));
            }
            if defined.is_empty() {
                return None;
            }
            number(sum_f / defined.len() as f64)
        }
        _ => {
            if defined.iter().any(|v| v.is_array() || v.is_object()) {
                return None;
            }
            let it = defined.into_iter().map(Some);
            if name == "MIN" {
                it.min_by(order).flatten()
            } else {
                it.max_by(order).flatten()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agg(name: &str, v: &[Val]) -> Val {
        aggregate(name, v.to_vec())
    }

    #[test]
    fn table() {
        let nums = [Some(json!(1)), Some(json!(2.5)), None, Some(json!(3))];
        assert_eq!(agg("COUNT", &nums), Some(json!(3)));
        assert_eq!(agg("SUM", &nums), Some(json!(6.5)));
        assert_eq!(agg("SUM", &[Some(json!(1)), Some(json!(2))]), Some(json!(3)));
        assert_eq!(agg("AVG", &[Some(json!(1)), Some(json!(2))]), Some(json!(1.5)));
        assert_eq!(agg("AVG", &[]), None);
        assert_eq!(agg("SUM", &[]), Some(json!(0)));
        assert_eq!(agg("SUM", &[Some(json!(1)), Some(json!("x"))]), None);
        assert_eq!(
            agg("MIN", &[Some(json!("a")), Some(json!(5)), Some(json!(null))]),
            Some(json!(null))
        );
        assert_eq!(agg("MAX", &[Some(json!("a")), Some(json!(5))]), Some(json!("a")));
        assert_eq!(agg("MAX", &[]), None);
        assert_eq!(agg("MAX", &[Some(json!([1]))]), None);
        assert_eq!(
            agg("SUM", &[Some(json!(i64::MAX)), Some(json!(1))]),
            Some(json!(9.223372036854776e18))
        );
    }
}
