//! OAuth token refresh for Codex profiles, single-flight across processes (docs/engine.md).
//!
//! Refresh tokens are single-use: if two processes both spent the same one, the second would
//! get `refresh_token_reused` and the account would be marked dead. So a refresh happens only
//! under `auth.lock`, after re-reading the file: if the refresh token on disk is no longer the
//! one this process loaded, another process already rotated the pair and it is adopted as is.
//! Otherwise the token endpoint is called (bounded to 10 s, the one network call allowed under
//! the lock) and the new pair is persisted before the lock is released.

use super::blocking;
use crate::engine::{CODE_MAX_CHARS, MESSAGE_MAX_CHARS, RefreshResult};
use crate::error::Result;
use crate::fleet::tokens;
use crate::providers::{CODEX_CLIENT_ID, TERMINAL_AUTH_CODES};
use crate::sanitize::Redactor;
use crate::store::AuthStore;
use crate::time;
use serde_json::Value;
use std::time::Duration;

/// The bound on the one network call made while holding the lock.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(10);

/// What to refresh.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshTarget<'a> {
    pub provider: &'a str,
    pub id: &'a str,
    /// The refresh token this process read before it decided to refresh.
    pub loaded_refresh_token: Option<&'a str>,
    pub token_url: &'a str,
}

/// Refreshes (or adopts) the token pair of one profile. Store errors (lock timeout, a file
/// that became invalid) are returned as errors; token-endpoint failures as
/// [`RefreshResult::Failed`].
pub(crate) async fn refresh(
    store: &AuthStore,
    client: &reqwest::Client,
    target: RefreshTarget<'_>,
) -> Result<RefreshResult> {
    // With `--share-tokens`, the fleet's lease on the account comes first (waited for
    // without holding auth.lock, which Hermes may want meanwhile).
    let lease = match store.fleet().filter(|f| f.shares_tokens()) {
        Some(fleet) => {
            let (fleet, store) = (fleet.clone(), store.clone());
            let (provider, id) = (target.provider.to_string(), target.id.to_string());
            blocking(move || {
                let doc = store.owner_of(&provider)?.load_file()?;
                let Some(profile) = doc
                    .file_profiles(&provider)
                    .and_then(|ps| ps.into_iter().find(|p| p.id == id))
                else {
                    return Ok(None);
                };
                let account = doc.account_key(&provider, &profile);
                let lease = tokens::acquire(&fleet, &account);
                // Read now, before auth.lock: Redis is never waited for under it.
                let pair = tokens::stored(&fleet, &account);
                Ok(Some(SharedRefresh {
                    fleet,
                    account,
                    lease,
                    pair,
                }))
            })
            .await?
        }
        None => None,
    };
    let result = refresh_locked(store, client, target, lease.as_ref()).await;
    if let Some(shared) = lease {
        blocking(move || {
            shared.release();
            Ok(())
        })
        .await?;
    }
    result
}

/// The fleet's part of a refresh under `--share-tokens`.
struct SharedRefresh {
    fleet: crate::fleet::Fleet,
    account: String,
    /// `None` when Redis is down or the lease stayed taken: the refresh goes on alone.
    lease: Option<tokens::Lease>,
    /// The pair another host stored for the account, read once the lease was held.
    pair: Option<tokens::Pair>,
}

impl SharedRefresh {
    fn release(self) {
        if let Some(lease) = self.lease {
            lease.release(&self.fleet);
        }
    }
}

async fn refresh_locked(
    store: &AuthStore,
    client: &reqwest::Client,
    target: RefreshTarget<'_>,
    shared: Option<&SharedRefresh>,
) -> Result<RefreshResult> {
    // The lock is taken, and the file read and written, on the blocking pool; the guard is an
    // owned value the token request waits beside.
    let (locked, mut doc) = {
        let store = store.clone();
        let provider = target.provider.to_string();
        blocking(move || {
            // In a Hermes profile home, a borrowed row's single-use pair lives in the root's
            // file: it is read and written there, under that file's lock.
            let locked = store.owner_of(&provider)?.lock()?;
            let doc = locked.read()?;
            Ok((locked, doc))
        })
        .await?
    };
    let on_disk = doc
        .refresh_token(target.provider, target.id)
        .map(str::to_owned);
    if on_disk.is_some() && on_disk.as_deref() != target.loaded_refresh_token {
        return Ok(RefreshResult::Adopted);
    }
    let Some(refresh_token) = on_disk else {
        return Ok(RefreshResult::Failed {
            dead: true,
            reason: Some("missing_refresh_token".into()),
            message: Some("the profile has no refresh token; log in again".into()),
        });
    };
    if target.provider != "openai-codex" {
        return Ok(RefreshResult::Failed {
            dead: false,
            reason: Some("refresh_unsupported".into()),
            message: Some(format!(
                "rotor refreshes only openai-codex tokens, not {}",
                target.provider
            )),
        });
    }
    // Another host of the fleet refreshed this account after this host last did: its pair
    // is the live one (this host's refresh token was spent by that refresh).
    // (Also without the lease: a pair stored by a host that held it too long is still the
    // live one.)
    if let Some(pair) = shared.and_then(|s| s.pair.clone()) {
        let local_at = doc.last_refresh(target.provider, target.id);
        if pair.refresh_token != refresh_token && local_at.is_none_or(|at| pair.at >= at) {
            set_pair(
                &mut doc,
                target,
                pair.access_token,
                pair.refresh_token,
                pair.at,
            )?;
            blocking(move || locked.write(&mut doc)).await?;
            return Ok(RefreshResult::Adopted);
        }
    }
    let redactor = doc.redactor();
    let tokens = match post_refresh(client, target.token_url, &refresh_token, &redactor).await {
        Ok(tokens) => tokens,
        Err(failed) => return Ok(failed),
    };
    let now = time::now();
    let new_refresh = tokens.refresh_token.unwrap_or(refresh_token);
    set_pair(
        &mut doc,
        target,
        tokens.access_token.clone(),
        new_refresh.clone(),
        now,
    )?;
    blocking(move || locked.write(&mut doc)).await?;
    if let Some(shared) = shared.filter(|s| s.lease.is_some()) {
        let (fleet, account) = (shared.fleet.clone(), shared.account.clone());
        let pair = tokens::Pair {
            access_token: tokens.access_token,
            refresh_token: new_refresh,
            at: now,
            host: fleet.host().to_string(),
        };
        blocking(move || {
            tokens::store(&fleet, &account, &pair);
            Ok(())
        })
        .await?;
    }
    Ok(RefreshResult::Refreshed)
}

