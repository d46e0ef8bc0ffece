//! The error-body classifier: any status, headers and body give an outcome, never a panic, and
//! the kept message stays within its bound and on one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::engine::{MESSAGE_MAX_CHARS, Outcome, classify_response};
use rotor::sanitize::Redactor;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_le_bytes([data[0], data[1]]) % 1000;
    let text = String::from_utf8_lossy(&data[2..]);
    // The first line, if it looks like a header, is sent as one (Retry-After and the like).
    let (headers, body) = match text.split_once('\n') {
        Some((line, body)) if line.contains(':') => {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            (vec![(name.to_string(), value.trim().to_string())], body)
        }
        _ => (vec![], &*text),
    };
    for now in [0.0, 1_795_838_400.0] {
        if let Outcome::Failure(failure) =
            classify_response(Some(status), &headers, body, now, &Redactor::new())
            && let Some(message) = &failure.message
        {
            assert!(message.chars().count() <= MESSAGE_MAX_CHARS);
            assert!(!message.contains('\n'));
        }
    }
});
