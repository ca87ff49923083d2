//! What the CLI prints is read on a terminal, and much of it comes from someone else: a license's
//! signed claims (`sub`, `org_name`, feature names, `kid`), a catalog or overrides file, a key
//! list. A signature proves who wrote a value, not that it is harmless text: an ESC sequence, a
//! carriage return or a bidirectional override in `org_name` could clear a line and draw a fake
//! `valid: yes` over the real verdict. So every byte of output goes through [`escape`] (values)
//! or [`escape_lines`] (whole documents) in one place, `super::finish` and `super::line`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every character that can act on a terminal written as a JSON escape, in JSON's
/// spelling (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u001b`): the C0 controls and DEL, the C1
/// controls U+0080–U+009F (U+009B is a one-character CSI on some terminals), the bidirectional
/// controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, which reorder what follows
/// them on the line) and the line and paragraph separators U+2028 and U+2029. Other text,
/// non-ASCII letters included, is kept as it is.
///
/// Backslashes are kept too: escaping twice changes nothing, and applied inside a JSON string (as
/// to `inspect`'s and `--json`'s documents) the result is valid JSON for the same string.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if acts_on_terminal(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A multi-line document (a report, pretty-printed JSON) with each line passed through
/// [`escape`]: its own line breaks stay, nothing else that acts on a terminal does.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && acts_on_terminal(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(escape).collect::<Vec<_>>().join("\n"))
}

/// Whether `c` is one of the characters [`escape`] writes as an escape.
fn acts_on_terminal(c: char) -> bool {
    // `is_control` is Unicode's Cc: U+0000–U+001F and U+007F–U+009F.
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_written_as_json_escapes() {
        assert_eq!(
            escape("Acme\u{1b}[2K\r\nvalid:\tyes\u{7}\u{7f}\u{8}\u{c}\0"),
            "Acme\\u001b[2K\\r\\nvalid:\\tyes\\u0007\\u007f\\b\\f\\u0000"
        );
    }

    #[test]
    fn c1_bidi_and_separator_characters_are_escaped() {
        assert_eq!(
            escape("a\u{9b}31m\u{85}b\u{202e}c\u{2066}d\u{2069}\u{200f}\u{61c}\u{2028}\u{2029}"),
            "a\\u009b31m\\u0085b\\u202ec\\u2066d\\u2069\\u200f\\u061c\\u2028\\u2029"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in [
            "org_acme",
            "Société Générale 株式会社",
            "C:\\path",
            "\\u001b",
            "",
        ] {
            assert!(
                matches!(escape(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = escape("x\u{1b}]0;title\u{7}\u{202e}y\\n");
        assert_eq!(escape(&once), once);
    }

    #[test]
    fn a_document_keeps_its_own_line_breaks_only() {
        assert_eq!(
            escape_lines("valid: no\norg: a\rvalid: yes\u{1b}[K\n"),
            "valid: no\norg: a\\rvalid: yes\\u001b[K\n"
        );
    }

    #[test]
    fn escaped_json_reads_back_as_the_same_string() {
        let value = serde_json::json!({"org_name": "a\u{9b}b\u{202e}c\u{1b}d\n"});
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
        let shown = escape_lines(&pretty);
        assert!(!shown.contains('\u{9b}') && !shown.contains('\u{202e}'));
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap_or_default();
        assert_eq!(back, value);
    }
}
