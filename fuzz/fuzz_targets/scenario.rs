//! Scenario parser of `rotor simulate`, and the simulation of any scenario that parses: never a
//! panic, never a hang (the simulation's own step guard bounds it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::simulate::{self, Scenario};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(scenario) = Scenario::parse(Path::new("/fuzz/scenario.json"), data, 1_795_838_400.0)
    else {
        return;
    };
    // Keep each input cheap: huge request counts are valid but only slow the fuzzer down.
    if scenario.requests.len() > 64 {
        return;
    }
    let mut sink = rotor::render::events::JsonLines::new(std::io::sink());
    let _ = simulate::run(&scenario, 7, &mut sink);
});
