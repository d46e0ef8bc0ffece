//! SSE parser, framer and the three stream decoders: bytes split at arbitrary points give the
//! same events (and the same whole frames, byte for byte) as the whole stream, decoding and
//! the commit-point classification never panic, and a decoder that keeps the answer text
//! (`--format json`) streams the same chunks as one that keeps nothing (flat memory).
//!
//! Half of the inputs are raw bytes; the other half are read as a recipe for a stream of
//! well-formed events whose `type` is one the decoders know and whose fields hold JSON values
//! of any shape (byte mutations alone rarely turn `"message":{...}` into `"message":1`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rotor::providers::frames::{classify_frame, failure_in_answer};
use rotor::providers::sse::{Framer, SseParser};
use rotor::providers::{Api, Chunk, StreamDecoder};
use serde_json::{Map, Value, json};

const TYPES: &[&str] = &[
    "message_start",
    "content_block_delta",
    "message_delta",
    "message_stop",
    "error",
    "response.created",
    "response.output_text.delta",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "ping",
];
const KEYS: &[&str] = &[
    "message", "response", "delta", "usage", "error", "choices", "text", "id", "model",
];

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

    fn value(&mut self, depth: u32) -> Value {
        let pick = self.byte();
        match pick % 8 {
            0 => Value::Null,
            1 => Value::from(pick & 0x10 != 0),
            2 => Value::from(i64::from(self.byte()) - 100),
            3 => Value::from(f64::from(self.byte()) / 3.0),
            4 => {
                Value::from(["", "text_delta", "stop", "x", "end_turn"][usize::from(pick >> 4) % 5])
            }
            5 if depth > 0 => Value::Array((0..pick % 3).map(|_| self.value(depth - 1)).collect()),
            _ if depth > 0 => {
                let mut map = Map::new();
                for _ in 0..(pick >> 4) % 4 {
                    let key = KEYS[usize::from(self.byte()) % KEYS.len()];
                    let value = if key == "type" {
                        Value::from("text_delta")
                    } else {
                        self.value(depth - 1)
                    };
                    map.insert(key.to_string(), value);
                }
                Value::Object(map)
            }
            _ => Value::from("x"),
        }
    }

    fn stream(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while !self.0.is_empty() {
            let mut event = Map::new();
            event.insert(
                "type".into(),
                json!(TYPES[usize::from(self.byte()) % TYPES.len()]),
            );
            for _ in 0..self.byte() % 4 {
                let key = KEYS[usize::from(self.byte()) % KEYS.len()];
                event.insert(key.to_string(), self.value(3));
            }
            out.extend(format!("data: {}\n\n", Value::Object(event)).into_bytes());
        }
        out
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let built;
    let stream = if split & 1 == 1 {
        built = Recipe(rest).stream();
        &built[..]
    } else {
        rest
    };
    let cut = usize::from(split >> 1).min(stream.len());
    let mut whole = SseParser::new();
    let mut expected = whole.feed(stream);
    expected.extend(whole.finish());
    let mut parts = SseParser::new();
    let mut got = parts.feed(&stream[..cut]);
    got.extend(parts.feed(&stream[cut..]));
    got.extend(parts.finish());
    assert_eq!(got, expected, "splitting the stream changed its events");

    // The framer: whole frames, the same however the bytes arrive, nothing lost or added.
    let frames_of = |parts: &[&[u8]]| {
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        for part in parts {
            match framer.feed(part) {
                Ok(more) => frames.extend(more),
                Err(_) => return None,
            }
        }
        frames.extend(framer.finish());
        Some(frames)
    };
    if let (Some(whole), Some(split)) = (
        frames_of(&[stream]),
        frames_of(&[&stream[..cut], &stream[cut..]]),
    ) {
        assert_eq!(whole, split, "splitting the stream changed its frames");
        assert_eq!(whole.concat(), stream, "the frames are not the stream");
        for api in [
            Api::CodexResponses,
            Api::AnthropicMessages,
            Api::ChatCompletions,
        ] {
            let mut parser = SseParser::new();
            for frame in &whole {
                let events = parser.feed_frame(frame);
                assert!(events.len() <= 1, "a frame held more than one event");
                let _ = classify_frame(api, events.first());
            }
        }
    }
    let _ = failure_in_answer(stream);

    for api in [
        Api::CodexResponses,
        Api::AnthropicMessages,
        Api::ChatCompletions,
    ] {
        // Keeping the text (for `--format json`) or not (flat memory) changes nothing in what
        // is streamed; only a keeping decoder has the text at the end, all of it.
        let mut streamed = Vec::new();
        for keep_text in [false, true] {
            let mut decoder = StreamDecoder::new(api, keep_text);
            let mut chunks = decoder.feed(&stream[..cut]);
            chunks.extend(decoder.feed(&stream[cut..]));
            chunks.extend(decoder.finish());
            let _ = decoder.response();
            let text: String = chunks
                .iter()
                .filter_map(|c| match c {
                    Chunk::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            if keep_text {
                assert_eq!(decoder.text(), text, "the kept text is what was streamed");
            } else {
                assert_eq!(decoder.text(), "", "a decoder that keeps nothing kept text");
            }
            streamed.push(chunks);
        }
        assert_eq!(streamed[0], streamed[1], "keep_text changed the stream");
    }
});
