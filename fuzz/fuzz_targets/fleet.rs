//! What the fleet reads from Redis and from `--state`: a record is either refused or read
//! back exactly as written out again, and a state URL either refused or shown without its
//! password. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::fleet::StateUrl;
use rotor::fleet::record::Record;

fuzz_target!(|data: &[u8]| {
    if let Some(record) = Record::parse(data) {
        let again = serde_json::to_vec(&record).expect("a parsed record serialises");
        assert_eq!(Record::parse(&again).as_ref(), Some(&record));
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(url) = StateUrl::parse(&text) {
        let shown = url::Url::parse(&url.shown).expect("the shown URL parses");
        assert!(
            matches!(shown.password(), None | Some("***")),
            "{}",
            url.shown
        );
    }
});
