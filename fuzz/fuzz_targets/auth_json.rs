//! auth.json parser: any bytes give a document or an error, never a panic; a document that
//! parses is written back as bytes that parse again to the same pools.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::pool::HermesRules;
use rotor::store::{Document, EnvLookup, ReadOptions};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/fuzz/auth.json");
    // Both rules, and a key for every env-sourced entry named `KEY`: model cooldowns, twins and
    // env keys are read on every path.
    let rules = if data.first().is_some_and(|b| b & 1 == 1) {
        HermesRules::Main
    } else {
        HermesRules::V019
    };
    let options = ReadOptions {
        rules: Some(rules),
        env: EnvLookup::Fixed(vec![("KEY".into(), "sk-fuzz-key".into())]),
    };
    let Ok(mut doc) = Document::parse_with(path, data, &options) else {
        return;
    };
    for provider in doc.providers() {
        for profile in doc.profiles(provider).unwrap_or_default() {
            let _ = profile.is_available(1_795_838_400.0, None);
            let _ = profile.is_available(1_795_838_400.0, Some("m"));
            let _ = profile.display_state(1_795_838_400.0);
            let _ = doc.access_token(provider, &profile.id);
        }
    }
    let bytes = doc.to_bytes(1_795_838_400.0);
    let again =
        Document::parse_with(path, &bytes, &options).expect("rotor's own output must parse");
    assert_eq!(again.providers(), doc.providers());
});
