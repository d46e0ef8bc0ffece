//! The few claims rotor reads from an OAuth access token. The token is not verified (rotor is
//! not its audience); claims only inform display, expiry and the `ChatGPT-Account-ID` header.

use crate::time::Epoch;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The OpenAI claim namespace holding plan and account id.
const OPENAI_AUTH_CLAIM: &str = "https://api.openai.com/auth";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenClaims {
    pub expires_at: Option<Epoch>,
    pub plan: Option<String>,
    pub account_id: Option<String>,
    /// The account's email (`email`, or the `https://api.openai.com/profile` claim's): never
    /// shown in JSON, but known so that a server echoing it can be redacted.
    pub email: Option<String>,
    /// `sub`: with the account id, which person of a ChatGPT workspace the token is for.
    pub subject: Option<String>,
}

impl TokenClaims {
    /// Decodes the payload of a JWT; `None` when the token is not a JWT with a JSON payload.
    pub(crate) fn from_jwt(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let (_header, payload) = (parts.next()?, parts.next()?);
        parts.next()?;
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: Value = serde_json::from_slice(&bytes).ok()?;
        let openai = claims.get(OPENAI_AUTH_CLAIM);
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        Some(TokenClaims {
            expires_at: claims.get("exp").and_then(Value::as_f64),
            plan: text(openai.and_then(|o| o.get("chatgpt_plan_type"))),
            account_id: text(openai.and_then(|o| o.get("chatgpt_account_id"))),
            subject: text(claims.get("sub")),
            email: text(claims.get("email")).or_else(|| {
                text(
                    claims
                        .get("https://api.openai.com/profile")
                        .and_then(|p| p.get("email")),
                )
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The access token of profile `a1b2c3` in the Hermes fixtures.
    const FIXTURE_TOKEN: &str = "eyJhbGciOiAibm9uZSIsICJ0eXAiOiAiSldUIn0.eyJleHAiOiA0MTAyNDQ0ODAwLCAiZW1haWwiOiAicHJvQGV4YW1wbGUuY29tIiwgImh0dHBzOi8vYXBpLm9wZW5haS5jb20vYXV0aCI6IHsiY2hhdGdwdF9wbGFuX3R5cGUiOiAicHJvbGl0ZSIsICJjaGF0Z3B0X2FjY291bnRfaWQiOiAiYWNjdC0wMDAxIn19.fake-signature";

    #[test]
    fn reads_plan_account_and_expiry() {
        let claims = TokenClaims::from_jwt(FIXTURE_TOKEN);
        assert_eq!(
            claims,
            Some(TokenClaims {
                expires_at: Some(4102444800.0),
                plan: Some("prolite".into()),
                account_id: Some("acct-0001".into()),
                email: Some("pro@example.com".into()),
                subject: None,
            })
        );
    }

    #[test]
    fn non_jwt_tokens_have_no_claims() {
        assert_eq!(
            TokenClaims::from_jwt("sk-or-v1-fake-0000000000000000"),
            None
        );
        assert_eq!(TokenClaims::from_jwt("a.b"), None);
        assert_eq!(TokenClaims::from_jwt("a.!!!.c"), None);
    }
}
