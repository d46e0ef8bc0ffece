//! What rotor knows about each provider API, in one place: endpoints and default base URLs,
//! API versions and the headers that carry a credential, default models, the error codes that
//! mean a credential is gone for good, the token endpoint, and which fields of auth.json hold
//! secrets. No I/O here: the upstream half sends what this builds and feeds back the bytes.
//!
//! - `openai-codex`: the ChatGPT Codex Responses API (`POST {base}/responses`, SSE).
//! - `anthropic`: the Anthropic Messages API (`POST {base}/v1/messages`, SSE).
//! - every other provider: an OpenAI-compatible Chat Completions API
//!   (`POST {base}/chat/completions`, SSE), e.g. OpenRouter or a custom endpoint.

pub mod frames;
mod request;
pub mod sse;
mod stream;

pub(crate) use request::{HttpRequest, Prompt, build_request};
pub use stream::{Chunk, StreamDecoder};

use crate::pool::AuthType;

pub(crate) const CODEX_BASE_URL: &str = "https://chatgpt.com/backend-api/codex";
pub(crate) const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
pub(crate) const OPENROUTER_BASE_URL: &str = "https://openrouter.ai/api/v1";
pub(crate) const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// The OAuth token endpoint of Codex accounts (`--token-url` overrides it).
pub(crate) const CODEX_TOKEN_URL: &str = "https://auth.openai.com/oauth/token";
/// The public OAuth client id of the Codex CLI, which Hermes's device-code login uses too.
pub(crate) const CODEX_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";

/// How rotor names itself to every upstream.
pub(crate) const USER_AGENT: &str = concat!("rotor/", env!("CARGO_PKG_VERSION"));

/// What Codex's Cloudflare front accepts as a first-party client (Hermes pins the same value).
const CODEX_ORIGINATOR: &str = "codex_cli_rs";
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Anthropic OAuth (setup-token) bearer access needs this beta flag.
const ANTHROPIC_OAUTH_BETA: &str = "oauth-2025-04-20";

/// Reasons after which a credential can never be used again, on a 401 from an API or from a
/// token endpoint (Hermes's terminal auth reasons): the profile is marked dead.
pub(crate) const TERMINAL_AUTH_CODES: &[&str] = &[
    "token_invalidated",
    "token_revoked",
    "invalid_token",
    "invalid_grant",
    "unauthorized_client",
    "refresh_token_reused",
];

/// Words in an auth.json key whose string value is a secret, in any provider's entries or in
/// the `providers` section: redacted from whatever a server sends back.
pub(crate) const SECRET_KEY_WORDS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "authorization",
    "cookie",
];

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

/// The credential of the profile being attempted.
#[derive(Clone, Copy)]
pub struct Credential<'a> {
    pub token: &'a str,
    pub auth_type: AuthType,
    /// `chatgpt_account_id` from the Codex JWT.
    pub account_id: Option<&'a str>,
}

impl<'a> Credential<'a> {
    /// The credential of `profile`, whose stored access token is `token`.
    pub(crate) fn of(profile: &'a crate::pool::Profile, token: &'a str) -> Self {
        Credential {
            token,
            auth_type: profile.auth_type,
            account_id: match profile.auth_type {
                AuthType::Oauth => profile
                    .claims
                    .as_ref()
                    .and_then(|c| c.account_id.as_deref()),
                AuthType::ApiKey => None,
            },
        }
    }
}

/// The headers that carry `credential` to `api` (with the API version and client identity they
/// need), for an inference request and for a probe alike. They hold the secret: never log them.
pub fn auth_headers(api: Api, credential: Credential<'_>) -> Vec<(&'static str, String)> {
    let bearer = || ("authorization", format!("Bearer {}", credential.token));
    match api {
        Api::CodexResponses => {
            let mut headers = vec![bearer()];
            if let Some(account) = credential.account_id {
                headers.push(("chatgpt-account-id", account.to_string()));
            }
            headers.push(("originator", CODEX_ORIGINATOR.to_string()));
            headers
        }
        Api::AnthropicMessages => {
            let mut headers = match credential.auth_type {
                AuthType::Oauth => vec![
                    bearer(),
                    ("anthropic-beta", ANTHROPIC_OAUTH_BETA.to_string()),
                ],
                AuthType::ApiKey => vec![("x-api-key", credential.token.to_string())],
            };
            headers.push(("anthropic-version", ANTHROPIC_VERSION.to_string()));
            headers
        }
        Api::ChatCompletions => vec![bearer()],
    }
}

/// Where a request of `api` goes, from a base URL.
pub fn inference_url(api: Api, base: &str) -> String {
    let base = base.trim_end_matches('/');
    match api {
        Api::CodexResponses => format!("{base}/responses"),
        Api::AnthropicMessages if base.ends_with("/v1") => format!("{base}/messages"),
        Api::AnthropicMessages => format!("{base}/v1/messages"),
        Api::ChatCompletions => format!("{base}/chat/completions"),
    }
}

/// Where a profile of `provider` is probed without spending quota: Codex's usage report
/// (`<base without /codex>/wham/usage`), else the API's model list.
pub fn probe_url(provider: &str, base: &str) -> String {
    let base = base.trim_end_matches('/');
    match Api::for_provider(provider) {
        Api::CodexResponses => {
            format!("{}/wham/usage", base.strip_suffix("/codex").unwrap_or(base))
        }
        Api::AnthropicMessages if base.ends_with("/v1") => format!("{base}/models"),
        Api::AnthropicMessages => format!("{base}/v1/models"),
        Api::ChatCompletions => format!("{base}/models"),
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

    #[test]
    fn probe_urls() {
        assert_eq!(
            probe_url("openai-codex", "https://chatgpt.com/backend-api/codex"),
            "https://chatgpt.com/backend-api/wham/usage"
        );
        assert_eq!(
            probe_url("openai-codex", "http://127.0.0.1:9/codex/"),
            "http://127.0.0.1:9/wham/usage"
        );
        assert_eq!(
            probe_url("anthropic", "https://api.anthropic.com"),
            "https://api.anthropic.com/v1/models"
        );
        assert_eq!(
            probe_url("openrouter", "https://openrouter.ai/api/v1"),
            "https://openrouter.ai/api/v1/models"
        );
    }

    #[test]
    fn stream_errors_map_to_http_statuses() {
        assert_eq!(status_for_stream_error("usage_limit_reached"), 429);
        assert_eq!(status_for_stream_error("overloaded_error"), 529);
        assert_eq!(status_for_stream_error("invalid_request_error"), 400);
        assert_eq!(status_for_stream_error("something_new"), 500);
    }
}
