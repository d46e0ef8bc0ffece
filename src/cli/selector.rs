//! Profile selectors: how an operator names a profile on the command line.
//!
//! Forms: `N` or `#N` (1-based position within a provider, as `hermes auth list` prints),
//! `PROVIDER#N`, the entry `id`, its `label`, or a prefix (4+ hex digits) of its profile hash.
//! A selector may be read several ways; it resolves only if all readings agree on one profile.
//! Error messages name candidates by `provider#N (hash)`, never by label: labels are often
//! email addresses, and errors end up in logs.

use crate::error::{Error, Result};
use crate::pool::Profile;

/// Shortest hash prefix accepted, so a short number is never mistaken for a hash.
const MIN_HASH_PREFIX: usize = 4;

/// How a profile is named in messages: `openai-codex#2 (d4e5f6a7b8c9)`.
pub(crate) fn describe(profile: &Profile) -> String {
    format!(
        "{}#{} ({})",
        profile.provider, profile.position, profile.hash
    )
}

/// Resolves `selector` among `profiles` (already restricted to `--provider` if one was given).
pub(crate) fn resolve<'a>(selector: &str, profiles: &'a [Profile]) -> Result<&'a Profile> {
    let wanted = selector.trim();
    let position = |text: &str| text.parse::<usize>().ok().filter(|n| *n > 0);
    let by_position = position(wanted.strip_prefix('#').unwrap_or(wanted));
    let by_provider_position = wanted
        .rsplit_once('#')
        .filter(|(provider, _)| !provider.is_empty())
        .and_then(|(provider, n)| Some((provider, position(n)?)));
    let hash_prefix = (wanted.len() >= MIN_HASH_PREFIX
        && wanted.chars().all(|c| c.is_ascii_hexdigit()))
    .then(|| wanted.to_ascii_lowercase());

    let matches: Vec<&Profile> = profiles
        .iter()
        .filter(|p| {
            by_position == Some(p.position)
                || by_provider_position == Some((p.provider.as_str(), p.position))
                || p.id == wanted
                || p.label == wanted
                || hash_prefix
                    .as_ref()
                    .is_some_and(|h| p.hash.starts_with(h.as_str()))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::NotFound(format!(
            "no profile matches `{selector}`; candidates: {}",
            list(profiles.iter())
        ))),
        many => Err(Error::NotFound(format!(
            "`{selector}` is ambiguous: it matches {}; use PROVIDER#N, a longer hash prefix or --provider",
            list(many.iter().copied())
        ))),
    }
}

/// Checks that `provider` has a pool, naming the ones that exist if not.
pub(crate) fn check_provider(provider: &str, known: &[&str]) -> Result<()> {
    if known.contains(&provider) {
        return Ok(());
    }
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    Err(Error::NotFound(format!(
        "no provider `{provider}` in the credential pool; providers: {known}"
    )))
}

fn list<'a>(profiles: impl Iterator<Item = &'a Profile>) -> String {
    let names: Vec<String> = profiles.map(describe).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pool::tests::profile;

    fn pool() -> Vec<Profile> {
        let mut ps = vec![
            profile("a1b2c3", 0),
            profile("d4e5f6", 1),
            profile("k1x2y3", 0),
        ];
        ps[1].position = 2;
        ps[2].provider = "openrouter".into();
        ps[2].label = "OPENROUTER_API_KEY".into();
        ps
    }

    #[test]
    fn every_form_resolves() {
        let ps = pool();
        let hash = ps[1].hash.clone();
        for selector in [
            "2",
            "#2",
            "openai-codex#2",
            "d4e5f6",
            "d4e5f6@example.com",
            &hash[..4],
            &hash,
        ] {
            assert_eq!(resolve(selector, &ps).unwrap().id, "d4e5f6", "{selector}");
        }
        assert_eq!(resolve("openrouter#1", &ps).unwrap().id, "k1x2y3");
        assert_eq!(resolve("OPENROUTER_API_KEY", &ps).unwrap().id, "k1x2y3");
    }

    #[test]
    fn position_one_is_ambiguous_across_providers() {
        let ps = pool();
        let err = resolve("1", &ps).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::NOT_FOUND);
        let text = err.to_string();
        assert!(
            text.contains("ambiguous")
                && text.contains("openai-codex#1")
                && text.contains("openrouter#1"),
            "{text}"
        );
        assert!(
            !text.contains("@example.com"),
            "labels stay out of errors: {text}"
        );
    }

    #[test]
    fn unknown_selector_lists_candidates() {
        let ps = pool();
        let text = resolve("9", &ps).unwrap_err().to_string();
        assert!(
            text.starts_with("no profile matches `9`; candidates: openai-codex#1"),
            "{text}"
        );
        // Three hex digits are too short to be a hash prefix.
        assert!(resolve(&ps[0].hash[..3], &ps).is_err());
    }

    #[test]
    fn unknown_provider_names_the_known_ones() {
        let err = check_provider("anthropic", &["openai-codex", "openrouter"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no provider `anthropic` in the credential pool; providers: openai-codex, openrouter"
        );
        assert!(check_provider("openrouter", &["openrouter"]).is_ok());
    }
}
