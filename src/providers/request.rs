//! The one-shot request of `rotor call`, built for each API: the user's prompt as the API wants
//! it, streamed, with the profile's auth headers.

use super::{Api, Credential, auth_headers, inference_url};
use serde_json::{Value, json};

/// The Codex backend requires instructions; this neutral one is used without `--system`.
const DEFAULT_INSTRUCTIONS: &str = "You are a helpful assistant.";
const ANTHROPIC_MAX_TOKENS: u32 = 4096;

/// What the user asks.
#[derive(Debug, Clone)]
pub(crate) struct Prompt {
    pub model: String,
    pub system: Option<String>,
    pub text: String,
}

/// A request ready for the transport.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub url: String,
    /// Header names and values. Contains the secret: never log this.
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

/// Builds the streaming request of `api` for one attempt.
pub(crate) fn build_request(
    api: Api,
    base_url: &str,
    credential: Credential<'_>,
    prompt: &Prompt,
    session_id: &str,
) -> HttpRequest {
    let mut headers = vec![
        ("accept", "text/event-stream".to_string()),
        ("user-agent", super::USER_AGENT.to_string()),
    ];
    headers.extend(auth_headers(api, credential));
    let body = match api {
        Api::CodexResponses => {
            headers.push(("session_id", session_id.to_string()));
            json!({
                "model": prompt.model,
                "instructions": prompt.system.as_deref().unwrap_or(DEFAULT_INSTRUCTIONS),
                "input": [{
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": prompt.text}],
                }],
                "stream": true,
                "store": false,
            })
        }
        Api::AnthropicMessages => {
            let mut body = json!({
                "model": prompt.model,
                "max_tokens": ANTHROPIC_MAX_TOKENS,
                "messages": [{"role": "user", "content": prompt.text}],
                "stream": true,
            });
            if let Some(system) = &prompt.system {
                body["system"] = Value::from(system.as_str());
            }
            body
        }
        Api::ChatCompletions => {
            let mut messages = Vec::new();
            if let Some(system) = &prompt.system {
                messages.push(json!({"role": "system", "content": system}));
            }
            messages.push(json!({"role": "user", "content": prompt.text}));
            json!({"model": prompt.model, "messages": messages, "stream": true})
        }
    };
    HttpRequest {
        url: inference_url(api, base_url),
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::AuthType;
    use crate::providers::{Api, Credential};

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
}
