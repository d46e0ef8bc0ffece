//! Selection strategies, as Hermes applies them to the available entries of one provider.

use super::Profile;
use clap::ValueEnum;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Strategy {
    /// First available profile by priority.
    #[default]
    FillFirst,
    /// First available, then it moves to the end of the pool (priorities renumbered).
    RoundRobin,
    /// Fewest requests served (`request_count`), ties by priority.
    LeastUsed,
    /// Uniformly random among the available (`--seed` makes it repeatable).
    Random,
}

impl Strategy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Strategy::FillFirst => "fill_first",
            Strategy::RoundRobin => "round_robin",
            Strategy::LeastUsed => "least_used",
            Strategy::Random => "random",
        }
    }

    /// Parses a config value the way Hermes does: trimmed, case-insensitive; `None` if unknown.
    pub(crate) fn from_config(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fill_first" => Some(Strategy::FillFirst),
            "round_robin" => Some(Strategy::RoundRobin),
            "least_used" => Some(Strategy::LeastUsed),
            "random" => Some(Strategy::Random),
            _ => None,
        }
    }
}

/// Picks one of `candidates` (available profiles, already in priority order) and returns its
/// index. `round_robin` picks like `fill_first`; moving the pick to the end is the caller's
/// write. Only `random` draws from `rng`, so other strategies leave its sequence untouched.
pub(crate) fn pick(
    strategy: Strategy,
    candidates: &[&Profile],
    rng: &mut fastrand::Rng,
) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    Some(match strategy {
        Strategy::FillFirst | Strategy::RoundRobin => 0,
        Strategy::LeastUsed => {
            // `min_by_key` keeps the first of equal keys: ties go to the higher priority.
            let (index, _) = candidates
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| p.request_count)?;
            index
        }
        Strategy::Random => rng.usize(..candidates.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::tests::profile;

    #[test]
    fn fill_first_and_round_robin_take_the_first() {
        let (a, b) = (profile("a", 0), profile("b", 1));
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(pick(Strategy::FillFirst, &[&a, &b], &mut rng), Some(0));
        assert_eq!(pick(Strategy::RoundRobin, &[&a, &b], &mut rng), Some(0));
        assert_eq!(pick(Strategy::FillFirst, &[], &mut rng), None);
    }

    #[test]
    fn least_used_breaks_ties_by_priority() {
        let (mut a, mut b, mut c) = (profile("a", 0), profile("b", 1), profile("c", 2));
        a.request_count = 5;
        b.request_count = 2;
        c.request_count = 2;
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(pick(Strategy::LeastUsed, &[&a, &b, &c], &mut rng), Some(1));
    }

    #[test]
    fn random_is_repeatable_for_a_seed_and_covers_all() {
        let ps: Vec<_> = (0..4).map(|i| profile(&i.to_string(), i)).collect();
        let refs: Vec<&Profile> = ps.iter().collect();
        let draw = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..64)
                .map(|_| pick(Strategy::Random, &refs, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let seen: std::collections::BTreeSet<_> = draw(7).into_iter().flatten().collect();
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn config_values_parse_like_hermes() {
        assert_eq!(
            Strategy::from_config(" Round_Robin "),
            Some(Strategy::RoundRobin)
        );
        assert_eq!(Strategy::from_config("bogus"), None);
    }
}
