//! What the fleet shares about one upstream account, and how it meets a host's own state.
//!
//! One Redis key per account holds a [`Record`]: its cooldown, its dead credential, its model
//! cooldowns and its last deliberate clear, each with when and by which host. Hosts send
//! [`Op`]s; `merge.lua` folds them in inside Redis (atomic against every other host):
//!
//! - a cooldown never gets shorter: the later end wins;
//! - a clear beats every mark older than it, and a mark older than the last clear is dropped
//!   (so "a newer clear wins" is decided from what Redis records, not from a local file that a
//!   Hermes 0.19 save stripped of `status_cleared_at`);
//! - dead is about one credential: it holds on every host whose entry has that credential
//!   (the same API key; a token pair shared with `--share-tokens`), and only a new credential
//!   (a re-login) gets past it, as on one host.
//!
//! The pure half lives here: the record's shape and bounds, the ops an effect or an entry
//! sends, and the effects a record has on a host's view ([`overlay`]).

use crate::engine::{Effect, ResetSource};
use crate::pool::{LastStatus, Profile};
use crate::time::Epoch;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest record rotor reads: 64 model cooldowns with long names and a message fit.
pub(crate) const MAX_RECORD_BYTES: usize = 64 << 10;
/// The longest reason, host or model name in a record.
const MAX_WORD_CHARS: usize = 200;
/// The longest message a record carries (the engine's own bound is the same).
const MAX_MESSAGE_CHARS: usize = crate::engine::MESSAGE_MAX_CHARS;

/// Times travel to Redis in whole milliseconds (Lua's cjson keeps 14 digits: an epoch in
/// seconds with three decimals survives exactly); a local time within this of a shared one
/// is the same time.
const TIME_SLACK: Epoch = 0.002;

fn ms(t: Epoch) -> Epoch {
    (t * 1000.0).round() / 1000.0
}

/// A cooldown of the whole account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    #[serde(rename = "until")]
    pub until: Epoch,
    pub at: Epoch,
    pub code: Option<u16>,
    pub reason: String,
    pub message: Option<String>,
    pub host: String,
}

/// A credential found dead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dead {
    pub at: Epoch,
    pub code: Option<u16>,
    pub reason: String,
    pub message: Option<String>,
    pub host: String,
    /// A digest of the credential that died (see `Document::credential_digest`).
    pub credential: String,
}

/// A cooldown of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMark {
    pub until: Epoch,
    pub at: Epoch,
    pub reason: String,
    pub host: String,
}

/// The last deliberate clear (`cooldown clear`, a healthy probe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cleared {
    pub at: Epoch,
    pub host: String,
    /// Whether it cleared the model cooldowns too.
    pub models: bool,
}

/// What Redis holds for one account.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Record {
    #[serde(default)]
    pub exhausted: Option<Mark>,
    #[serde(default)]
    pub dead: Option<Dead>,
    #[serde(default, deserialize_with = "models_or_empty")]
    pub models: BTreeMap<String, ModelMark>,
    #[serde(default)]
    pub cleared: Option<Cleared>,
}

/// Lua's cjson writes an empty table as `{}` or, after a removal, sometimes `[]`.
fn models_or_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, ModelMark>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Map(BTreeMap<String, ModelMark>),
        Empty([(); 0]),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        Some(Either::Map(m)) => m,
        _ => BTreeMap::new(),
    })
}

impl Record {
    /// Parses a stored record, refusing what no rotor wrote: too large, not this shape,
    /// numbers that are not finite times, words over their bounds.
    pub fn parse(bytes: &[u8]) -> Option<Record> {
        if bytes.len() > MAX_RECORD_BYTES {
            return None;
        }
        let record: Record = serde_json::from_slice(bytes).ok()?;
        record.is_sane().then_some(record)
    }

