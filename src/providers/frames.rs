//! What one frame of a provider's stream means to a gateway that must not replay output: does
//! it carry output yet (the commit point), end the answer, or report a failure? Pure: the
//! serve forwarder asks this of every SSE frame, and of every whole non-streamed answer.
//!
//! Before its first output a stream only sets up (`response.created`, an empty
//! `output_item.added`, Anthropic's `message_start` and `ping`, a chat chunk with only a role):
//! a gateway can hold those frames and, if the attempt fails, drop them and try elsewhere, the
//! client none the wiser. A frame of a kind this module does not know counts as output: holding
//! it would only delay the client, and committing early never duplicates anything.

use super::Api;
use super::sse::SseEvent;
use super::stream::failure_of;
use serde_json::Value;

/// What a frame is, for the commit point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Carries no output: may be held back before the commit point.
    Setup,
    /// Carries output (text, tool-call arguments, reasoning, a finished item). `last`: the
    /// answer is complete with it, though trailing frames may follow (a chat chunk with a
    /// `finish_reason`, which some servers send without a `[DONE]`).
    Output { last: bool },
    /// The answer is complete.
    Done,
    /// The provider reports a failure; `status` is the HTTP status it stands for and `body` an
    /// error body (`{"error": {...}}`) for the classifier.
    Failed { status: u16, body: String },
}

/// Classifies one SSE event of `api`'s stream (`None`: a frame without data, such as a
/// comment or a keep-alive).
pub fn classify_frame(api: Api, event: Option<&SseEvent>) -> Frame {
    let Some(event) = event else {
        return Frame::Setup;
    };
    if api == Api::ChatCompletions && event.data.trim() == "[DONE]" {
        return Frame::Done;
    }
    // Not JSON: noise or a broken line, which carries no output anybody could use.
    let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
        return Frame::Setup;
    };
    let kind = data
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(&event.event);
    match api {
        Api::CodexResponses => responses_frame(kind, &data),
        Api::AnthropicMessages => anthropic_frame(kind, &data),
        Api::ChatCompletions => chat_frame(&data),
    }
}

/// Whether [`classify_frame`] can only say `Setup` or `Output { last: false }` of `event`,
/// told from its bytes without parsing them. After the commit point those two mean the same
/// (pass the frame on), so a gateway skips the JSON parse of nearly every frame of a long
/// answer. Conservative: `false` whenever the data holds an escape, or anywhere the name of a
/// frame that ends or fails the answer (a chat chunk: an `"error"`, or a `"finish_reason"`
/// that is not `null`), or the `event:` name is one.
pub fn continues_answer(api: Api, event: &SseEvent) -> bool {
    let data = event.data.as_str();
    // Without a backslash, every JSON string of the data is written as it reads: a `type`
    // whose value is `response.completed` shows `"response.completed"` in the bytes.
    if data.contains('\\') {
        return false;
    }
    let ending: &[&str] = match api {
        Api::CodexResponses => &[
            "\"response.completed\"",
            "\"response.incomplete\"",
            "\"response.failed\"",
            "\"error\"",
        ],
        Api::AnthropicMessages => &["\"message_stop\"", "\"error\""],
        Api::ChatCompletions => {
            return data.trim() != "[DONE]"
                && !data.contains("\"error\"")
                && every_finish_reason_is_null(data);
        }
    };
    !ending
        .iter()
        .any(|quoted| data.contains(quoted) || unquoted(quoted) == event.event)
}

/// `name` of `"name"`.
fn unquoted(quoted: &str) -> &str {
    quoted.trim_matches('"')
}

/// Whether every `"finish_reason"` in `data` is followed by exactly `:null`.
fn every_finish_reason_is_null(data: &str) -> bool {
    const KEY: &str = "\"finish_reason\"";
    data.match_indices(KEY)
        .all(|(at, _)| data[at + KEY.len()..].starts_with(":null"))
}

fn failed(error: &Value) -> Frame {
    let (status, body) = failure_of(error);
    Frame::Failed { status, body }
}

fn output_if(carries: bool) -> Frame {
    if carries {
        Frame::Output { last: false }
    } else {
        Frame::Setup
    }
}

fn responses_frame(kind: &str, data: &Value) -> Frame {
    match kind {
        "response.created" | "response.in_progress" | "response.queued" => Frame::Setup,
        kind if kind.starts_with("codex.") => Frame::Setup,
        "response.output_item.added" => output_if(has_text(&data["item"])),
        "response.content_part.added" | "response.reasoning_summary_part.added" => {
            output_if(has_text(&data["part"]))
        }
        kind if kind.ends_with(".delta") => output_if(has_text(&data["delta"])),
        "response.completed" | "response.incomplete" => Frame::Done,
        "response.failed" => failed(&data["response"]["error"]),
        "error" => failed(data.get("error").unwrap_or(data)),
        _ => Frame::Output { last: false },
    }
}

