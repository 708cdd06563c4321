//! Substring search and slicing that cannot panic. `str::find` with a `&str` pattern brings
//! core's two-way searcher into the page's module, and slicing a `str` at a computed index
//! its panic path (`slice_error_fail`, which formats the text with `Debug` and so pulls in
//! the Unicode printable tables): together about 8 KB of the module. Indexes here come from
//! searches for ASCII, so they fall on character boundaries; where one would not, a slice is
//! empty rather than a panic. The same for counting chars and joining strings, whose std
//! versions are large generic code.

/// The byte index of the first `needle` in `hay`.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    h.windows(n.len()).position(|w| w == n)
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// `s[from..to]`, or "" where that is not a slice of `s`.
pub fn slice(s: &str, from: usize, to: usize) -> &str {
    s.get(from..to).unwrap_or_default()
}

/// `s[from..]`, or "" where that is not a slice of `s`.
pub fn from(s: &str, from: usize) -> &str {
    s.get(from..).unwrap_or_default()
}

/// The number of chars in `s`: every byte that does not continue a UTF-8 sequence starts
/// one. (`chars().count()` inlines core's counter at each call: 146 bytes more for three.)
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|&b| b & 0xC0 != 0x80).count()
}

/// Appends `items` with `sep` between them (`[String]::join` is 1 KB of generic code).
pub fn push_joined(out: &mut String, items: &[String], sep: char) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(item);
    }
}

/// What comes before and after the first `sep` in `s`.
pub fn split_once<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let i = find(s, sep)?;
    Some((slice(s, 0, i), from(s, i + sep.len())))
}

/// What comes before and after the last ASCII byte `sep` in `s` (`str::rsplit_once` with a
/// `char` brings core's reverse char searcher along).
pub fn rsplit_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|b| b == sep)?;
    Some((slice(s, 0, i), from(s, i + 1)))
}

/// `s.splitn(n, sep)` for an ASCII `sep` and `n >= 1`, in a Vec: one function for the
/// splits of ARNs and regions, where each `split(..).collect()` stamped out core's char
/// searcher and a from_iter of its own.
pub fn split_n(s: &str, sep: u8, n: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while out.len() + 1 < n {
        let Some(i) = rest.bytes().position(|b| b == sep) else {
            break;
        };
        out.push(slice(rest, 0, i));
        rest = from(rest, i + 1);
    }
    out.push(rest);
    out
}

/// A decimal integer of ASCII digits only (no sign, no spaces), `None` past `u64::MAX`: one
/// parser for the status line, `Retry-After`, dates, numeric XML entities, page context and
/// `data-*` integers, where each `str::parse` type was a copy of core's. Core's also took a
/// leading `+`: no header or entity has one (delay-seconds is `1*DIGIT`, RFC 9110), and
/// an attribute such as `data-flush-interval-ms="+5"` is now refused as not a whole number.
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// [`parse_u64`] within `u32`.
pub fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|n| u32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_splits_like_str() {
        for (hay, needle) in [
            ("abc", "bc"),
            ("abc", ""),
            ("", "a"),
            ("aab", "ab"),
            ("é://x", "://"),
        ] {
            assert_eq!(find(hay, needle), hay.find(needle), "{hay} {needle}");
            assert_eq!(split_once(hay, needle), hay.split_once(needle));
        }
        assert_eq!(slice("é", 0, 1), "");
        assert_eq!(from("abc", 4), "");
        assert_eq!(slice("abc", 1, 2), "b");
        for s in [
            "",
            "abc",
            "é",
            "a☃b𝄞",
            "\u{0}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}",
        ] {
            assert_eq!(char_count(s), s.chars().count(), "{s}");
        }
        for hay in ["a#b#c", "#", "abc", "", "é#x"] {
            assert_eq!(rsplit_once(hay, b'#'), hay.rsplit_once('#'), "{hay}");
        }
    }

    #[test]
    fn parses_integers_like_str_without_a_sign() {
        for s in [
            "0",
            "7",
            "0042",
            "4294967295",
            "4294967296",
            "18446744073709551615",
        ] {
            assert_eq!(parse_u64(s), s.parse().ok(), "{s}");
            assert_eq!(parse_u32(s), s.parse().ok(), "{s}");
        }
        for s in [
            "",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1.0",
            "18446744073709551616",
            "١",
        ] {
            assert_eq!(parse_u64(s), None, "{s}");
        }
    }

    #[test]
    fn split_n_is_splitn() {
        for s in [
            "",
            "-",
            "a",
            "a-b",
            "-a-",
            "us-gov-west-1",
            "a--b---c",
            "é-ü-",
        ] {
            for n in [1, 2, 3, 6, usize::MAX] {
                let std: Vec<&str> = s.splitn(n, '-').collect();
                assert_eq!(split_n(s, b'-', n), std, "{s:?} {n}");
            }
        }
    }
}
