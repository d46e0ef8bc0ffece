//! The provider APIs `rotor call` speaks: how a request is built for each, and how its streamed
//! answer is read. No I/O here: the transport sends what this builds and feeds back the bytes.
//!
//! - `openai-codex`: the ChatGPT Codex Responses API (`POST {base}/responses`, SSE).
//! - `anthropic`: the Anthropic Messages API (`POST {base}/v1/messages`, SSE).
//! - every other provider: an OpenAI-compatible Chat Completions API
//!   (`POST {base}/chat/completions`, SSE), e.g. OpenRouter or a custom endpoint.

pub mod sse;
mod stream;

pub use stream::{Chunk, StreamDecoder};

use crate::pool::AuthType;
use serde_json::{Value, json};

pub const CODEX_BASE_URL: &str = "https://chatgpt.com/backend-api/codex";
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
pub const OPENROUTER_BASE_URL: &str = "https://openrouter.ai/api/v1";
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// What Codex's Cloudflare front accepts as a first-party client (Hermes pins the same value).
const CODEX_ORIGINATOR: &str = "codex_cli_rs";
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Anthropic OAuth (setup-token) bearer access needs this beta flag.
const ANTHROPIC_OAUTH_BETA: &str = "oauth-2025-04-20";
/// The Codex backend requires instructions; this neutral one is used without `--system`.
const DEFAULT_INSTRUCTIONS: &str = "You are a helpful assistant.";
const ANTHROPIC_MAX_TOKENS: u32 = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    CodexResponses,
    AnthropicMessages,
    ChatCompletions,
}

impl Api {
    pub fn for_provider(provider: &str) -> Api {
        match provider {
            "openai-codex" => Api::CodexResponses,
            "anthropic" => Api::AnthropicMessages,
            _ => Api::ChatCompletions,
        }
    }
}

/// The base URL used when neither `--base-url` nor the entry's `base_url` gives one.
pub fn default_base_url(provider: &str) -> Option<&'static str> {
    match provider {
        "openai-codex" => Some(CODEX_BASE_URL),
        "anthropic" => Some(ANTHROPIC_BASE_URL),
        "openrouter" => Some(OPENROUTER_BASE_URL),
        "openai" => Some(OPENAI_BASE_URL),
        _ => None,
    }
}

/// The model used without `--model`, where a sensible one exists.
pub fn default_model(provider: &str) -> Option<&'static str> {
    match provider {
        "openai-codex" => Some("gpt-5.5"),
        "anthropic" => Some("claude-sonnet-4-5"),
        "openrouter" => Some("openrouter/auto"),
        _ => None,
    }
}

/// What the user asks.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub model: String,
    pub system: Option<String>,
    pub text: String,
}

/// The credential of the profile being attempted.
#[derive(Clone, Copy)]
pub struct Credential<'a> {
    pub token: &'a str,
    pub auth_type: AuthType,
    /// `chatgpt_account_id` from the Codex JWT.
    pub account_id: Option<&'a str>,
}

/// A request ready for the transport.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub url: String,
    /// Header names and values. Contains the secret: never log this.
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