/// Writes a token pair into the entry, with `last_refresh` = `at`.
fn set_pair(
    doc: &mut crate::store::Document,
    target: RefreshTarget<'_>,
    access_token: String,
    refresh_token: String,
    at: time::Epoch,
) -> Result<()> {
    doc.set_fields(
        target.provider,
        target.id,
        vec![
            ("access_token", Value::from(access_token)),
            ("refresh_token", Value::from(refresh_token)),
            // Hermes writes `isoformat()` with a `Z` here.
            (
                "last_refresh",
                Value::from(time::python_isoformat(at).replace("+00:00", "Z")),
            ),
        ],
    )
}

struct Tokens {
    access_token: String,
    refresh_token: Option<String>,
}

async fn post_refresh(
    client: &reqwest::Client,
    token_url: &str,
    refresh_token: &str,
    redactor: &Redactor,
) -> Result<Tokens, RefreshResult> {
    // Whatever the endpoint says is cleaned like any server text: it may echo the refresh
    // token it was sent, and a 5,000-character error must not be stored whole.
    let failed = |dead: bool, reason: &str, message: String| RefreshResult::Failed {
        dead,
        reason: Some(redactor.clean(reason, CODE_MAX_CHARS)),
        message: Some(redactor.clean(&message, MESSAGE_MAX_CHARS)),
    };
    let form = form(refresh_token);
    let sent = client
        .post(token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .timeout(REFRESH_TIMEOUT)
        .body(form)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) => {
            return Err(failed(
                false,
                "refresh_unreachable",
                format!(
                    "{}: {}",
                    crate::sanitize::display_url(token_url),
                    crate::upstream::http::describe(&e)
                ),
            ));
        }
    };
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        // Never re-sent: the refresh token must not travel to wherever the endpoint points.
        let location = response
            .headers()
            .get("location")
            .map(|l| crate::sanitize::display_url(&String::from_utf8_lossy(l.as_bytes())))
            .unwrap_or_else(|| "no Location".into());
        return Err(failed(
            false,
            "refresh_redirected",
            format!("the token endpoint redirected to {location}; rotor follows no redirects"),
        ));
    }
    let body = crate::upstream::http::read_bounded(&mut response).await;
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if status == 200 {
        return match json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
        {
            Some(access) => Ok(Tokens {
                access_token: access.trim().to_string(),
                refresh_token: json
                    .get("refresh_token")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            }),
            None => Err(failed(
                false,
                "refresh_invalid_response",
                "the token endpoint sent no access_token".into(),
            )),
        };
    }
    // OpenAI's shape {"error": {"code"|"type", "message"}} or OAuth's {"error": "...", "error_description"}.
    let (code, message) = match json.get("error") {
        Some(Value::Object(e)) => (
            e.get("code")
                .or_else(|| e.get("type"))
                .and_then(Value::as_str),
            e.get("message").and_then(Value::as_str),
        ),
        Some(Value::String(code)) => (
            Some(code.as_str()),
            json.get("error_description").and_then(Value::as_str),
        ),
        _ => (None, None),
    };
    let code = code.unwrap_or("refresh_failed");
    let message = format!(
        "token refresh failed with HTTP {status}{}",
        message.map(|m| format!(": {m}")).unwrap_or_default()
    );
    // Only the endpoint's own word that the grant is gone makes the profile dead: a bare 401 or
    // 403 may come from a proxy or a firewall on the way, and dead is for good.
    let dead = TERMINAL_AUTH_CODES
        .iter()
        .any(|c| code.trim().eq_ignore_ascii_case(c));
    Err(failed(dead, code, message))
}

/// The token request's `application/x-www-form-urlencoded` body.
fn form(refresh_token: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("refresh_token", refresh_token)
        .append_pair("client_id", CODEX_CLIENT_ID)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_carries_each_value_exactly() {
        let token = "rt_abc-1.2~ a+b/c=é&x";
        let body = form(token);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("grant_type".to_string(), "refresh_token".to_string()),
                ("refresh_token".to_string(), token.to_string()),
                ("client_id".to_string(), CODEX_CLIENT_ID.to_string()),
            ]
        );
        assert!(!body.contains(' ') && !body.contains('é'), "{body}");
    }
}
