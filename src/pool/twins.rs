//! Twins: two profiles of one provider that are one upstream account. Operators add the same
//! account twice by accident (a second `hermes auth add` of a login they already had, one API
//! key under two labels); both rows then spend one quota, so what is learned about one — a
//! cooldown, a dead credential — holds for the other. Without that, a healthy-looking twin
//! burns a request on a limit its sibling already hit.

use super::{Profile, TokenClaims};
use crate::time::Epoch;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What a profile's twins say about it: dead if one of them is, cooling until the latest end
/// of their cooldowns, and their model cooldowns (which [`Profile::availability`] compares
/// with `now`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TwinHold {
    pub dead: bool,
    pub until: Option<Epoch>,
    pub models: Vec<(String, Epoch)>,
}

fn digest(kind: &str, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(kind.as_bytes());
    for part in parts {
        hash.update([0]);
        hash.update(part.as_bytes());
    }
    // Kept in memory to compare, never shown: a digest of a key is still a fingerprint of it.
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The account of an OAuth token: the ChatGPT account id *and* the subject. Members of one
/// ChatGPT workspace share the account id but each has a subject (and a quota) of their own,
/// so both are needed; without either, the token is nobody's twin.
pub(crate) fn account_of_token(claims: Option<&TokenClaims>) -> Option<String> {
    let claims = claims?;
    let account = claims
        .account_id
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())?;
    let subject = claims
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())?;
    Some(digest("oauth", &[account, subject]))
}

/// The account of an API key: the key itself.
pub(crate) fn account_of_key(key: &str) -> Option<String> {
    let key = key.trim();
    (!key.is_empty()).then(|| digest("key", &[key]))
}

/// Sets every profile's [`TwinHold`] from the status of the others with its account (one
/// provider's profiles). Called whenever the statuses change.
pub(crate) fn link_twins(profiles: &mut [Profile]) {
    // Most pools have no twins: no map, no allocation, on every status change of a request.
    if profiles
        .iter()
        .filter(|p| p.account.is_some())
        .nth(1)
        .is_none()
    {
        for p in profiles.iter_mut() {
            p.twin = None;
        }
        return;
    }
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in profiles.iter().enumerate() {
        if let Some(account) = p.account.as_deref() {
            groups.entry(account).or_default().push(i);
        }
    }
    let mut holds = vec![None; profiles.len()];
    for members in groups.values().filter(|m| m.len() > 1) {
        for &i in members {
            let others = members.iter().filter(|&&j| j != i).map(|&j| &profiles[j]);
            let mut hold = TwinHold::default();
            for other in others {
                hold.dead |= other.is_dead();
                if let Some(until) = other.cooldown_until() {
                    hold.until = Some(hold.until.map_or(until, |u: Epoch| u.max(until)));
                }
                hold.models.extend(other.model_cooldowns.iter().cloned());
            }
            holds[i] = Some(Box::new(hold));
        }
    }
    for (p, hold) in profiles.iter_mut().zip(holds) {
        p.twin = hold;
    }
}

/// The positions (1-based, as listed) of `profile`'s twins in `profiles`.
pub(crate) fn twins_of<'a>(
    profile: &'a Profile,
    profiles: &'a [Profile],
) -> impl Iterator<Item = usize> + 'a {
    profiles
        .iter()
        .filter(move |p| p.id != profile.id && p.account.is_some() && p.account == profile.account)
        .map(|p| p.position)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pool::tests::profile;
    use crate::pool::{Availability, LastStatus};

    fn claims(account: Option<&str>, subject: Option<&str>) -> TokenClaims {
        TokenClaims {
            account_id: account.map(Into::into),
            subject: subject.map(Into::into),
            ..TokenClaims::default()
        }
    }

    #[test]
    fn an_oauth_account_needs_both_the_account_id_and_the_subject() {
        let a = account_of_token(Some(&claims(Some("acct-1"), Some("user-1"))));
        assert!(a.is_some());
        assert_eq!(
            a,
            account_of_token(Some(&claims(Some("acct-1"), Some("user-1"))))
        );
        // Same workspace, another member: not a twin.
        assert_ne!(
            a,
            account_of_token(Some(&claims(Some("acct-1"), Some("user-2"))))
        );
        assert_eq!(account_of_token(Some(&claims(Some("acct-1"), None))), None);
        assert_eq!(account_of_token(Some(&claims(None, Some("user-1")))), None);
        assert_eq!(
            account_of_token(Some(&claims(Some(" "), Some("user-1")))),
            None
        );
        assert_eq!(account_of_token(None), None);
        // A key and an OAuth account never compare equal, and the digest shows no key.
        let key = account_of_key("sk-secret-123").unwrap();
        assert!(!key.contains("secret"));
        assert_eq!(account_of_key("  "), None);
    }

    #[test]
    fn a_cooldown_or_a_dead_mark_holds_for_the_twins_only() {
        let mut pool = vec![profile("a", 0), profile("b", 1), profile("c", 2)];
        pool[0].account = Some("x".into());
        pool[1].account = Some("x".into());
        pool[2].account = Some("y".into());
        pool[0].status.last_status = Some(LastStatus::Exhausted);
        pool[0].status.last_error_reset_at = Some(5000.0);
        link_twins(&mut pool);
        assert_eq!(
            pool[1].availability(1000.0, None),
            Availability::Cooling { until: 5000.0 }
        );
        assert_eq!(pool[2].availability(1000.0, None), Availability::Available);
        // The cooled one's own hold comes from its healthy twin: none.
        assert_eq!(pool[0].twin, Some(Box::new(TwinHold::default())));

        pool[0].status.last_status = Some(LastStatus::Dead);
        link_twins(&mut pool);
        assert_eq!(pool[1].availability(1000.0, None), Availability::Dead);
        assert_eq!(pool[2].twin, None);
        let positions: Vec<usize> = twins_of(&pool[1], &pool).collect();
        assert_eq!(positions, vec![pool[0].position]);
    }
}