/// Builds the streaming request of `api` for one attempt.
pub fn build_request(
    api: Api,
    base_url: &str,
    credential: Credential<'_>,
    prompt: &Prompt,
    session_id: &str,
) -> HttpRequest {
    let base = base_url.trim_end_matches('/');
    let mut headers = vec![
        ("accept", "text/event-stream".to_string()),
        (
            "user-agent",
            concat!("rotor/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    match api {
        Api::CodexResponses => {
            headers.push(("authorization", format!("Bearer {}", credential.token)));
            if let Some(account) = credential.account_id {
                headers.push(("chatgpt-account-id", account.to_string()));
            }
            headers.push(("originator", CODEX_ORIGINATOR.to_string()));
            headers.push(("session_id", session_id.to_string()));
            HttpRequest {
                url: format!("{base}/responses"),
                headers,
                body: json!({
                    "model": prompt.model,
                    "instructions": prompt.system.as_deref().unwrap_or(DEFAULT_INSTRUCTIONS),
                    "input": [{
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": prompt.text}],
                    }],
                    "stream": true,
                    "store": false,
                }),
            }
        }
        Api::AnthropicMessages => {
            match credential.auth_type {
                AuthType::Oauth => {
                    headers.push(("authorization", format!("Bearer {}", credential.token)));
                    headers.push(("anthropic-beta", ANTHROPIC_OAUTH_BETA.to_string()));
                }
                AuthType::ApiKey => headers.push(("x-api-key", credential.token.to_string())),
            }
            headers.push(("anthropic-version", ANTHROPIC_VERSION.to_string()));
            let url = if base.ends_with("/v1") {
                format!("{base}/messages")
            } else {
                format!("{base}/v1/messages")
            };
            let mut body = json!({
                "model": prompt.model,
                "max_tokens": ANTHROPIC_MAX_TOKENS,
                "messages": [{"role": "user", "content": prompt.text}],
                "stream": true,
            });
            if let Some(system) = &prompt.system {
                body["system"] = Value::from(system.as_str());
            }
            HttpRequest { url, headers, body }
        }
        Api::ChatCompletions => {
            headers.push(("authorization", format!("Bearer {}", credential.token)));
            let mut messages = Vec::new();
            if let Some(system) = &prompt.system {
                messages.push(json!({"role": "system", "content": system}));
            }
            messages.push(json!({"role": "user", "content": prompt.text}));
            HttpRequest {
                url: format!("{base}/chat/completions"),
                headers,
                body: json!({"model": prompt.model, "messages": messages, "stream": true}),
            }
        }
    }
}

/// The HTTP status a failure reported *inside* a 200 stream stands for, so it is classified
/// like the matching HTTP error (a `usage_limit_reached` event is a 429, an overload a 529).
pub fn status_for_stream_error(error_type: &str) -> u16 {
    let t = error_type.to_ascii_lowercase();
    match t.as_str() {
        "usage_limit_reached"
        | "usage_not_included"
        | "insufficient_quota"
        | "rate_limit_exceeded"
        | "rate_limit_error"
        | "rate_limited" => 429,
        "overloaded_error" | "overloaded" => 529,
        "authentication_error"
        | "invalid_api_key"
        | "token_invalidated"
        | "token_revoked"
        | "invalid_token"
        | "token_expired" => 401,
        "permission_error" => 403,
        "billing_error" | "billing_hard_limit_reached" => 402,
        "invalid_request_error"
        | "invalid_request"
        | "context_length_exceeded"
        | "invalid_prompt" => 400,
        "not_found_error" | "model_not_found" => 404,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> Prompt {
        Prompt {
            model: "m".into(),
            system: Some("be brief".into()),
            text: "hi".into(),
        }
    }

    fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
        req.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn codex_request_has_the_responses_shape() {
        let cred = Credential {
            token: "tok",
            auth_type: AuthType::Oauth,
            account_id: Some("acct-1"),
        };
        let req = build_request(
            Api::CodexResponses,
            "http://h/codex/",
            cred,
            &prompt(),
            "s-1",
        );
        assert_eq!(req.url, "http://h/codex/responses");
        assert_eq!(header(&req, "authorization"), Some("Bearer tok"));
        assert_eq!(header(&req, "chatgpt-account-id"), Some("acct-1"));
        assert_eq!(header(&req, "originator"), Some("codex_cli_rs"));
        assert_eq!(header(&req, "session_id"), Some("s-1"));
        assert_eq!(req.body["stream"], true);
        assert_eq!(req.body["store"], false);
        assert_eq!(req.body["instructions"], "be brief");
        assert_eq!(req.body["input"][0]["content"][0]["text"], "hi");
    }

    #[test]
    fn anthropic_uses_x_api_key_or_oauth_bearer() {
        let key = Credential {
            token: "sk-ant",
            auth_type: AuthType::ApiKey,
            account_id: None,
        };
        let req = build_request(Api::AnthropicMessages, "http://h", key, &prompt(), "s");
        assert_eq!(req.url, "http://h/v1/messages");
        assert_eq!(header(&req, "x-api-key"), Some("sk-ant"));
        assert_eq!(header(&req, "authorization"), None);
        assert_eq!(req.body["system"], "be brief");
        let oauth = Credential {
            auth_type: AuthType::Oauth,
            ..key
        };
        let req = build_request(Api::AnthropicMessages, "http://h/v1", oauth, &prompt(), "s");
        assert_eq!(req.url, "http://h/v1/messages");
        assert_eq!(header(&req, "authorization"), Some("Bearer sk-ant"));
        assert_eq!(header(&req, "anthropic-beta"), Some("oauth-2025-04-20"));
    }

    #[test]
    fn chat_completions_request() {
        let cred = Credential {
            token: "k",
            auth_type: AuthType::ApiKey,
            account_id: None,
        };
        let req = build_request(
            Api::ChatCompletions,
            "http://h/api/v1",
            cred,
            &prompt(),
            "s",
        );
        assert_eq!(req.url, "http://h/api/v1/chat/completions");
        assert_eq!(req.body["messages"][0]["role"], "system");
        assert_eq!(req.body["messages"][1]["content"], "hi");
    }

    #[test]
    fn stream_errors_map_to_http_statuses() {
        assert_eq!(status_for_stream_error("usage_limit_reached"), 429);
        assert_eq!(status_for_stream_error("overloaded_error"), 529);
        assert_eq!(status_for_stream_error("invalid_request_error"), 400);
        assert_eq!(status_for_stream_error("something_new"), 500);
    }
}