    fn is_sane(&self) -> bool {
        let time = |t: Epoch| t.is_finite() && (0.0..1e11).contains(&t);
        let word = |w: &str| w.chars().count() <= MAX_WORD_CHARS;
        let message = |m: &Option<String>| {
            m.as_deref()
                .is_none_or(|m| m.chars().count() <= MAX_MESSAGE_CHARS)
        };
        self.exhausted.as_ref().is_none_or(|m| {
            time(m.until) && time(m.at) && word(&m.reason) && word(&m.host) && message(&m.message)
        }) && self
            .dead
            .as_ref()
            .is_none_or(|d| time(d.at) && word(&d.reason) && word(&d.host) && message(&d.message))
            && self.models.len() <= crate::engine::effect::MAX_MODEL_COOLDOWNS
            && self.models.iter().all(|(name, m)| {
                crate::pool::is_model_name(name)
                    && time(m.until)
                    && time(m.at)
                    && word(&m.reason)
                    && word(&m.host)
            })
            && self
                .cleared
                .as_ref()
                .is_none_or(|c| time(c.at) && word(&c.host))
    }

    /// The host whose finding decides what `profile` shows, if the record says anything of
    /// it at `now`.
    fn host_for(&self, profile: &Profile, credential: Option<&str>, now: Epoch) -> Option<&str> {
        if let Some(d) = self.dead_for(credential) {
            return Some(&d.host);
        }
        if let Some(m) = self.exhausted.as_ref().filter(|m| m.until > now) {
            return Some(&m.host);
        }
        if let Some(m) = self.models.values().find(|m| m.until > now) {
            return Some(&m.host);
        }
        let cleared = self.cleared.as_ref()?;
        (profile.status.last_status == Some(LastStatus::Ok)).then_some(&cleared.host)
    }

    fn dead_for(&self, credential: Option<&str>) -> Option<&Dead> {
        self.dead
            .as_ref()
            .filter(|d| credential.is_some_and(|c| c == d.credential))
    }
}

/// One change sent to Redis for an account; `merge.lua` says what each does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    Exhausted(Mark),
    Dead(Dead),
    Clear(Cleared),
    Model {
        model: String,
        #[serde(flatten)]
        mark: ModelMark,
    },
    ClearModel {
        model: String,
        at: Epoch,
    },
}

