//! The redaction function (`rotor::sanitize::Redactor`): secrets and email addresses of the pool
//! embedded in any text, in any disguise a hostile server could echo them in, never come out of
//! `clean`, not even 16 consecutive characters of a secret, neither as written nor once a reader
//! decodes the output (one round of JSON unescaping and percent-decoding); the output stays
//! within its bound; and cleaning never panics.
//!
//! The input is read as a recipe: 1–3 secrets of 16 characters or more (JWT alphabet:
//! base64url and `.`), 0–2 addresses, then pieces of text: a secret raw, `\uXXXX`-escaped
//! (wholly or in part), percent-encoded (wholly or in part), doubly escaped, percent-encoded
//! JSON escapes, split by U+200B or `\x1b[0m`, a prefix or a window of one, an address (raw,
//! upper-case, `%40`), random bytes, long filler, and escapes that do not decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::sanitize::{REDACT_RUN, Redactor};

/// The characters of a JWT: base64url and the dot.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
/// Escapes that do not decode (or not to UTF-8), dropped between pieces.
const NOISE: &[&str] = &["%FF", "%", "\\", "%C3", "\\uD800", "\\u12", "%G1", "%e9"];
/// The bound `last_error_message` and events use.
const MAX_CHARS: usize = 200;

/// Reads bytes as choices, ending with zeros when they run out.
struct Recipe<'a>(&'a [u8]);

impl Recipe<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn pick(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn word(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.pick(alphabet.len())] as char)
            .collect()
    }

    /// Up to 63 arbitrary bytes, as text; `%` and `\` replaced, so that the only escapes in the
    /// text are the disguises made on purpose (and the noise).
    fn filler(&mut self) -> String {
        let len = self.pick(64);
        let bytes: Vec<u8> = (0..len).map(|_| self.byte()).collect();
        String::from_utf8_lossy(&bytes).replace(['%', '\\'], "#")
    }
}