fn anthropic_frame(kind: &str, data: &Value) -> Frame {
    match kind {
        "message_start" | "ping" | "content_block_stop" => Frame::Setup,
        "content_block_start" => output_if(has_text(&data["content_block"])),
        "content_block_delta" => output_if(has_text(&data["delta"])),
        "message_stop" => Frame::Done,
        "error" => failed(&data["error"]),
        _ => Frame::Output { last: false },
    }
}

fn chat_frame(data: &Value) -> Frame {
    if let Some(error) = data.get("error").filter(|e| !e.is_null()) {
        return failed(error);
    }
    let Some(choices) = data.get("choices").and_then(Value::as_array) else {
        return Frame::Setup;
    };
    let Some(choice) = choices.first() else {
        // The usage chunk that closes a stream with `include_usage` has no choices; other
        // choice-less chunks (content-filter notes) come before any output.
        return output_if(data.get("usage").is_some_and(|u| !u.is_null()));
    };
    if choice.get("finish_reason").is_some_and(|f| !f.is_null()) {
        return Frame::Output { last: true };
    }
    let delta = &choice["delta"];
    let carries = ["content", "refusal", "reasoning", "reasoning_content"]
        .iter()
        .any(|k| delta[*k].as_str().is_some_and(|t| !t.is_empty()))
        || ["tool_calls", "function_call"]
            .iter()
            .any(|k| delta.get(*k).is_some_and(|v| !v.is_null()));
    output_if(carries)
}

/// Whether `value` holds any non-empty string of answer content: text, tool-call arguments,
/// reasoning, a refusal (searched through nested items and parts, a few levels deep).
fn has_text(value: &Value) -> bool {
    fn walk(value: &Value, depth: u8) -> bool {
        match value {
            Value::String(text) => !text.is_empty(),
            Value::Array(items) if depth > 0 => items.iter().any(|v| walk(v, depth - 1)),
            Value::Object(map) if depth > 0 => map.iter().any(|(key, v)| {
                CONTENT_KEYS.contains(&key.as_str()) && walk(v, depth - 1)
                    || matches!(v, Value::Array(_) | Value::Object(_)) && walk(v, depth - 1)
            }),
            _ => false,
        }
    }
    // A delta may be the text itself (`"delta": "Hel"`).
    walk(value, 4)
}

/// The fields whose non-empty string is answer content, in the three APIs' items and deltas.
const CONTENT_KEYS: &[&str] = &[
    "text",
    "delta",
    "arguments",
    "partial_json",
    "thinking",
    "refusal",
    "input",
    "output",
    "summary",
    "content",
];