fn bounded(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn message(text: &Option<String>) -> Option<String> {
    text.as_deref().map(|m| bounded(m, MAX_MESSAGE_CHARS))
}

/// What an effect tells the fleet, if anything. Successes and round-robin moves are this
/// host's own business: a success is no proof another host's cooldown is over, and a pool's
/// order is local. `credential` is the digest of the entry's credential (for a dead mark);
/// `now` stamps a model clear.
pub(crate) fn op_of_effect(
    effect: &Effect,
    host: &str,
    credential: Option<&str>,
    now: Epoch,
) -> Option<Op> {
    let host = bounded(host, MAX_WORD_CHARS);
    Some(match effect {
        Effect::MarkExhausted {
            at,
            code,
            reason,
            message: text,
            until,
            ..
        } => Op::Exhausted(Mark {
            until: ms(*until),
            at: ms(*at),
            code: *code,
            reason: bounded(reason, MAX_WORD_CHARS),
            message: message(text),
            host,
        }),
        Effect::MarkDead {
            at,
            code,
            reason,
            message: text,
            ..
        } => Op::Dead(Dead {
            at: ms(*at),
            code: *code,
            reason: bounded(reason, MAX_WORD_CHARS),
            message: message(text),
            host,
            credential: credential?.to_string(),
        }),
        Effect::Clear { at, models, .. } => Op::Clear(Cleared {
            at: ms(*at),
            host,
            models: *models,
        }),
        Effect::CoolModel {
            at,
            model,
            until,
            reason,
            ..
        } => Op::Model {
            model: model.clone(),
            mark: ModelMark {
                until: ms(*until),
                at: ms(*at),
                reason: bounded(reason, MAX_WORD_CHARS),
                host,
            },
        },
        Effect::ClearModel { model, .. } => Op::ClearModel {
            model: model.clone(),
            at: ms(now),
        },
        Effect::MarkOk { .. } | Effect::MoveToEnd { .. } => return None,
    })
}

/// What an entry of the local file says that the fleet should know (`rotor sync`'s push,
/// and what `serve` pushes when Redis is back): its live cooldown, its dead mark, its live
/// model cooldowns, its last clear. Sending it again is harmless: the merge keeps the
/// stronger of equal findings. `written_at` dates the model cooldowns, which carry no time
/// of their own in auth.json.
pub(crate) fn ops_of_entry(
    profile: &Profile,
    host: &str,
    credential: Option<&str>,
    now: Epoch,
    written_at: Epoch,
    clean: &dyn Fn(&str) -> String,
) -> Vec<Op> {
    let mut ops = Vec::new();
    let status = &profile.status;
    // Hermes stores a provider's text as it came: it may echo a key or an address.
    let message = |m: &Option<String>| message(&m.as_deref().map(clean));
    let at = ms(status.last_status_at.unwrap_or(0.0));
    let code = status.last_error_code.and_then(|c| u16::try_from(c).ok());
    let reason = status.last_error_reason.clone().unwrap_or_default();
    if let Some(cleared) = profile.status_cleared_at {
        ops.push(Op::Clear(Cleared {
            at: ms(cleared),
            host: bounded(host, MAX_WORD_CHARS),
            models: false,
        }));
    }
    if profile.is_dead() {
        if let Some(credential) = credential {
            ops.push(Op::Dead(Dead {
                at,
                code,
                reason: bounded(&reason, MAX_WORD_CHARS),
                message: message(&status.last_error_message),
                host: bounded(host, MAX_WORD_CHARS),
                credential: credential.to_string(),
            }));
        }
    } else if let Some(until) = profile.cooldown_until().filter(|u| *u > now) {
        ops.push(Op::Exhausted(Mark {
            until: ms(until),
            at,
            code,
            reason: bounded(&reason, MAX_WORD_CHARS),
            message: message(&status.last_error_message),
            host: bounded(host, MAX_WORD_CHARS),
        }));
    }
    for (model, until) in profile.model_cooldowns.iter().filter(|(_, u)| *u > now) {
        ops.push(Op::Model {
            model: model.clone(),
            mark: ModelMark {
                until: ms(*until),
                at: ms(written_at),
                reason: "rate_limit".into(),
                host: bounded(host, MAX_WORD_CHARS),
            },
        });
    }
    ops
}

/// Where the status a host shows for a profile came from, once the fleet's is merged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// This host's auth.json alone (Redis knows nothing more of the account).
    Local,
    /// Redis: another host's finding (or this host's, no longer in its file).
    Redis,
    /// Both agree: the finding is in auth.json and in Redis.
    Both,
}

/// A profile's status source, when shared state is in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: Source,
    /// The host that recorded the shared finding.
    pub host: Option<String>,
    /// Whether that host is this one.
    pub this_host: bool,
}

