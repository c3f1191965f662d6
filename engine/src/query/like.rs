//! `LIKE` patterns: `%` (any run of characters), `_` (one character), `[abc]`, `[a-f]` and
//! `[^...]` (one character in / not in a set), an optional ESCAPE character that makes the next
//! character literal, and `[%]`-style brackets as the other way to write a wildcard literally.
//! Case-sensitive, by Unicode scalar values. Matching is iterative (the classic wildcard walk
//! that backtracks only to the last `%`), so a hostile pattern costs O(text × pattern) time and
//! no recursion. Pure.

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq)]
enum Elem {
    /// `%`
    AnyRun,
    /// `_`
    AnyOne,
    Lit(char),
    /// `[...]`: ranges (a single character is a range of one), negated for `[^...]`.
    Set {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
}

impl Elem {
    fn matches(&self, c: char) -> bool {
        match self {
            Elem::AnyRun | Elem::AnyOne => true,
            Elem::Lit(l) => *l == c,
            Elem::Set { ranges, negated } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pattern(Vec<Elem>);

impl Pattern {
    /// Compiles `pattern`; `None` when the escape character ends the pattern (it escapes nothing),
    /// which makes the LIKE undefined.
    pub(crate) fn compile(pattern: &str, escape: Option<char>) -> Option<Pattern> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            if Some(c) == escape {
                out.push(Elem::Lit(*chars.get(i)?));
                i += 1;
                continue;
            }
            match c {
                '%' => {
                    // Runs of `%` are one `%`.
                    if out.last() != Some(&Elem::AnyRun) {
                        out.push(Elem::AnyRun);
                    }
                }
                '_' => out.push(Elem::AnyOne),
                '[' => match bracket(&chars, i) {
                    Some((set, next)) => {
                        out.push(set);
                        i = next;
                    }
                    // No closing `]`: the `[` is itself.
                    None => out.push(Elem::Lit('[')),
                },
                other => out.push(Elem::Lit(other)),
            }
        }
        Some(Pattern(out))
    }

    /// The literal text every match starts with, and whether the pattern is nothing but that
    /// text (so it matches exactly one string). The planner turns it into an index lookup.
    pub(crate) fn literal_prefix(&self) -> (String, bool) {
        let prefix: String = self
            .0
            .iter()
            .map_while(|e| match e {
                Elem::Lit(c) => Some(*c),
                _ => None,
            })
            .collect();
        let literal = prefix.chars().count() == self.0.len();
        (prefix, literal)
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let pat = &self.0;
        let (mut t, mut p) = (0usize, 0usize);
        // The last `%` seen (its pattern index) and the text position it is tried from.
        let mut star: Option<(usize, usize)> = None;
        loop {
            match (pat.get(p), text.get(t)) {
                (Some(Elem::AnyRun), _) => {
                    star = Some((p, t));
                    p += 1;
                }
                (Some(e), Some(&c)) if e.matches(c) => {
                    p += 1;
                    t += 1;
                }
                (None, None) => return true,
                _ => match star {
                    // Let the last `%` take one more character and try again from there.
                    Some((sp, st)) if st < text.len() => {
                        star = Some((sp, st + 1));
                        p = sp + 1;
                        t = st + 1;
                    }
                    _ => return false,
                },
            }
        }
    }
}

/// A bracket expression starting after its `[` at `start`: the set and the index after its `]`,
/// or `None` when there is no `]`. A `]` right after `[` or `[^` is a member, so `[]]` is `]`.
fn bracket(chars: &[char], start: usize) -> Option<(Elem, usize)> {
    let mut i = start;
    let negated = chars.get(i) == Some(&'^') && chars.get(i + 1).is_some();
    if negated {
        i += 1;
    }
    let first = i;
    let mut ranges = Vec::new();
    loop {
        let c = *chars.get(i)?;
        if c == ']' && i > first {
            return Some((Elem::Set { ranges, negated }, i + 1));
        }
        match (chars.get(i + 1), chars.get(i + 2)) {
            (Some('-'), Some(&hi)) if hi != ']' => {
                ranges.push((c, hi));
                i += 3;
            }
            _ => {
                ranges.push((c, c));
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn like(text: &str, pattern: &str, escape: Option<char>) -> Option<bool> {
        Pattern::compile(pattern, escape).map(|p| p.matches(text))
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str, Option<char>, Option<bool>)] = &[
            ("abc", "abc", None, Some(true)),
            ("abc", "ABC", None, Some(false)),
            ("abc", "a%", None, Some(true)),
            ("abc", "%c", None, Some(true)),
            ("abc", "%b%", None, Some(true)),
            ("abc", "%d%", None, Some(false)),
            ("", "%", None, Some(true)),
            ("", "_", None, Some(false)),
            ("abc", "a_c", None, Some(true)),
            ("abc", "a__", None, Some(true)),
            ("abc", "a___", None, Some(false)),
            ("héllo", "h_llo", None, Some(true)),
            ("aXb", "a[XYZ]b", None, Some(true)),
            ("aWb", "a[X-Z]b", None, Some(false)),
            ("aWb", "a[^X-Z]b", None, Some(true)),
            ("a-b", "a[x-]b", None, Some(true)),
            ("20-30%", "20-30[%]", None, Some(true)),
            ("20-301", "20-30[%]", None, Some(false)),
            ("_n", "[_]n", None, Some(true)),
            ("xn", "[_]n", None, Some(false)),
            ("[", "[[]", None, Some(true)),
            ("]", "]", None, Some(true)),
            ("]", "[]]", None, Some(true)),
            ("a[b", "a[b", None, Some(true)),
            ("costs 20%", "%20^%", Some('^'), Some(true)),
            ("costs 20x", "%20^%", Some('^'), Some(false)),
            ("a^b", "a^^b", Some('^'), Some(true)),
            ("abc", "abc^", Some('^'), None),
            (
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
                "%a%a%a%a%a%a%a%a%c",
                None,
                Some(false),
            ),
            ("mississippi", "%iss%ppi", None, Some(true)),
            ("ab", "a%%%b", None, Some(true)),
        ];
        for (text, pattern, escape, want) in cases {
            assert_eq!(like(text, pattern, *escape), *want, "{text:?} LIKE {pattern:?}");
        }
    }

    #[test]
    fn prefixes() {
        let p = |s: &str| Pattern::compile(s, Some('!')).unwrap().literal_prefix();
        assert_eq!(p("abc%"), ("abc".to_string(), false));
        assert_eq!(p("abc"), ("abc".to_string(), true));
        assert_eq!(p("ab_%"), ("ab".to_string(), false));
        assert_eq!(p("a!%b%"), ("a%b".to_string(), false));
        assert_eq!(p("a!%b"), ("a%b".to_string(), true));
        assert_eq!(p("%"), (String::new(), false));
        assert_eq!(p(""), (String::new(), true));
        assert_eq!(p("[a]%"), (String::new(), false));
    }
}