/// Whether a whole non-streamed answer with a 2xx status is a failure after all (an error
/// object, or a Responses-API response whose status is `failed`): its status and error body.
pub fn failure_in_answer(body: &[u8]) -> Option<(u16, String)> {
    let data: Value = serde_json::from_slice(body).ok()?;
    let error = data.get("error").filter(|e| e.is_object())?;
    // A Responses-API object carries `"error": null` when fine, an error object when failed.
    let failed = data.get("status").and_then(Value::as_str) == Some("failed")
        || data.get("object").and_then(Value::as_str) != Some("response");
    if failed {
        return Some(failure_of(error));
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn frame(api: Api, data: &str) -> Frame {
        classify_frame(
            api,
            Some(&SseEvent {
                event: String::new(),
                data: data.into(),
            }),
        )
    }

    const OUT: Frame = Frame::Output { last: false };

    #[test]
    fn responses_setup_frames_are_held_and_the_first_content_commits() {
        let api = Api::CodexResponses;
        for setup in [
            r#"{"type":"response.created","response":{"id":"r","instructions":"long text"}}"#,
            r#"{"type":"response.in_progress","response":{"id":"r"}}"#,
            r#"{"type":"codex.rate_limits","primary":{"used_percent":3}}"#,
            r#"{"type":"response.output_item.added","item":{"type":"message","content":[],"role":"assistant"}}"#,
            r#"{"type":"response.output_item.added","item":{"type":"function_call","arguments":"","name":"f","call_id":"c"}}"#,
            r#"{"type":"response.content_part.added","part":{"type":"output_text","text":"","annotations":[]}}"#,
            r#"{"type":"response.output_text.delta","delta":""}"#,
            "not json",
        ] {
            assert_eq!(frame(api, setup), Frame::Setup, "{setup}");
        }
        for output in [
            r#"{"type":"response.output_text.delta","delta":"Hel"}"#,
            r#"{"type":"response.function_call_arguments.delta","delta":"{\"a\""}"#,
            r#"{"type":"response.reasoning_summary_text.delta","delta":"thinking"}"#,
            r#"{"type":"response.output_item.done","item":{"type":"message","content":[{"type":"output_text","text":"MINIMAL OK"}]}}"#,
            r#"{"type":"response.web_search_call.searching","item_id":"w"}"#,
        ] {
            assert_eq!(frame(api, output), OUT, "{output}");
        }
        assert_eq!(
            frame(
                api,
                r#"{"type":"response.completed","response":{"id":"r"}}"#
            ),
            Frame::Done
        );
        let Frame::Failed { status, body } = frame(
            api,
            r#"{"type":"response.failed","response":{"error":{"code":"usage_limit_reached","message":"limit"}}}"#,
        ) else {
            panic!()
        };
        assert_eq!(status, 429);
        assert!(body.contains("usage_limit_reached"));
        assert!(matches!(
            frame(
                api,
                r#"{"type":"error","code":"server_error","message":"x"}"#
            ),
            Frame::Failed { status: 500, .. }
        ));
    }

    #[test]
    fn anthropic_frames() {
        let api = Api::AnthropicMessages;
        assert_eq!(
            frame(api, r#"{"type":"message_start","message":{"content":[]}}"#),
            Frame::Setup
        );
        assert_eq!(frame(api, r#"{"type":"ping"}"#), Frame::Setup);
        assert_eq!(
            frame(
                api,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
            ),
            Frame::Setup
        );
        assert_eq!(
            frame(
                api,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}"#
            ),
            Frame::Setup
        );
        assert_eq!(
            frame(
                api,
                r#"{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":""}}"#
            ),
            Frame::Setup
        );
        assert_eq!(
            frame(
                api,
                r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hi"}}"#
            ),
            OUT
        );
        assert_eq!(
            frame(
                api,
                r#"{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"hmm"}}"#
            ),
            OUT
        );
        assert_eq!(frame(api, r#"{"type":"message_stop"}"#), Frame::Done);
        assert!(matches!(
            frame(
                api,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#
            ),
            Frame::Failed { status: 529, .. }
        ));
        // Anthropic names the event on the `event:` line too; the data's type decides.
        let named = SseEvent {
            event: "message_stop".into(),
            data: "{}".into(),
        };
        assert_eq!(classify_frame(api, Some(&named)), Frame::Done);
    }

    #[test]
    fn chat_frames() {
        let api = Api::ChatCompletions;
        assert_eq!(
            frame(
                api,
                r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#
            ),
            Frame::Setup
        );
        assert_eq!(
            frame(api, r#"{"choices":[],"prompt_filter_results":[]}"#),
            Frame::Setup
        );
        assert_eq!(
            frame(api, r#"{"choices":[{"delta":{"content":"A"}}]}"#),
            OUT
        );
        assert_eq!(
            frame(
                api,
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":""}}]}}]}"#
            ),
            OUT
        );
        assert_eq!(
            frame(api, r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#),
            Frame::Output { last: true }
        );
        assert_eq!(
            frame(api, r#"{"choices":[],"usage":{"total_tokens":3}}"#),
            OUT
        );
        assert_eq!(frame(api, "[DONE]"), Frame::Done);
        assert!(matches!(
            frame(
                api,
                r#"{"error":{"code":"rate_limit_exceeded","message":"slow"}}"#
            ),
            Frame::Failed { status: 429, .. }
        ));
        assert_eq!(classify_frame(api, None), Frame::Setup);
    }

    #[test]
    fn whole_answers_that_are_failures() {
        assert!(failure_in_answer(br#"{"id":"c","choices":[]}"#).is_none());
        assert!(
            failure_in_answer(br#"{"object":"response","status":"completed","error":null}"#)
                .is_none()
        );
        assert_eq!(
            failure_in_answer(
                br#"{"object":"response","status":"failed","error":{"code":"usage_limit_reached","message":"m"}}"#
            )
            .map(|(s, _)| s),
            Some(429)
        );
        assert_eq!(
            failure_in_answer(br#"{"error":{"type":"overloaded_error","message":"m"}}"#)
                .map(|(s, _)| s),
            Some(529)
        );
        assert!(failure_in_answer(b"not json").is_none());
    }

    /// Frames of a long answer, as servers send them: passed on without a parse.
    const SKIPPED: &[(Api, &str, &str)] = &[
        (
            Api::CodexResponses,
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":0,"content_index":0,"delta":"Hel"}"#,
        ),
        (
            Api::CodexResponses,
            "response.output_item.done",
            r#"{"type":"response.output_item.done","item":{"type":"message","status":"completed","content":[{"type":"output_text","text":"Hi"}]}}"#,
        ),
        (
            Api::AnthropicMessages,
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        ),
        (
            Api::AnthropicMessages,
            "message_delta",
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#,
        ),
        (
            Api::ChatCompletions,
            "",
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"A"},"finish_reason":null}]}"#,
        ),
        (
            Api::ChatCompletions,
            "",
            r#"{"id":"c","choices":[],"usage":{"total_tokens":3}}"#,
        ),
    ];

    /// Frames that end or fail an answer, or hold an escape: always parsed.
    const PARSED: &[(Api, &str, &str)] = &[
        (
            Api::CodexResponses,
            "response.completed",
            r#"{"type":"response.completed","response":{"id":"r","status":"completed"}}"#,
        ),
        (
            Api::CodexResponses,
            "",
            r#"{"type":"response.incomplete","response":{}}"#,
        ),
        (
            Api::CodexResponses,
            "response.failed",
            r#"{"type":"response.failed","response":{"error":{"code":"server_error"}}}"#,
        ),
        (
            Api::CodexResponses,
            "error",
            r#"{"code":"server_error","message":"x"}"#,
        ),
        (
            Api::CodexResponses,
            "response.output_text.delta",
            r#"{"type":"response.\u0063ompleted","response":{}}"#,
        ),
        (
            Api::AnthropicMessages,
            "message_stop",
            r#"{"type":"message_stop"}"#,
        ),
        (Api::AnthropicMessages, "message_stop", "{}"),
        (
            Api::AnthropicMessages,
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
        ),
        (
            Api::ChatCompletions,
            "",
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        ),
        (
            Api::ChatCompletions,
            "",
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason" : "length"}]}"#,
        ),
        (
            Api::ChatCompletions,
            "",
            r#"{"error":{"code":"rate_limit_exceeded","message":"slow"}}"#,
        ),
        (Api::ChatCompletions, "", " [DONE] "),
    ];

    fn event(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.into(),
        }
    }

    /// What a gateway may skip must be what the classifier would have passed on.
    fn skip_is_sound(api: Api, name: &str, data: &str) -> Result<(), String> {
        let event = event(name, data);
        let kind = classify_frame(api, Some(&event));
        if continues_answer(api, &event) && !matches!(kind, Frame::Setup | OUT) {
            return Err(format!(
                "{api:?} {name:?} {data}: skipped, but it is {kind:?}"
            ));
        }
        Ok(())
    }

    #[test]
    fn only_frames_that_continue_an_answer_skip_the_parse() {
        for (api, name, data) in SKIPPED {
            skip_is_sound(*api, name, data).unwrap();
            assert!(continues_answer(*api, &event(name, data)), "{name} {data}");
        }
        for (api, name, data) in PARSED {
            assert!(!continues_answer(*api, &event(name, data)), "{name} {data}");
        }
    }

    /// JSON shaped like the three APIs' frames: their keys and the names that matter.
    fn frame_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let words = proptest::sample::select(vec![
            "response.completed",
            "response.incomplete",
            "response.failed",
            "error",
            "message_stop",
            "response.output_text.delta",
            "content_block_delta",
            "response.created",
            "codex.rate_limits",
            "message_start",
            "stop",
            "Hi",
            "",
            "[DONE]",
        ]);
        let keys = proptest::sample::select(vec![
            "type",
            "delta",
            "error",
            "finish_reason",
            "choices",
            "item",
            "part",
            "text",
            "content",
            "usage",
            "response",
            "code",
            "content_block",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0u8..3).prop_map(Value::from),
            words.prop_map(Value::from),
        ];
        let tree = leaf.prop_recursive(4, 24, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((keys.clone(), inner), 0..5).prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        });
        let kinds = proptest::sample::select(vec![
            "response.completed",
            "response.incomplete",
            "response.failed",
            "error",
            "message_stop",
            "response.output_text.delta",
            "content_block_delta",
        ]);
        (tree, proptest::option::of(kinds)).prop_map(|(v, kind)| {
            let mut v = match v {
                Value::Object(_) => v,
                other => serde_json::json!({"choices": [{"finish_reason": other}]}),
            };
            if let (Some(kind), Some(map)) = (kind, v.as_object_mut()) {
                map.insert("type".into(), kind.into());
            }
            v
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn a_skipped_frame_is_never_an_end_or_a_failure(
            api in proptest::sample::select(vec![Api::CodexResponses, Api::AnthropicMessages, Api::ChatCompletions]),
            name in proptest::sample::select(vec!["", "response.output_text.delta", "response.completed", "error", "message_stop", "ping"]),
            value in frame_json(),
            // Write one letter as a \u escape, or space the text out.
            escape in proptest::option::of(0usize..200),
            spaced: bool,
        ) {
            let mut data = if spaced { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
            if let Some(at) = escape
                && let Some((i, c)) = data.char_indices().filter(|(_, c)| c.is_ascii_lowercase()).nth(at % 40)
            {
                data.replace_range(i..i + 1, &format!("\\u{:04x}", c as u32));
            }
            proptest::prop_assert!(skip_is_sound(api, name, &data).is_ok(), "{:?}", skip_is_sound(api, name, &data));
        }
    }
}
