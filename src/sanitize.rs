//! Neutralising untrusted text (server error bodies, labels) before it reaches a terminal or a
//! stored field: an error message from a provider could carry escape sequences that rewrite the
//! operator's screen, or newlines that forge extra trace lines.

/// Returns `text` on one line with at most `max_chars` characters: ANSI escape sequences and
/// other control or bidi-override characters are removed, runs of whitespace become one space,
/// and a cut is marked with `…` (which counts toward the limit).
pub fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut chars = text.chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            skip_escape_sequence(&mut chars);
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = true;
            continue;
        }
        if is_format_override(c) {
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    truncate_chars(out, max_chars)
}

/// What replaces a secret found in text from a server.
pub const REDACTED: &str = "[redacted]";

/// Replaces every occurrence of each of `secrets` in `text` with `[redacted]`. Secrets shorter
/// than 6 characters are ignored: they would match ordinary words, and are no real secrets.
/// Longer secrets go first, so one that contains another is replaced whole.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.chars().count() >= 6)
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in secrets {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    out
}

/// Skips the rest of an escape sequence whose ESC was just read: CSI (`ESC [ … final`), OSC
/// (`ESC ] … BEL` or `ESC \`), or a two-character escape.
fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            // Parameters and intermediates are 0x20..=0x3f; the final byte is 0x40..=0x7e.
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    chars.next_if_eq(&'\\');
                    break;
                }
            }
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// Bidi overrides and zero-width characters can make a terminal show text other than what is
/// there (e.g. a label that looks like another one).
fn is_format_override(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn truncate_chars(text: String, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text;
    }
    let keep = max_chars.saturating_sub(1);
    let mut cut: String = text.chars().take(keep).collect();
    cut.truncate(cut.trim_end().len());
    if max_chars > 0 {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_escapes() {
        assert_eq!(one_line("a\x1b[31mred\x1b[0m b", 100), "ared b");
        assert_eq!(one_line("title\x1b]0;pwned\x07 ok", 100), "title ok");
        assert_eq!(one_line("line1\r\nline2\tx\u{0}y", 100), "line1 line2 x y");
        assert_eq!(one_line("  lead  and trail  ", 100), "lead and trail");
        assert_eq!(one_line("evil\u{202e}txt", 100), "eviltxt");
        assert_eq!(one_line("\x1b", 100), "");
    }

    #[test]
    fn redacts_secrets_longest_first() {
        let text = r#"{"error":{"message":"bad token tok-abcdef-123 for me@x.io (tok-abcdef)"}}"#;
        assert_eq!(
            redact(text, &["tok-abcdef", "tok-abcdef-123", "me@x.io", "ab"]),
            r#"{"error":{"message":"bad token [redacted] for [redacted] ([redacted])"}}"#
        );
        assert_eq!(redact("nothing here", &["secret-value"]), "nothing here");
    }

    #[test]
    fn cuts_on_char_boundaries_and_marks_the_cut() {
        assert_eq!(one_line("abcdef", 6), "abcdef");
        assert_eq!(one_line("abcdefg", 6), "abcde…");
        assert_eq!(one_line("ééééééé", 4).chars().count(), 4);
        assert_eq!(one_line("ab cdef", 4), "ab…");
        let long = "x".repeat(1000);
        assert_eq!(one_line(&long, 200).chars().count(), 200);
    }
}
