//! The part of Hermes's config.yaml rotor reads: `credential_pool_strategies`.
//!
//! rotor predicts what Hermes will do, so it follows Hermes's reading: a provider without an
//! entry, or with a value that is not a known strategy, uses `fill_first` (rotor also warns).
//! A file that is not YAML, or a `credential_pool_strategies` that is not a mapping, is an error
//! (exit 7): silently guessing there would hide a broken config from the operator.

use crate::error::{Error, Result};
use crate::pool::Strategy;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

const KEY: &str = "credential_pool_strategies";

#[derive(Debug, Default, Clone)]
pub(crate) struct Config {
    strategies: BTreeMap<String, Strategy>,
    /// Things worth telling the operator that do not stop rotor (unknown strategy names).
    pub warnings: Vec<String>,
}

impl Config {
    /// Loads `explicit` (which must exist), else `default` if it exists, else an empty config.
    pub(crate) fn load(explicit: Option<&Path>, default: &Path) -> Result<Config> {
        let path: PathBuf = match explicit {
            Some(path) => path.to_path_buf(),
            None if default.exists() => default.to_path_buf(),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        Config::parse(&path, &text)
    }

    pub(crate) fn parse(path: &Path, text: &str) -> Result<Config> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| Error::Syntax {
            path: path.to_path_buf(),
            what: "YAML",
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        })?;
        let mut config = Config::default();
        let Some(root) = docs.first() else {
            return Ok(config);
        };
        let strategies = match root {
            Yaml::Hash(map) => map.get(&Yaml::String(KEY.into())),
            Yaml::Null => None,
            _ => return Err(Error::schema(path, "top level", "a YAML mapping")),
        };
        match strategies {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(map)) => {
                for (provider, value) in map {
                    let Some(provider) = provider.as_str() else {
                        continue;
                    };
                    let text = match value {
                        Yaml::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    match Strategy::from_config(&text) {
                        Some(strategy) => {
                            config.strategies.insert(provider.to_string(), strategy);
                        }
                        None => config.warnings.push(format!(
                            "{}: {KEY}.{provider}: unknown strategy `{text}`; Hermes uses fill_first, and so does rotor",
                            path.display()
                        )),
                    }
                }
            }
            Some(_) => {
                return Err(Error::schema(
                    path,
                    KEY,
                    "a mapping of provider to strategy",
                ));
            }
        }
        Ok(config)
    }

    /// The configured strategy of `provider`, `fill_first` when none is.
    pub(crate) fn strategy_for(&self, provider: &str) -> Strategy {
        self.strategies.get(provider).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(Path::new("/h/config.yaml"), text)
    }

    #[test]
    fn reads_strategies_per_provider() {
        let config = parse("model: x\ncredential_pool_strategies:\n  openai-codex: round_robin\n  openrouter: Least_Used\n").unwrap();
        assert_eq!(config.strategy_for("openai-codex"), Strategy::RoundRobin);
        assert_eq!(config.strategy_for("openrouter"), Strategy::LeastUsed);
        assert_eq!(config.strategy_for("anthropic"), Strategy::FillFirst);
        assert!(config.warnings.is_empty());
    }

    #[test]
    fn unknown_strategy_warns_and_falls_back() {
        let config = parse("credential_pool_strategies:\n  openai-codex: fastest\n").unwrap();
        assert_eq!(config.strategy_for("openai-codex"), Strategy::FillFirst);
        assert_eq!(config.warnings.len(), 1);
    }

    #[test]
    fn empty_and_missing_sections_are_fine() {
        assert_eq!(parse("").unwrap().strategy_for("x"), Strategy::FillFirst);
        assert_eq!(
            parse("other: 1\n").unwrap().strategy_for("x"),
            Strategy::FillFirst
        );
        let missing = Config::load(None, Path::new("/nonexistent/config.yaml")).unwrap();
        assert_eq!(missing.strategy_for("x"), Strategy::FillFirst);
    }

    #[test]
    fn broken_yaml_names_line_and_column() {
        let err = parse("credential_pool_strategies:\n  a: [b\n").unwrap_err();
        assert!(err.to_string().starts_with("/h/config.yaml:3:"), "{err}");
        let err = parse("credential_pool_strategies: [fill_first]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/h/config.yaml: credential_pool_strategies: expected a mapping of provider to strategy"
        );
        assert!(Config::load(Some(Path::new("/nonexistent/c.yaml")), Path::new("/x")).is_err());
    }
}