fn unicode_escaped(text: &str, which: impl Fn(usize) -> bool) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if which(i) {
                format!("\\u{:04x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn percent_encoded(text: &str, which: impl Fn(usize) -> bool) -> String {
    text.bytes()
        .enumerate()
        .map(|(i, b)| {
            if which(i) {
                format!("%{b:02X}")
            } else {
                (b as char).to_string()
            }
        })
        .collect()
}

/// `text` with `separator` inserted every `every` characters.
fn split(text: &str, every: usize, separator: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % every == 0 {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// What a reader gets from `text` by decoding it once: `\uXXXX`, `\/`, `\\` and `\"` undone,
/// then `%XX` (lossily: bytes that are not UTF-8 become U+FFFD and stop nothing else), then the
/// escape sequences and invisible characters rotor promises to see through removed.
fn read_once(text: &str) -> String {
    let mut unescaped = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        unescaped.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let hex = after
            .strip_prefix('u')
            .and_then(|h| h.get(..4))
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        if let Some(hex) = hex {
            let code = u32::from_str_radix(hex, 16).unwrap_or(0xfffd);
            unescaped.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            rest = &after[5..];
        } else if let Some(c) = after
            .chars()
            .next()
            .filter(|c| matches!(c, '/' | '\\' | '"'))
        {
            unescaped.push(c);
            rest = &after[1..];
        } else {
            unescaped.push('\\');
            rest = after;
        }
    }
    unescaped.push_str(rest);
    let bytes = unescaped.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| bytes[i] == b'%' && h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8_lossy(&decoded);
    let mut out = String::with_capacity(decoded.len());
    let mut chars = decoded.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            c if c.is_whitespace() && c.is_control() => out.push(' '),
            c if c.is_control() => {}
            '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{ad}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The first run of [`REDACT_RUN`] characters `text` shares with `secret`.
fn shared_run(text: &str, secret: &str) -> Option<String> {
    let text: Vec<char> = text.chars().collect();
    let secret: Vec<char> = secret.chars().collect();
    secret
        .windows(REDACT_RUN)
        .find(|w| text.windows(REDACT_RUN).any(|t| t == *w))
        .map(|w| w.iter().collect())
}

fuzz_target!(|data: &[u8]| {
    let mut recipe = Recipe(data);
    let mut redactor = Redactor::new();
    let secrets: Vec<String> = (0..1 + recipe.pick(3))
        .map(|_| {
            let len = REDACT_RUN + recipe.pick(80);
            recipe.word(ALPHABET, len)
        })
        .collect();
    let emails: Vec<String> = (0..recipe.pick(3))
        .map(|_| {
            let local = 1 + recipe.pick(8);
            let local = recipe.word(b"abcdefghijklmnopqrstuvwxyz0123456789._-", local);
            let domain = 1 + recipe.pick(8);
            let domain = recipe.word(b"abcdefghijklmnopqrstuvwxyz", domain);
            format!("{local}@{domain}.com")
        })
        .collect();
    for secret in &secrets {
        redactor.secret(secret);
    }
    for email in &emails {
        redactor.email(email);
    }

    let mut text = String::new();
    for _ in 0..1 + recipe.pick(8) {
        let secret = &secrets[recipe.pick(secrets.len())];
        let mask = recipe.byte();
        let bit = |i: usize| (mask >> (i % 8)) & 1 == 1;
        match recipe.pick(16) {
            0 => text.push_str(secret),
            1 => text.push_str(&unicode_escaped(secret, |_| true)),
            2 => text.push_str(&unicode_escaped(secret, bit)),
            3 => text.push_str(&percent_encoded(secret, |_| true)),
            4 => text.push_str(&percent_encoded(secret, bit)),
            5 => {
                let every = 1 + recipe.pick(20);
                text.push_str(&split(secret, every, "\u{200b}"));
            }
            6 => {
                let every = 1 + recipe.pick(20);
                text.push_str(&split(secret, every, "\x1b[0m"));
            }
            7 => {
                // Doubled: `\\u0041` is `\u0041` once unescaped, then `A`.
                let once = unicode_escaped(secret, |_| true);
                text.push_str(&once.replace('\\', "\\\\"));
            }
            8 => {
                // Percent-encoded JSON escapes: `%5Cu0041`.
                let once = unicode_escaped(secret, |_| true);
                text.push_str(&once.replace('\\', "%5C"));
            }
            9 => {
                let start = recipe.pick(secret.len() - REDACT_RUN + 1);
                let len = REDACT_RUN + recipe.pick(secret.len() - start - REDACT_RUN + 1);
                text.push_str(&secret[start..start + len]);
            }
            10 => {
                // Long filler first: the secret crosses the 200-character cut.
                let len = 150 + recipe.pick(100);
                text.push_str(&"~ ".repeat(len / 2));
                text.push_str(secret);
            }
            11 | 12 if !emails.is_empty() => {
                let email = &emails[recipe.pick(emails.len())];
                match mask % 3 {
                    0 => text.push_str(email),
                    1 => text.push_str(&email.to_uppercase()),
                    _ => text.push_str(&email.replace('@', "%40")),
                }
            }
            13 => text.push_str(NOISE[recipe.pick(NOISE.len())]),
            _ => text.push_str(&recipe.filler()),
        }
        if mask & 0x80 != 0 {
            text.push_str(&recipe.filler());
        }
    }

    for max_chars in [MAX_CHARS, 100_000] {
        let out = redactor.clean(&text, max_chars);
        assert!(out.chars().count() <= max_chars, "{out:?} is too long");
        let read = read_once(&out);
        for view in [&out, &read] {
            for secret in &secrets {
                if let Some(run) = shared_run(view, secret) {
                    panic!(
                        "{run:?} of secret {secret:?} survived\n in: {text:?}\nout: {out:?}\nread: {read:?}"
                    );
                }
            }
            let lower = view.to_lowercase();
            for email in &emails {
                assert!(
                    !lower.contains(email.as_str()),
                    "email {email:?} survived\n in: {text:?}\nout: {out:?}"
                );
            }
        }
    }
});
