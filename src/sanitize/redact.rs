//! The one redaction function: what a server (or an operator's `--reason`) says is decoded,
//! stripped of every secret and email address rotor knows or can recognise, and only then cut to
//! its limit. Every path that keeps or shows text from outside goes through [`Redactor::clean`]:
//! attempt failures in events and traces, `last_error_*` fields, probe details, refresh errors,
//! exit messages.
//!
//! Why this order:
//! - **decode first**: a server may echo a token JSON-escaped (`\/`, `\u0041`), URL-encoded
//!   (`%2F`), or split by an invisible character or a terminal escape; matching the raw text
//!   would miss all of those. Decoding removes everything that could separate two halves of a
//!   secret without being visible, so nothing removed later can join them again;
//! - **redact before truncating**: an echo crossing the cut would otherwise survive in part;
//! - **any 16 consecutive characters** of a secret count as the secret, so a partial echo (a
//!   prefix, a window in the middle) is caught as well as a whole one.
//!
//! Emails are removed twice over: the pool's own addresses (labels, token claims) in any case,
//! and anything shaped like an address, so no event, trace or stored field ever holds one.

use std::collections::HashMap;

/// What replaces a secret or an email address.
pub(crate) const REDACTED: &str = "[redacted]";

/// A run of this many characters shared with a secret is redacted.
pub const RUN: usize = 16;
/// Secrets are indexed by aligned blocks of this length: any shared run of [`RUN`] characters
/// contains one whole aligned block of the secret (RUN ≥ 2·BLOCK − 1).
const BLOCK: usize = 8;
/// Secrets shorter than this are ignored: they would match ordinary words.
const MIN_SECRET: usize = 6;
/// Decoding rounds: a doubly escaped echo (`\\u0041`) needs two.
const DECODE_ROUNDS: usize = 3;

/// The secrets and email addresses of a pool, ready to be looked for in text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Redactor {
    /// Secrets of [`RUN`] characters or more, as characters.
    long: Vec<Vec<char>>,
    /// Aligned blocks of the long secrets: block → (secret, offset).
    blocks: HashMap<[char; BLOCK], Vec<(u32, u32)>>,
    /// Shorter secrets, matched whole.
    short: Vec<String>,
    /// Known addresses, lowercase, matched whole and case-insensitively.
    emails: Vec<String>,
}

impl Redactor {
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Adds a secret (token, key). Empty and very short values are ignored.
    pub fn secret(&mut self, secret: &str) {
        let secret = secret.trim();
        let chars: Vec<char> = secret.chars().collect();
        if chars.len() < MIN_SECRET || self.knows(&chars) {
            return;
        }
        if chars.len() < RUN {
            self.short.push(secret.to_string());
            self.short.sort_by_key(|s| std::cmp::Reverse(s.len()));
            return;
        }
        let index = self.long.len() as u32;
        for (n, block) in chars.chunks_exact(BLOCK).enumerate() {
            let mut key = ['\0'; BLOCK];
            key.copy_from_slice(block);
            self.blocks
                .entry(key)
                .or_default()
                .push((index, (n * BLOCK) as u32));
        }
        self.long.push(chars);
    }

    /// Adds an email address of the pool.
    pub fn email(&mut self, email: &str) {
        let email = email.trim().to_lowercase();
        if email.len() >= 3 && !self.emails.contains(&email) {
            self.emails.push(email);
            self.emails.sort_by_key(|e| std::cmp::Reverse(e.len()));
        }
    }

    fn knows(&self, chars: &[char]) -> bool {
        self.long.iter().any(|s| s == chars)
            || self
                .short
                .iter()
                .any(|s| s.chars().eq(chars.iter().copied()))
    }

    /// Decodes `text`, redacts every secret and email address, and returns it on one line of at
    /// most `max_chars` characters (the cut marked with `…`).
    pub fn clean(&self, text: &str, max_chars: usize) -> String {
        super::squeeze(&self.redact(text), max_chars)
    }