/// The effects that bring a host's view of `profile` up to the fleet's `record` at `now`:
/// the fleet's dead mark when it is for this entry's credential, its cooldown when it ends
/// later than the local one, a clear newer than the local mark, model cooldowns that end
/// later. `stamp` dates a dead mark taken from the fleet (the time of the pull for `sync`:
/// Hermes 0.19 deletes a `manual:*` row 24 h after its `last_status_at` says it died).
pub(crate) fn overlay(
    profile: &Profile,
    record: &Record,
    credential: Option<&str>,
    now: Epoch,
    stamp: Option<Epoch>,
    models: bool,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    let id = || profile.id.clone();
    if profile.is_dead() {
        return effects;
    }
    // A local clear newer than a fleet finding beats it (made while Redis was down, say, or
    // a `hermes auth reset` under newer Hermes's rules), as a clear in Redis would.
    let cleared_here = profile.status_cleared_at.unwrap_or(f64::NEG_INFINITY);
    if let Some(d) = record.dead_for(credential).filter(|d| d.at > cleared_here) {
        effects.push(Effect::MarkDead {
            profile_id: id(),
            at: stamp.unwrap_or(d.at),
            code: d.code,
            reason: d.reason.clone(),
            message: d.message.clone(),
        });
        return effects;
    }
    let local_at = profile.status.last_status_at.unwrap_or(0.0);
    let mut local_until = profile.cooldown_until().filter(|u| *u > now);
    // The local mark is undone by a clear the fleet made after it.
    if let Some(c) = &record.cleared
        && local_until.is_some()
        && c.at > local_at + TIME_SLACK
    {
        effects.push(Effect::Clear {
            profile_id: id(),
            at: c.at,
            models: false,
        });
        local_until = None;
    }
    // The fleet's mark counts where it ends later (merge.lua keeps only marks newer than its
    // last clear).
    if let Some(m) = record
        .exhausted
        .as_ref()
        .filter(|m| m.until > now && m.at + TIME_SLACK > cleared_here)
        && local_until.is_none_or(|u| u + TIME_SLACK < m.until)
    {
        effects.push(Effect::MarkExhausted {
            profile_id: id(),
            at: m.at,
            code: m.code,
            reason: m.reason.clone(),
            message: m.message.clone(),
            reset_at: Some(m.until),
            until: m.until,
            source: ResetSource::Fleet,
            capped: false,
        });
    }
    if models {
        for (model, m) in record.models.iter().filter(|(_, m)| m.until > now) {
            let local = profile
                .model_cooldowns
                .iter()
                .find(|(name, _)| name == model)
                .map(|(_, until)| *until);
            if local.is_none_or(|u| u + TIME_SLACK < m.until) {
                effects.push(Effect::CoolModel {
                    profile_id: id(),
                    at: now,
                    model: model.clone(),
                    until: m.until,
                    reason: m.reason.clone(),
                    source: ResetSource::Fleet,
                    capped: false,
                });
            }
        }
    }
    effects
}

