//! Neutralising untrusted text (server error bodies, labels, provider names, streamed answers)
//! before it reaches a terminal, a log or a stored field: text from outside could carry escape
//! sequences that rewrite the operator's screen, newlines that forge extra trace lines,
//! invisible characters that make one name look like another, or a secret echoed back.
//!
//! - [`one_line`]: a bounded, single-line rendering for traces and messages;
//! - [`cell`]: the same for a table cell or a heading, keeping the text's length;
//! - [`Redactor::clean`]: decode, redact secrets and emails, then bound; the only way text from
//!   a server reaches an event, a trace or `last_error_*`;
//! - [`TerminalFilter`]: the streamed answer of `call` when stdout is a terminal.

mod redact;
mod terminal;

pub use redact::{RUN as REDACT_RUN, Redactor};
pub(crate) use terminal::TerminalFilter;

/// A URL as rotor shows it: scheme, host, port and path, without user info, query or
/// fragment (where tokens hide). Text that is not a URL is shown on one bounded line.
pub(crate) fn display_url(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            one_line(url.as_str(), 200)
        }
        Err(_) => one_line(text, 100),
    }
}

/// Returns `text` on one line with at most `max_chars` characters: escape sequences and other
/// control or invisible format characters are removed, runs of whitespace become one space,
/// and a cut is marked with `…` (which counts toward the limit).
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let mut visible = String::with_capacity(text.len().min(max_chars * 4));
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            skip_escape_sequence(c, &mut chars);
        } else if c.is_whitespace() || c.is_control() {
            visible.push(' ');
        } else if !is_invisible(c) {
            visible.push(c);
        }
    }
    squeeze(&visible, max_chars)
}

/// Text for a table cell or heading: escape sequences removed, every other control character
/// shown as `?`, invisible format characters (bidi overrides, zero-width) removed.
pub(crate) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            skip_escape_sequence(c, &mut chars);
            out.push('?');
        } else if c.is_control() {
            out.push('?');
        } else if !is_invisible(c) {
            out.push(c);
        }
    }
    out
}

/// Collapses whitespace runs into one space, trims, and cuts at `max_chars` characters with a
/// `…`. Removes nothing else: text that was redacted stays exactly as redacted (removing
/// characters after redaction could join two harmless pieces into a secret).
pub(crate) fn squeeze(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = true;
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

/// Skips the rest of an escape sequence whose introducer `first` (ESC or the C1 CSI) was just
/// read: CSI (`ESC [ … final`), OSC/DCS/APC/PM/SOS strings (up to BEL or `ESC \`), or a
/// two-character escape.
pub(crate) fn skip_escape_sequence(
    first: char,
    chars: &mut std::iter::Peekable<impl Iterator<Item = char>>,
) {
    let kind = if first == '\u{9b}' {
        '['
    } else {
        match chars.next() {
            Some(c) => c,
            None => return,
        }
    };
    match kind {
        '[' => {
            // Parameters and intermediates are 0x20..=0x3f; the final byte is 0x40..=0x7e.
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        ']' | 'P' | '_' | '^' | 'X' => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' {
                    chars.next_if_eq(&'\\');
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Characters a terminal does not show but that change what is shown: bidi overrides and
/// isolates, zero-width spaces and joiners, the BOM, soft hyphens, invisible operators.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{3164}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        // Variation selectors and tag characters: invisible, and used to hide text inside text.
        | '\u{fe00}'..='\u{fe0f}' | '\u{e0000}'..='\u{e007f}' | '\u{e0100}'..='\u{e01ef}')
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
        assert_eq!(one_line("c1\u{9b}2Jcsi", 100), "c1csi");
    }

    #[test]
    fn cells_keep_length_visible() {
        assert_eq!(cell("ok \x1b[31mred\x07\n"), "ok ?red??");
        assert_eq!(cell("codex\u{202e}xedoc"), "codexxedoc");
        assert_eq!(cell("plain-name"), "plain-name");
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
