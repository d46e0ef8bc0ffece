//! Reading a provider's SSE answer: text deltas as they arrive, the end of the answer, or a
//! failure reported inside the 200 stream. Each API's final response object is assembled as
//! the stream goes, for `call --format json`.

use super::sse::{SseEvent, SseParser};
use super::{Api, status_for_stream_error};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    /// Answer text to show now.
    Text(String),
    /// The answer is complete.
    Done,
    /// The provider reported a failure in the stream. `status` is the HTTP status it stands for;
    /// `body` is an error body (`{"error": {...}}`) for the classifier.
    Failed { status: u16, body: String },
}

#[derive(Debug)]
pub struct StreamDecoder {
    api: Api,
    parser: SseParser,
    /// Whether the answer text is kept for [`StreamDecoder::response`]; without it, memory stays
    /// flat however long the answer runs.
    keep_text: bool,
    text: String,
    response: Value,
    done: bool,
}

impl StreamDecoder {
    pub fn new(api: Api, keep_text: bool) -> Self {
        StreamDecoder {
            api,
            parser: SseParser::new(),
            keep_text,
            text: String::new(),
            response: Value::Null,
            done: false,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Chunk> {
        let events = self.parser.feed(bytes);
        events.into_iter().filter_map(|e| self.event(e)).collect()
    }

    /// The stream ended: interprets an event left without its final blank line.
    pub fn finish(&mut self) -> Vec<Chunk> {
        let last = self.parser.finish();
        let mut chunks: Vec<Chunk> = last.into_iter().filter_map(|e| self.event(e)).collect();
        // Chat Completions servers may close after a finish_reason without sending [DONE].
        if !self.done
            && self.api == Api::ChatCompletions
            && self.response["choices"][0]["finish_reason"].is_string()
        {
            self.done = true;
            chunks.push(Chunk::Done);
        }
        chunks
    }

    /// Whether the provider said the answer is complete.
    #[cfg(test)]
    fn is_done(&self) -> bool {
        self.done
    }

    /// The answer text received so far (empty unless the decoder keeps it).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The provider's final response object: Codex's `response.completed` response, an OpenAI
    /// `chat.completion`, or an Anthropic `message`, with the full text.
    pub fn response(&self) -> Value {
        let mut response = self.response.clone();
        match self.api {
            Api::CodexResponses => {}
            Api::ChatCompletions => {
                response["object"] = Value::from("chat.completion");
                let finish = response["choices"][0]["finish_reason"].clone();
                response["choices"] = json!([{
                    "index": 0,
                    "message": {"role": "assistant", "content": self.text},
                    "finish_reason": finish,
                }]);
            }
            Api::AnthropicMessages => {
                response["content"] = json!([{"type": "text", "text": self.text}]);
            }
        }
        response
    }

    fn text_chunk(&mut self, delta: &str) -> Option<Chunk> {
        if delta.is_empty() {
            return None;
        }
        if self.keep_text {
            self.text.push_str(delta);
        }
        Some(Chunk::Text(delta.to_string()))
    }

    fn failed(error: &Value) -> Chunk {
        let (status, body) = failure_of(error);
        Chunk::Failed { status, body }
    }

    fn event(&mut self, event: SseEvent) -> Option<Chunk> {
        if self.api == Api::ChatCompletions && event.data.trim() == "[DONE]" {
            self.done = true;
            return Some(Chunk::Done);
        }
        // Not JSON: a proxy's noise or a truncated line; nothing to act on.
        let data: Value = serde_json::from_str(&event.data).ok()?;
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(&event.event)
            .to_string();
        match self.api {
            Api::CodexResponses => match kind.as_str() {
                "response.output_text.delta" => {
                    self.text_chunk(data["delta"].as_str().unwrap_or(""))
                }
                "response.completed" | "response.incomplete" => {
                    self.response = object_or_empty(&data["response"]);
                    self.done = true;
                    Some(Chunk::Done)
                }
                "response.failed" => Some(Self::failed(&data["response"]["error"])),
                "error" => Some(Self::failed(data.get("error").unwrap_or(&data))),
                _ => None,
            },
            Api::AnthropicMessages => match kind.as_str() {
                "message_start" => {
                    self.response = object_or_empty(&data["message"]);
                    None
                }
                "content_block_delta" if data["delta"]["type"] == "text_delta" => {
                    self.text_chunk(data["delta"]["text"].as_str().unwrap_or(""))
                }
                "message_delta" => {
                    if let (Some(target), Some(delta)) =
                        (self.response.as_object_mut(), data["delta"].as_object())
                    {
                        for (k, v) in delta {
                            target.insert(k.clone(), v.clone());
                        }
                    }
                    if data.get("usage").is_some() {
                        self.response["usage"] = data["usage"].clone();
                    }
                    None
                }
                "message_stop" => {
                    self.done = true;
                    Some(Chunk::Done)
                }
                "error" => Some(Self::failed(&data["error"])),
                _ => None,
            },
            Api::ChatCompletions => {
                if let Some(error) = data.get("error") {
                    return Some(Self::failed(error));
                }
                for key in ["id", "model", "created", "usage"] {
                    if let Some(v) = data.get(key).filter(|v| !v.is_null()) {
                        self.response[key] = v.clone();
                    }
                }
                let choice = &data["choices"][0];
                if let Some(finish) = choice["finish_reason"].as_str() {
                    self.response["choices"] = json!([{ "finish_reason": finish }]);
                }
                self.text_chunk(choice["delta"]["content"].as_str().unwrap_or(""))
            }
        }
    }
}

/// A failure reported inside a stream (the `error` object of the event): the HTTP status it
/// stands for, so it is classified like the matching HTTP error, and an error body for the
/// classifier.
pub(crate) fn failure_of(error: &Value) -> (u16, String) {
    let kind = ["code", "type"]
        .iter()
        .filter_map(|k| error.get(*k).and_then(Value::as_str))
        .find(|k| *k != "error")
        .unwrap_or("");
    (
        status_for_stream_error(kind),
        json!({ "error": error }).to_string(),
    )
}

/// The response object is only ever an object: fields are set on it later, and setting a field
/// on any other JSON value panics. A server sending something else gets an empty one.
fn object_or_empty(value: &Value) -> Value {
    match value {
        Value::Object(_) => value.clone(),
        _ => Value::Object(serde_json::Map::new()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(api: Api, stream: &str) -> (Vec<Chunk>, StreamDecoder) {
        let mut decoder = StreamDecoder::new(api, true);
        let mut chunks = decoder.feed(stream.as_bytes());
        chunks.extend(decoder.finish());
        (chunks, decoder)
    }

    #[test]
    fn codex_text_then_completed() {
        let stream = concat!(
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r1\"}}\n\n",
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hel\"}\n\n",
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"lo\"}\n\n",
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r1\",\"status\":\"completed\"}}\n\n",
        );
        let (chunks, decoder) = run(Api::CodexResponses, stream);
        assert_eq!(
            chunks,
            [
                Chunk::Text("Hel".into()),
                Chunk::Text("lo".into()),
                Chunk::Done
            ]
        );
        assert_eq!(decoder.text(), "Hello");
        assert_eq!(decoder.response()["id"], "r1");
    }

    #[test]
    fn codex_failure_in_stream_stands_for_its_http_error() {
        let stream = "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"usage_limit_reached\",\"message\":\"limit\",\"resets_in_seconds\":60}}}\n\n";
        let (chunks, decoder) = run(Api::CodexResponses, stream);
        let Chunk::Failed { status, body } = &chunks[0] else {
            panic!("{chunks:?}")
        };
        assert_eq!(*status, 429);
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["resets_in_seconds"], 60);
        assert!(!decoder.is_done());
    }

    #[test]
    fn chat_completions_with_and_without_done() {
        let stream = concat!(
            "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n",
            "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"B\"},\"finish_reason\":\"stop\"}]}\n\n",
        );
        let (chunks, decoder) = run(Api::ChatCompletions, stream);
        assert_eq!(
            chunks,
            [
                Chunk::Text("A".into()),
                Chunk::Text("B".into()),
                Chunk::Done
            ]
        );
        let response = decoder.response();
        assert_eq!(response["choices"][0]["message"]["content"], "AB");
        assert_eq!(response["choices"][0]["finish_reason"], "stop");
        let (chunks, _) = run(
            Api::ChatCompletions,
            "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n",
        );
        assert_eq!(chunks.last(), Some(&Chunk::Done));
        let (chunks, _) = run(
            Api::ChatCompletions,
            "data: {\"error\":{\"code\":\"rate_limit_exceeded\",\"message\":\"slow\"}}\n\n",
        );
        assert!(matches!(chunks[0], Chunk::Failed { status: 429, .. }));
    }

    #[test]
    fn anthropic_message_stream() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"role\":\"assistant\",\"content\":[]}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let (chunks, decoder) = run(Api::AnthropicMessages, stream);
        assert_eq!(chunks, [Chunk::Text("Hi".into()), Chunk::Done]);
        let response = decoder.response();
        assert_eq!(response["stop_reason"], "end_turn");
        assert_eq!(response["content"][0]["text"], "Hi");
        let (chunks, _) = run(
            Api::AnthropicMessages,
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n",
        );
        assert!(matches!(chunks[0], Chunk::Failed { status: 529, .. }));
    }

    #[test]
    fn anthropic_non_object_message_start_does_not_panic() {
        // Found by fuzzing (fuzz/fuzz_targets/sse.rs): a `message` that is not an object used
        // to become the response, and the next field set on it panicked.
        for message in ["1", "\"x\"", "[1]", "true", "null"] {
            let stream = format!(
                "data: {{\"type\":\"message_start\",\"message\":{message}}}\n\n\
                 data: {{\"type\":\"message_delta\",\"delta\":{{}},\"usage\":{{\"output_tokens\":1}}}}\n\n\
                 data: {{\"type\":\"message_stop\"}}\n\n"
            );
            let (chunks, decoder) = run(Api::AnthropicMessages, &stream);
            assert_eq!(chunks, [Chunk::Done], "{message}");
            assert_eq!(decoder.response()["usage"]["output_tokens"], 1, "{message}");
        }
        let (_, decoder) = run(
            Api::CodexResponses,
            "data: {\"type\":\"response.completed\",\"response\":7}\n\n",
        );
        assert!(decoder.response().is_object());
    }

    #[test]
    fn garbage_is_ignored_and_a_cut_stream_is_not_done() {
        let (chunks, decoder) = run(Api::CodexResponses, "data: {not json\n\n\u{0}\u{1}garbage");
        assert!(chunks.is_empty());
        assert!(!decoder.is_done());
    }
}