/// Where `profile`'s shown status came from: `merged` says whether the overlay changed it.
pub(crate) fn origin(
    profile: &Profile,
    record: Option<&Record>,
    credential: Option<&str>,
    now: Epoch,
    merged: bool,
    me: &str,
) -> Origin {
    let host = record.and_then(|r| r.host_for(profile, credential, now));
    let source = match (merged, host) {
        (true, _) => Source::Redis,
        (false, Some(_)) => Source::Both,
        (false, None) => Source::Local,
    };
    Origin {
        source,
        this_host: host == Some(me),
        host: host.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::tests::profile;

    fn mark(until: Epoch, at: Epoch, host: &str) -> Mark {
        Mark {
            until,
            at,
            code: Some(429),
            reason: "usage_limit_reached".into(),
            message: None,
            host: host.into(),
        }
    }

    fn exhausted(p: &mut Profile, at: Epoch, until: Epoch) {
        p.status.last_status = Some(LastStatus::Exhausted);
        p.status.last_status_at = Some(at);
        p.status.last_error_reset_at = Some(until);
    }

    #[test]
    fn a_later_fleet_cooldown_covers_the_local_one_and_an_earlier_does_not() {
        let mut p = profile("a", 0);
        exhausted(&mut p, 100.0, 500.0);
        let later = Record {
            exhausted: Some(mark(900.0, 200.0, "b")),
            ..Record::default()
        };
        let effects = overlay(&p, &later, None, 150.0, None, true);
        assert!(matches!(&effects[..], [Effect::MarkExhausted { until, .. }] if *until == 900.0));
        let earlier = Record {
            exhausted: Some(mark(400.0, 200.0, "b")),
            ..Record::default()
        };
        assert!(overlay(&p, &earlier, None, 150.0, None, true).is_empty());
        let o = origin(&p, Some(&earlier), None, 150.0, false, "a");
        assert_eq!((o.source, o.host.as_deref()), (Source::Both, Some("b")));
    }

    #[test]
    fn a_newer_clear_undoes_a_local_mark_and_an_older_one_does_not() {
        let mut p = profile("a", 0);
        exhausted(&mut p, 100.0, 500.0);
        let clear = |at| Record {
            cleared: Some(Cleared {
                at,
                host: "b".into(),
                models: true,
            }),
            ..Record::default()
        };
        assert!(matches!(
            &overlay(&p, &clear(120.0), None, 150.0, None, true)[..],
            [Effect::Clear { at, .. }] if *at == 120.0
        ));
        assert!(overlay(&p, &clear(90.0), None, 150.0, None, true).is_empty());
    }

    #[test]
    fn dead_holds_for_the_same_credential_only_and_is_stamped_when_asked() {
        let p = profile("a", 0);
        let record = Record {
            dead: Some(Dead {
                at: 10.0,
                code: Some(401),
                reason: "invalid_api_key".into(),
                message: None,
                host: "b".into(),
                credential: "c1".into(),
            }),
            ..Record::default()
        };
        assert!(overlay(&p, &record, Some("c2"), 50.0, None, true).is_empty());
        assert!(overlay(&p, &record, None, 50.0, None, true).is_empty());
        assert!(matches!(
            &overlay(&p, &record, Some("c1"), 50.0, Some(49.0), true)[..],
            [Effect::MarkDead { at, .. }] if *at == 49.0
        ));
    }

    #[test]
    fn a_fleet_clear_of_a_longer_local_mark_still_leaves_the_fleet_s_newer_mark() {
        let mut p = profile("a", 0);
        exhausted(&mut p, 100.0, 1000.0);
        let record = Record {
            exhausted: Some(mark(500.0, 300.0, "c")),
            cleared: Some(Cleared {
                at: 200.0,
                host: "b".into(),
                models: false,
            }),
            ..Record::default()
        };
        let effects = overlay(&p, &record, None, 150.0, None, true);
        assert!(
            matches!(&effects[..], [Effect::Clear { .. }, Effect::MarkExhausted { until, .. }] if *until == 500.0),
            "{effects:?}"
        );
    }

    #[test]
    fn a_local_clear_newer_than_a_fleet_finding_beats_it() {
        let mut p = profile("a", 0);
        p.status.last_status = Some(LastStatus::Ok);
        p.status_cleared_at = Some(400.0);
        let mut record = Record {
            exhausted: Some(mark(900.0, 300.0, "b")),
            ..Record::default()
        };
        assert!(overlay(&p, &record, Some("c1"), 350.0, None, true).is_empty());
        record.dead = Some(Dead {
            at: 300.0,
            code: Some(401),
            reason: "invalid_api_key".into(),
            message: None,
            host: "b".into(),
            credential: "c1".into(),
        });
        assert!(overlay(&p, &record, Some("c1"), 350.0, None, true).is_empty());
    }

    #[test]
    fn ended_findings_say_nothing() {
        let p = profile("a", 0);
        let mut record = Record {
            exhausted: Some(mark(100.0, 50.0, "b")),
            ..Record::default()
        };
        record.models.insert(
            "gpt-5".into(),
            ModelMark {
                until: 100.0,
                at: 50.0,
                reason: "rate_limit".into(),
                host: "b".into(),
            },
        );
        assert!(overlay(&p, &record, None, 100.0, None, true).is_empty());
        assert_eq!(
            origin(&p, Some(&record), None, 100.0, false, "a").source,
            Source::Local
        );
    }

    #[test]
    fn a_record_no_rotor_wrote_is_refused() {
        assert!(Record::parse(br#"{"exhausted":{"until":1e300,"at":1,"code":null,"reason":"x","message":null,"host":"h"}}"#).is_none());
        assert!(Record::parse(b"[1,2]").is_none());
        assert!(Record::parse(&vec![b' '; MAX_RECORD_BYTES + 1]).is_none());
        let ok = Record::parse(br#"{"models":[],"cleared":{"at":5,"host":"h","models":false}}"#);
        assert_eq!(ok.map(|r| r.cleared.map(|c| c.at)), Some(Some(5.0)));
    }

    #[test]
    fn ops_of_an_entry_skip_ended_cooldowns() {
        let mut p = profile("a", 0);
        exhausted(&mut p, 100.0, 500.0);
        let keep = |m: &str| m.to_string();
        assert_eq!(ops_of_entry(&p, "h", None, 400.0, 0.0, &keep).len(), 1);
        assert!(ops_of_entry(&p, "h", None, 600.0, 0.0, &keep).is_empty());
    }
}
