//! auth.json parser: any bytes give a document or an error, never a panic; a document that
//! parses is written back as bytes that parse again to the same pools.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::store::Document;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/fuzz/auth.json");
    let Ok(mut doc) = Document::parse(path, data) else {
        return;
    };
    for provider in doc.providers() {
        for profile in doc.profiles(provider).unwrap_or_default() {
            let _ = profile.is_available(1_795_838_400.0);
            let _ = profile.display_state(1_795_838_400.0);
            let _ = doc.access_token(provider, &profile.id);
        }
    }
    let bytes = doc.to_bytes(1_795_838_400.0);
    let again = Document::parse(path, &bytes).expect("rotor's own output must parse");
    assert_eq!(again.providers(), doc.providers());
});