    /// Decodes `text` and redacts it, keeping its length and lines.
    pub fn redact(&self, text: &str) -> String {
        let decoded = decode(text);
        let without_secrets = self.redact_secrets(&decoded);
        scrub_emails(&without_secrets, &self.emails)
    }

    fn redact_secrets(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.short {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        if self.long.is_empty() {
            return out;
        }
        let chars: Vec<char> = out.chars().collect();
        let covered = self.cover(&chars);
        if !covered.iter().any(|c| *c) {
            return out;
        }
        let mut result = String::with_capacity(out.len());
        let mut in_run = false;
        for (c, hidden) in chars.iter().zip(&covered) {
            match (*hidden, in_run) {
                (true, false) => result.push_str(REDACTED),
                (true, true) => {}
                (false, _) => result.push(*c),
            }
            in_run = *hidden;
        }
        result
    }

    /// Marks every character of `text` that belongs to a run of [`RUN`] or more characters
    /// shared with a long secret.
    fn cover(&self, text: &[char]) -> Vec<bool> {
        let mut covered = vec![false; text.len()];
        if text.len() < RUN {
            return covered;
        }
        // Work is bounded: text built to match a repetitive secret everywhere (a fuzzer's
        // favourite) would otherwise cost length × hits × secret length. Past the budget, every
        // block that matches at all is hidden, which over-redacts but never leaks.
        let mut budget = 64 * text.len() + 4096;
        let mut covered_until = 0;
        for start in 0..=text.len() - BLOCK {
            if start + BLOCK <= covered_until {
                continue;
            }
            let mut key = ['\0'; BLOCK];
            key.copy_from_slice(&text[start..start + BLOCK]);
            let Some(hits) = self.blocks.get(&key) else {
                continue;
            };
            for &(secret, offset) in hits {
                let secret = &self.long[secret as usize];
                let offset = offset as usize;
                if budget == 0 {
                    covered[start..start + BLOCK].fill(true);
                    covered_until = covered_until.max(start + BLOCK);
                    break;
                }
                let mut left = 0;
                while left < start
                    && left < offset
                    && text[start - left - 1] == secret[offset - left - 1]
                {
                    left += 1;
                }
                let mut right = BLOCK;
                while start + right < text.len()
                    && offset + right < secret.len()
                    && text[start + right] == secret[offset + right]
                {
                    right += 1;
                }
                budget = budget.saturating_sub(left + right);
                if left + right >= RUN {
                    covered[start - left..start + right].fill(true);
                    covered_until = covered_until.max(start + right);
                }
            }
        }
        covered
    }
}

/// Undoes the encodings an echo may come in, and removes whatever is invisible: JSON string
/// escapes, URL percent-encoding, terminal escape sequences, control characters (whitespace
/// ones become spaces) and zero-width or bidi format characters.
pub fn decode(text: &str) -> String {
    let mut current = strip_invisible(text);
    for _ in 0..DECODE_ROUNDS {
        let next = strip_invisible(&percent_decode(&json_unescape(&current)));
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// `\uXXXX` (surrogate pairs included), `\/`, `\\`, `\"` and the one-letter escapes of JSON.
/// Anything else is kept as written.
fn json_unescape(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let mut chars = after.chars();
        let (replacement, used) = match chars.next() {
            Some('u') => match unicode_escape(after) {
                Some((c, used)) => (Some(c), used),
                None => (None, 0),
            },
            Some(c @ ('/' | '\\' | '"')) => (Some(c), 1),
            Some('n') => (Some('\n'), 1),
            Some('t') => (Some('\t'), 1),
            Some('r') => (Some('\r'), 1),
            Some('b') => (Some('\u{8}'), 1),
            Some('f') => (Some('\u{c}'), 1),
            _ => (None, 0),
        };
        match replacement {
            Some(c) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads `uXXXX` (and a following `\uXXXX` low surrogate) at the start of `text`: the character
/// and the bytes used.
fn unicode_escape(text: &str) -> Option<(char, usize)> {
    let hex = |s: &str| -> Option<u32> {
        let digits = s.get(1..5)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    };
    let high = hex(text)?;
    if (0xd800..0xdc00).contains(&high) {
        let low = text
            .get(5..)
            .filter(|t| t.starts_with("\\u"))
            .and_then(|t| hex(&t[1..]));
        if let Some(low) = low.filter(|l| (0xdc00..0xe000).contains(l)) {
            let c = char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?;
            return Some((c, 11));
        }
        return Some(('\u{fffd}', 5));
    }
    Some((char::from_u32(high).unwrap_or('\u{fffd}'), 5))
}

/// `%XX` sequences decoded where they form UTF-8; bytes that are not text are kept as escapes.
/// One invalid escape (`%ff`) among the others cannot keep them — an encoded secret beside
/// it — from being decoded.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        // A run of consecutive `%XX` escapes, as bytes.
        let mut run = Vec::new();
        while i + 2 < bytes.len()
            && bytes[i] == b'%'
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            run.push((high * 16 + low) as u8);
            i += 3;
        }
        if !run.is_empty() {
            push_utf8_or_escapes(&mut out, &run);
            continue;
        }
        // Up to the next `%` (or the end), copied as it is.
        // (`%` is ASCII, so every index found here is a character boundary.)
        let next = bytes[i + 1..]
            .iter()
            .position(|b| *b == b'%')
            .map_or(bytes.len(), |at| i + 1 + at);
        out.push_str(&text[i..next]);
        i = next;
    }
    out
}

/// Appends `bytes` as text where they are UTF-8, and as `%XX` escapes where they are not.
fn push_utf8_or_escapes(out: &mut String, mut bytes: &[u8]) {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                out.push_str(text);
                return;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    out.push_str(&format!("%{b:02X}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// Removes terminal escape sequences, control characters (whitespace ones become a space) and
/// invisible format characters.
fn strip_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            super::skip_escape_sequence(c, &mut chars);
        } else if c.is_whitespace() && c.is_control() {
            out.push(' ');
        } else if c.is_control() || super::is_invisible(c) {
            // dropped
        } else {
            out.push(c);
        }
    }
    out
}

/// Replaces the pool's known addresses (any case) and anything shaped like an address.
fn scrub_emails(text: &str, known: &[String]) -> String {
    let mut out = text.to_string();
    for email in known {
        out = replace_ignore_case(&out, email);
    }
    if !out.contains('@') {
        return out;
    }
    let chars: Vec<char> = out.chars().collect();
    let local = |c: char| c.is_alphanumeric() || "._%+-'!#$&*=?^`{|}~/".contains(c);
    let domain = |c: char| c.is_alphanumeric() || c == '.' || c == '-';
    let mut covered = vec![false; chars.len()];
    for (at, c) in chars.iter().enumerate() {
        if *c != '@' {
            continue;
        }
        let mut start = at;
        while start > 0 && local(chars[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < chars.len() && domain(chars[end]) {
            end += 1;
        }
        // A trailing dot ends a sentence, not a domain.
        while end > at + 1 && chars[end - 1] == '.' {
            end -= 1;
        }
        let host: String = chars[at + 1..end].iter().collect();
        let dotted = host
            .rsplit_once('.')
            .is_some_and(|(name, tld)| !name.is_empty() && tld.chars().count() >= 2);
        if start < at && dotted {
            covered[start..end].fill(true);
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut in_run = false;
    for (c, hidden) in chars.iter().zip(&covered) {
        match (*hidden, in_run) {
            (true, false) => result.push_str(REDACTED),
            (true, true) => {}
            (false, _) => result.push(*c),
        }
        in_run = *hidden;
    }
    result
}

/// `text` with every case-insensitive occurrence of `needle` (lowercase) replaced.
fn replace_ignore_case(text: &str, needle: &str) -> String {
    let lower = text.to_lowercase();
    // Lowercasing can change lengths (İ); then the positions are not comparable: match exactly.
    if lower.len() != text.len() {
        return text.replace(needle, REDACTED);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(needle) {
        if at < last || !text.is_char_boundary(at) || !text.is_char_boundary(at + needle.len()) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";

    fn redactor() -> Redactor {
        let mut r = Redactor::new();
        r.secret(KEY);
        r.secret("rt_short9");
        r.email("Team-A@Example.com");
        r
    }

    fn leaks(text: &str) -> bool {
        let key: Vec<char> = KEY.chars().collect();
        let out: Vec<char> = text.chars().collect();
        key.windows(RUN).any(|w| out.windows(RUN).any(|o| o == w))
    }

    #[test]
    fn every_encoding_of_an_echo_is_redacted() {
        let r = redactor();
        let escaped_slash = KEY.replace('-', "\\-").replace("sk", "s\\/k");
        let unicode: String = KEY
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        let percent: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        let zero_width = format!("{}\u{200b}{}", &KEY[..20], &KEY[20..]);
        let tags: String = KEY
            .chars()
            .flat_map(|c| [c, '\u{e0041}', '\u{fe0f}'])
            .collect();
        let escape = format!("{}\x1b[0m{}", &KEY[..20], &KEY[20..]);
        let double = KEY
            .chars()
            .map(|c| format!("\\\\u{:04x}", c as u32))
            .collect::<String>();
        for echo in [
            KEY.to_string(),
            escaped_slash,
            unicode,
            percent,
            zero_width,
            tags,
            escape,
            double,
            format!("prefix {} only", &KEY[..24]),
            format!("tail {}", &KEY[KEY.len() - 17..]),
        ] {
            let body = format!("{{\"error\":{{\"message\":\"bad key {echo} for you\"}}}}");
            let out = r.clean(&body, 200);
            assert!(!leaks(&out), "{echo:?} → {out}");
            assert!(out.contains(REDACTED), "{echo:?} → {out}");
        }
    }

    #[test]
    fn an_echo_across_the_cut_is_redacted_before_cutting() {
        let r = redactor();
        let text = format!("{}{KEY}", "x".repeat(180));
        let out = r.clean(&text, 200);
        assert!(!leaks(&out), "{out}");
        assert!(out.chars().count() <= 200);
    }

    #[test]
    fn short_secrets_and_emails() {
        let r = redactor();
        assert_eq!(
            r.clean("token rt_short9 here", 100),
            "token [redacted] here"
        );
        assert_eq!(
            r.clean("for TEAM-A@EXAMPLE.COM and bob@other.org.", 100),
            "for [redacted] and [redacted]."
        );
        assert_eq!(
            r.clean("user@localhost is not dotted", 100),
            "user@localhost is not dotted"
        );
        assert_eq!(r.clean("a 5% fee @ noon", 100), "a 5% fee @ noon");
    }

    #[test]
    fn harmless_text_is_kept() {
        let r = redactor();
        assert_eq!(
            r.clean("The usage limit has been reached", 200),
            "The usage limit has been reached"
        );
        assert_eq!(r.clean("line1\nline2\t\x1b[31mred", 200), "line1 line2 red");
        assert_eq!(r.clean("é \\u00e9 %C3%A9", 200), "é é é");
        assert_eq!(r.clean("100%", 200), "100%");
        assert_eq!(r.clean("%ff%41%e9", 200), "%FFA%E9");
    }

    #[test]
    fn repetitive_secrets_cost_bounded_work() {
        let mut r = Redactor::new();
        r.secret(&"a".repeat(4000));
        let text = "a".repeat(65_536);
        let out = r.clean(&text, 200);
        assert_eq!(out, REDACTED);
    }
}
