//! Small text helpers every report shares.

/// At most `max` characters, cut on a character boundary, with `…` when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `1 file`, `2 files`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Lowercase hex of bytes (digests, ids).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Whether content is binary as git judges it: a NUL in its first 8000 bytes.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0)
}

/// Removes terminal colour codes, which tools add even when piped if told to.
pub(crate) fn strip_ansi(text: &str) -> String {
    console::strip_ansi_codes(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        let long = "é".repeat(200);
        let cut_text = cut(&long, 140);
        assert_eq!(cut_text.chars().count(), 140);
        assert!(cut_text.ends_with('…'));
        assert_eq!(cut("short", 140), "short");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(0, "file"), "0 files");
    }

    #[test]
    fn colour_codes_go() {
        assert_eq!(strip_ansi("\x1b[1;31merror\x1b[0m: x"), "error: x");
    }
}
