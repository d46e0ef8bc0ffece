//! auth.json in memory: the whole JSON document kept as written (key order, unknown keys, other
//! providers, number text), with typed read access to the fields rotor understands and
//! field-level patches for the ones it changes.
//!
//! Invariant: a `Document` only exists for a file whose known fields have valid types, so every
//! later read of them is infallible and a write never carries a value rotor misread.

use crate::engine::effect::{Current, Extra, StatusTarget};
use crate::error::{Error, Result};
use crate::pool::{
    AuthType, EnvKey, HermesRules, LastStatus, Profile, Status, TokenClaims, TtlRule,
    account_of_key, account_of_token, profile_hash,
};
use crate::sanitize::Redactor;
use crate::time::{self, Epoch};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The version Hermes writes at the top of the store.
const STORE_VERSION: i64 = 1;

/// The top-level key rotor leaves in a file it wrote under newer Hermes's rules, so they still
/// apply after its own writes removed the markers they were told from (a clear drops
/// `model_cooldowns` and `failure_reason`). Hermes keeps unknown top-level keys.
const RULES_KEY: &str = "rotor_hermes";

/// The largest `.env` rotor reads for env-sourced keys.
const MAX_DOTENV_BYTES: u64 = 1 << 20;

/// How a document is read: which Hermes's rules apply, and where env-sourced keys come from.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The rules to follow; `None` tells them from the file (see [`Document::rules`]).
    pub rules: Option<HermesRules>,
    /// Where `source: env:NAME` keys are looked up.
    pub env: EnvLookup,
}

/// Where the keys of `source: env:NAME` entries come from.
#[derive(Debug, Clone, Default)]
pub enum EnvLookup {
    /// Nowhere: such entries have no key (a scenario's pool, tests).
    #[default]
    Nowhere,
    /// rotor's environment, then the `.env` beside auth.json (Hermes loads
    /// `$HERMES_HOME/.env` into its environment at start).
    Process,
    /// These values (tests).
    Fixed(Vec<(String, String)>),
}

impl EnvLookup {
    /// The values of `names` that are set and not empty, for the auth.json at `file`.
    ///
    /// rotor running on another user's auth.json (`sudo rotor …` on a service user's files,
    /// a group-writable file) takes nothing from its own environment: that file's owner could
    /// otherwise name any of rotor's variables in an `env:NAME` entry and have its value sent
    /// to a `base_url` of their choosing. The `.env` is read only when it is a regular file
    /// (not a symlink) owned by auth.json's owner, for the same reason.
    fn resolve(&self, names: &HashSet<String>, file: &Path) -> HashMap<String, String> {
        let mut found = HashMap::new();
        if names.is_empty() {
            return found;
        }
        match self {
            EnvLookup::Nowhere => {}
            EnvLookup::Fixed(values) => {
                for (name, value) in values {
                    if names.contains(name) && !value.is_empty() {
                        found.insert(name.clone(), value.clone());
                    }
                }
            }
            EnvLookup::Process => {
                use std::os::unix::fs::MetadataExt;
                let owner = std::fs::metadata(file).map(|m| m.uid()).ok();
                // /proc/self belongs to the process's effective user; without /proc, rotor
                // cannot tell, and takes the file for another user's (the cautious side).
                let euid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
                let foreign = euid.is_none() || owner.is_some_and(|uid| Some(uid) != euid);
                for name in names.iter().filter(|_| !foreign) {
                    if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
                        found.insert(name.clone(), value);
                    }
                }
                if found.len() < names.len()
                    && let (Some(dir), Some(owner)) = (file.parent(), owner)
                {
                    for (name, value) in read_dotenv(&dir.join(".env"), owner) {
                        if names.contains(&name) && !value.is_empty() {
                            found.entry(name).or_insert(value);
                        }
                    }
                }
            }
        }
        found
    }
}

/// `NAME=value` lines of a `.env` (`export ` prefix, quotes and comments as dotenv reads
/// them). A missing, unreadable, oversized or non-regular file, a symlink, or one not owned by
/// `owner` reads as empty: it is Hermes's file, and rotor only borrows values from it.
fn read_dotenv(path: &Path, owner: u32) -> Vec<(String, String)> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let Ok((file, meta)) = super::file::open_regular(path, true) else {
        return Vec::new();
    };
    if meta.len() > MAX_DOTENV_BYTES || meta.uid() != owner {
        return Vec::new();
    }
    let mut text = String::new();
    if file
        .take(MAX_DOTENV_BYTES)
        .read_to_string(&mut text)
        .is_err()
    {
        return Vec::new();
    }
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            if line.starts_with('#') {
                return None;
            }
            let (name, value) = line.split_once('=')?;
            let name = name.trim();
            if !is_env_name(name) {
                return None;
            }
            let value = value.trim();
            let value = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
                _ => value.split(" #").next().unwrap_or("").trim(),
            };
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// A variable name as a shell writes one. Anything else in `env:NAME` is not looked up.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

/// The variable an entry's `source` names (`env:NAME`), if it is one.
fn env_source(source: Option<&str>) -> Option<&str> {
    source?
        .strip_prefix("env:")
        .map(str::trim)
        .filter(|n| is_env_name(n))
}

#[derive(Debug, Clone)]
pub struct Document {
    path: PathBuf,
    root: Map<String, Value>,
    changed: bool,
    /// Each provider's profiles as `parse` validated them, so reading them again costs a copy,
    /// not a second parse (JWT claims included). A patch drops its provider's entry; it is read
    /// again from `root` when asked for.
    profiles: HashMap<String, Vec<Profile>>,
    /// What is odd about the file without making it invalid, for the operator.
    warnings: Vec<String>,
    /// Which Hermes's rules the file is read under.
    rules: HermesRules,
    /// The values of the variables that env-sourced entries name, where set.
    env_values: HashMap<String, String>,
    /// In a Hermes profile home, the root's document, whose rows stand in for the providers
    /// this file has none of (newer Hermes's read fallback), and those providers.
    borrowed: Option<(Box<Document>, Vec<String>)>,
    /// The fleet's findings (`--state`), merged over the file's status on every read of
    /// profiles: in memory only, never written (only `rotor sync` writes them, deliberately).
    shared: Option<std::sync::Arc<crate::fleet::SharedView>>,
}

impl Document {
    /// Parses and validates the bytes of `path` with default options: rules told from the
    /// file, no environment (a scenario's pool).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        Self::parse_with(path, bytes, &ReadOptions::default())
    }

    /// Parses and validates the bytes of `path`. Syntax errors carry line and column; type
    /// errors name the JSON path of the offending field.
    pub fn parse_with(path: &Path, bytes: &[u8], options: &ReadOptions) -> Result<Self> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::Syntax {
            path: path.to_path_buf(),
            what: "JSON",
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        let Value::Object(root) = value else {
            return Err(Error::schema(path, "top level", "a JSON object"));
        };
        let mut doc = Document {
            path: path.to_path_buf(),
            root,
            changed: false,
            profiles: HashMap::new(),
            warnings: Vec::new(),
            rules: HermesRules::V019,
            env_values: HashMap::new(),
            borrowed: None,
            shared: None,
        };
        doc.rules = options.rules.unwrap_or_else(|| doc.detect_rules());
        doc.env_values = options.env.resolve(&doc.env_names(), path);
        doc.profiles = doc.validate()?;
        doc.warnings = doc.find_oddities();
        Ok(doc)
    }

    /// Which rules the file follows, told from what only newer Hermes writes: an entry's
    /// `model_cooldowns` or `failure_reason`. (Not `status_cleared_at`: rotor writes that on
    /// every clear, for 0.19 files too.) A file newer Hermes wrote without either reads as
    /// 0.19's: `--hermes main` says otherwise.
    fn detect_rules(&self) -> HermesRules {
        if self.root.get(RULES_KEY).and_then(Value::as_str) == Some(HermesRules::Main.as_str()) {
            return HermesRules::Main;
        }
        let newer = self.pool().into_iter().flatten().any(|(_, entries)| {
            entries.as_array().into_iter().flatten().any(|entry| {
                ["model_cooldowns", "failure_reason"]
                    .iter()
                    .any(|key| entry.get(key).is_some_and(|v| !v.is_null()))
            })
        });
        if newer {
            HermesRules::Main
        } else {
            HermesRules::V019
        }
    }

    /// Lends `root`'s rows for every provider this document has no entries of.
    pub(crate) fn borrow_from(&mut self, root: Document) {
        let own_rows = |provider: &str| {
            self.pool()
                .and_then(|p| p.get(provider))
                .and_then(Value::as_array)
                .is_some_and(|entries| !entries.is_empty())
        };
        let lent: Vec<String> = root
            .providers()
            .into_iter()
            .filter(|p| !own_rows(p) && root.profiles(p).is_some_and(|rows| !rows.is_empty()))
            .map(str::to_owned)
            .collect();
        if !lent.is_empty() {
            self.borrowed = Some((Box::new(root), lent));
        }
    }

    /// Whether `provider`'s rows are the root's (a Hermes profile home borrowing them).
    pub(crate) fn is_borrowed(&self, provider: &str) -> bool {
        self.lender(provider).is_some()
    }

    /// The root's document, when it lends `provider`'s rows.
    fn lender(&self, provider: &str) -> Option<&Document> {
        let (root, lent) = self.borrowed.as_ref()?;
        lent.iter().any(|p| p == provider).then_some(&**root)
    }

    /// The file `provider`'s rows come from: this one, or the root's it borrows them from.
    pub(crate) fn path_of(&self, provider: &str) -> &Path {
        self.lender(provider).map_or(&self.path, |root| &root.path)
    }

    /// The rules the document is read under.
    pub(crate) fn rules(&self) -> HermesRules {
        self.rules
    }

    /// The variables env-sourced entries (empty `access_token`) name.
    fn env_names(&self) -> HashSet<String> {
        let mut names = HashSet::new();
        for (_, entries) in self.pool().into_iter().flatten() {
            for entry in entries.as_array().into_iter().flatten() {
                let token = entry
                    .get("access_token")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let source = entry.get("source").and_then(Value::as_str);
                if token.is_empty()
                    && let Some(name) = env_source(source)
                {
                    names.insert(name.to_string());
                }
            }
        }
        names
    }

    /// Things worth telling the operator that do not stop rotor: no pool at all, an
    /// `auth_type` Hermes does not know.
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn find_oddities(&self) -> Vec<String> {
        let path = self.path.display();
        let mut warnings = Vec::new();
        match self.root.get("credential_pool") {
            None => warnings.push(format!(
                "{path} has no `credential_pool`: there are no profiles (Hermes adds the key with \
                 the first `hermes auth add`)"
            )),
            Some(Value::Object(pool)) if pool.is_empty() => {
                warnings.push(format!("{path}: `credential_pool` has no providers"))
            }
            _ => {}
        }
        for (provider, entries) in self.pool().into_iter().flatten() {
            for (index, entry) in entries.as_array().into_iter().flatten().enumerate() {
                let auth_type = entry.get("auth_type").and_then(Value::as_str);
                if let Some(other) = auth_type.filter(|t| !matches!(*t, "oauth" | "api_key")) {
                    warnings.push(format!(
                        "{path}: credential_pool.{}[{index}].auth_type: unknown value `{}` \
                         (expected oauth or api_key); rotor treats the entry as an API key",
                        crate::sanitize::one_line(provider, 40),
                        crate::sanitize::one_line(other, 40),
                    ));
                }
            }
        }
        warnings
    }

    /// Every secret and email address of the document, wherever it is (every provider's
    /// pool, the `providers` section), ready to be redacted from text a server sends back.
    pub(crate) fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        for (key, value) in &self.root {
            collect_secrets(key, value, &mut redactor);
        }
        for value in self.env_values.values() {
            redactor.secret(value);
        }
        if let Some((root, _)) = &self.borrowed {
            for (key, value) in &root.root {
                collect_secrets(key, value, &mut redactor);
            }
            for value in root.env_values.values() {
                redactor.secret(value);
            }
        }
        redactor
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Checks every pool and returns the profiles read on the way.
    fn validate(&self) -> Result<HashMap<String, Vec<Profile>>> {
        let mut profiles = HashMap::new();
        let Some(pool) = self.root.get("credential_pool") else {
            return Ok(profiles);
        };
        let Value::Object(pool) = pool else {
            return Err(Error::schema(
                &self.path,
                "credential_pool",
                "an object of provider pools",
            ));
        };
        for (provider, entries) in pool {
            profiles.insert(provider.clone(), self.read_profiles(provider, entries)?);
        }
        Ok(profiles)
    }

    /// Provider names of `credential_pool`, in file order, then those borrowed from the
    /// root in a Hermes profile home.
    pub fn providers(&self) -> Vec<&str> {
        let mut providers: Vec<&str> = self
            .pool()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some((_, lent)) = &self.borrowed {
            providers.retain(|p| !lent.iter().any(|l| l == p));
            providers.extend(lent.iter().map(String::as_str));
        }
        providers
    }

    /// The top-level `active_provider`, when it is a string.
    pub(crate) fn active_provider(&self) -> Option<&str> {
        self.root.get("active_provider")?.as_str()
    }

    fn pool(&self) -> Option<&Map<String, Value>> {
        self.root.get("credential_pool")?.as_object()
    }

    /// The profiles of `provider` sorted by priority (stable, as Hermes sorts), or `None` if the
    /// provider has no pool.
    pub fn profiles(&self, provider: &str) -> Option<Vec<Profile>> {
        let mut profiles = self.file_profiles(provider)?;
        if let Some(view) = &self.shared {
            let models = self.rules == HermesRules::Main;
            view.overlay(provider, &mut profiles, models, time::now());
        }
        Some(profiles)
    }

    /// The profiles as the file has them, without the fleet's findings.
    pub(crate) fn file_profiles(&self, provider: &str) -> Option<Vec<Profile>> {
        if let Some(root) = self.lender(provider) {
            return root.file_profiles(provider);
        }
        if let Some(profiles) = self.profiles.get(provider) {
            return Some(profiles.clone());
        }
        let entries = self.pool()?.get(provider)?;
        // Validated in `parse` and kept valid by every patch, so this cannot fail.
        self.read_profiles(provider, entries).ok()
    }

    /// The top-level `updated_at`: when the file was last written.
    pub(crate) fn updated_at(&self) -> Option<Epoch> {
        time::parse_stored_timestamp(self.root.get("updated_at")?)
    }

    /// An entry's `last_refresh`: when its token pair was last refreshed.
    pub(crate) fn last_refresh(&self, provider: &str, id: &str) -> Option<Epoch> {
        if let Some(root) = self.lender(provider) {
            return root.last_refresh(provider, id);
        }
        time::parse_stored_timestamp(self.entry(provider, id)?.get("last_refresh")?)
    }

    /// Merges the fleet's findings into every later read of profiles.
    pub(crate) fn set_shared(&mut self, view: crate::fleet::SharedView) {
        self.shared = Some(std::sync::Arc::new(view));
    }

    /// The fleet's key of the upstream account behind an entry: the first 16 hex digits of
    /// SHA-256 over the provider and the identity: a Codex token's ChatGPT account id and
    /// subject, else an API key itself, else the entry id with its credential (hosts give one
    /// account different ids, so only the first two find each other across hosts).
    pub(crate) fn account_key(&self, provider: &str, profile: &Profile) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(provider.as_bytes());
        hash.update([0]);
        let claims = profile.claims.as_deref();
        let oauth = claims.and_then(|c| Some((c.account_id.as_deref()?, c.subject.as_deref()?)));
        match (oauth, profile.auth_type) {
            (Some((account, subject)), _) => {
                hash.update(account.as_bytes());
                hash.update([0]);
                hash.update(subject.as_bytes());
            }
            (None, AuthType::ApiKey) if self.access_token(provider, &profile.id).is_some() => {
                hash.update(
                    self.access_token(provider, &profile.id)
                        .unwrap_or("")
                        .as_bytes(),
                );
            }
            // The entry id alone is shared by hosts that copied one file, but two unrelated
            // accounts may carry the same id: the credential must match too.
            _ => {
                hash.update(profile.id.as_bytes());
                hash.update([0]);
                let credential = self.credential_digest(provider, &profile.id);
                hash.update(credential.unwrap_or_default().as_bytes());
            }
        }
        hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A digest of the credential an entry uses (its refresh token, else its access token
    /// or key): the fleet's dead mark holds for the credential that died, not for a new one.
    pub(crate) fn credential_digest(&self, provider: &str, id: &str) -> Option<String> {
        use sha2::{Digest, Sha256};
        let secret = self
            .refresh_token(provider, id)
            .or_else(|| self.access_token(provider, id))
            .filter(|s| !s.is_empty())?;
        let mut hash = Sha256::new();
        hash.update(b"rotor credential\0");
        hash.update(secret.as_bytes());
        Some(
            hash.finalize()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    /// Every entry of every provider, as the fleet keys it.
    pub(crate) fn fleet_entries(&self) -> Vec<crate::fleet::Entry> {
        let mut entries = Vec::new();
        for provider in self.providers() {
            for p in self.file_profiles(provider).unwrap_or_default() {
                entries.push(crate::fleet::Entry {
                    provider: provider.to_string(),
                    account: self.account_key(provider, &p),
                    credential: self.credential_digest(provider, &p.id),
                    id: p.id,
                });
            }
        }
        entries
    }

    /// The stored access token of an entry. Secrets never enter a `Profile`; drivers that need
    /// one ask here, just before use.
    /// An env-sourced key (`source: env:NAME`, empty `access_token`) comes from the variable.
    pub fn access_token(&self, provider: &str, id: &str) -> Option<&str> {
        if let Some(root) = self.lender(provider) {
            return root.access_token(provider, id);
        }
        let entry = self.entry(provider, id)?;
        let stored = entry
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !stored.is_empty() {
            return Some(stored);
        }
        let name = env_source(entry.get("source").and_then(Value::as_str))?;
        self.env_values.get(name).map(String::as_str)
    }

    pub(crate) fn refresh_token(&self, provider: &str, id: &str) -> Option<&str> {
        if let Some(root) = self.lender(provider) {
            return root.refresh_token(provider, id);
        }
        self.entry(provider, id)?
            .get("refresh_token")?
            .as_str()
            .filter(|t| !t.is_empty())
    }

    fn entry(&self, provider: &str, id: &str) -> Option<&Map<String, Value>> {
        self.pool()?
            .get(provider)?
            .as_array()?
            .iter()
            .filter_map(Value::as_object)
            .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
    }

    /// Sets fields of the entry `id` of `provider`, in place: existing keys keep their position,
    /// new keys go at the end. Nothing else of the document changes.
    pub fn set_fields(
        &mut self,
        provider: &str,
        id: &str,
        fields: Vec<(&str, Value)>,
    ) -> Result<()> {
        if self.patch(provider, id, fields) {
            Ok(())
        } else {
            Err(Error::NotFound(format!(
                "profile {} of {provider} is no longer in {}",
                profile_hash(id),
                self.path.display()
            )))
        }
    }

    /// [`Document::set_fields`], saying whether the entry was there.
    fn patch(&mut self, provider: &str, id: &str, fields: Vec<(&str, Value)>) -> bool {
        let entry = self
            .root
            .get_mut("credential_pool")
            .and_then(Value::as_object_mut)
            .and_then(|pool| pool.get_mut(provider))
            .and_then(Value::as_array_mut)
            .and_then(|entries| {
                entries
                    .iter_mut()
                    .filter_map(Value::as_object_mut)
                    .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
            });
        let Some(entry) = entry else {
            return false;
        };
        let mut touched = false;
        for (key, value) in fields {
            if entry.get(key) != Some(&value) {
                entry.insert(key.to_string(), value);
                touched = true;
            }
        }
        if touched {
            self.changed = true;
            self.profiles.remove(provider);
        }
        true
    }

    /// One provider's pool, as a target of status changes.
    pub(crate) fn pool_mut<'a>(&'a mut self, provider: &'a str) -> PoolMut<'a> {
        PoolMut {
            doc: self,
            provider,
        }
    }

    /// Moves entry `id` to the end of its provider's pool and renumbers priorities 0..n-1 in
    /// priority order, as Hermes's round_robin does after a pick.
    pub(crate) fn move_to_end(&mut self, provider: &str, id: &str) -> Result<()> {
        let mut order: Vec<String> = self
            .file_profiles(provider)
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.id)
            .filter(|pid| pid != id)
            .collect();
        order.push(id.to_string());
        for (priority, pid) in order.iter().enumerate() {
            self.set_fields(provider, pid, vec![("priority", Value::from(priority))])?;
        }
        Ok(())
    }

    /// Whether a patch changed anything since parsing.
    pub(crate) fn is_changed(&self) -> bool {
        self.changed
    }

    /// The bytes to write: `version` and `updated_at` stamped as Hermes stamps them.
    pub fn to_bytes(&mut self, now: Epoch) -> Vec<u8> {
        self.root
            .insert("version".into(), Value::from(STORE_VERSION));
        if self.rules == HermesRules::Main && !self.root.contains_key(RULES_KEY) {
            self.root
                .insert(RULES_KEY.into(), Value::from(HermesRules::Main.as_str()));
        }
        self.root.insert(
            "updated_at".into(),
            Value::from(time::python_isoformat(now)),
        );
        // Serialised in place: the document may hold thousands of entries.
        super::write::to_hermes_json(&self.root)
    }

    fn read_profiles(&self, provider: &str, entries: &Value) -> Result<Vec<Profile>> {
        let place = format!("credential_pool.{provider}");
        let Value::Array(entries) = entries else {
            return Err(Error::schema(&self.path, place, "a list of entries"));
        };
        let mut seen = HashSet::new();
        let mut profiles = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let place = format!("{place}[{index}]");
            let Value::Object(entry) = entry else {
                return Err(Error::schema(&self.path, place, "an object"));
            };
            let profile = self.read_entry(provider, &place, entry)?;
            if !seen.insert(profile.id.clone()) {
                return Err(Error::schema(
                    &self.path,
                    format!("{place}.id"),
                    format!(
                        "an id unique within {provider} (`{}` appears twice)",
                        profile.id
                    ),
                ));
            }
            profiles.push(profile);
        }
        // Stable: entries of equal priority keep file order, as Python's sorted() does.
        profiles.sort_by_key(|p| p.priority);
        for (i, p) in profiles.iter_mut().enumerate() {
            p.position = i + 1;
        }
        crate::pool::link(&mut profiles);
        Ok(profiles)
    }

    fn read_entry(
        &self,
        provider: &str,
        place: &str,
        entry: &Map<String, Value>,
    ) -> Result<Profile> {
        let fields = Fields {
            path: &self.path,
            place,
            entry,
        };
        let id = fields
            .string("id")?
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Error::schema(&self.path, format!("{place}.id"), "a non-empty string")
            })?;
        let access_token = fields.string("access_token")?.unwrap_or_default();
        let source = fields.string("source")?;
        let auth_type = match fields.string("auth_type")?.as_deref() {
            Some("oauth") => AuthType::Oauth,
            // Hermes infers OAuth for Anthropic setup tokens stored without an auth_type.
            _ if provider == "anthropic" && access_token.starts_with("sk-ant-oat") => {
                AuthType::Oauth
            }
            _ => AuthType::ApiKey,
        };
        let claims = match auth_type {
            AuthType::Oauth => TokenClaims::from_jwt(&access_token).map(Box::new),
            AuthType::ApiKey => None,
        };
        let env_key = match env_source(source.as_deref()) {
            Some(name) if access_token.is_empty() => Some(EnvKey {
                name: name.to_string(),
                set: self.env_values.contains_key(name),
            }),
            _ => None,
        };
        let key = match &env_key {
            Some(env) => self
                .env_values
                .get(&env.name)
                .map(String::as_str)
                .unwrap_or(""),
            None => access_token.as_str(),
        };
        let account = match auth_type {
            AuthType::Oauth => account_of_token(claims.as_deref()),
            AuthType::ApiKey => account_of_key(key),
        };
        Ok(Profile {
            provider: provider.to_string(),
            position: 0,
            label: fields
                .string("label")?
                .or_else(|| source.clone())
                .unwrap_or_else(|| provider.to_string()),
            hash: profile_hash(&id),
            id,
            auth_type,
            priority: fields.integer("priority")?.unwrap_or(0),
            source,
            has_token: !key.is_empty(),
            has_refresh_token: fields
                .string("refresh_token")?
                .is_some_and(|t| !t.is_empty()),
            status: Status {
                last_status: fields.string("last_status")?.map(|s| LastStatus::parse(&s)),
                last_status_at: fields.timestamp("last_status_at")?,
                last_error_code: fields.integer("last_error_code")?,
                last_error_reason: fields.string("last_error_reason")?,
                last_error_message: fields.string("last_error_message")?,
                last_error_reset_at: fields.timestamp("last_error_reset_at")?,
            },
            request_count: match fields.integer("request_count")? {
                Some(n) if n < 0 => {
                    return Err(Error::schema(
                        &self.path,
                        format!("{place}.request_count"),
                        "a count ≥ 0",
                    ));
                }
                n => n.unwrap_or(0) as u64,
            },
            base_url: fields.string("base_url")?,
            claims,
            status_cleared_at: fields.timestamp("status_cleared_at")?,
            failure_reason: fields.string("failure_reason")?,
            model_cooldowns: fields.model_cooldowns()?,
            ttl: TtlRule::V019,
            rules: self.rules,
            account,
            twin: None,
            env_key,
            origin: None,
        })
    }

    /// Removes `keys` from entry `id` of `provider` (where present).
    fn remove_keys(&mut self, provider: &str, id: &str, keys: &[&str]) {
        let Some(entry) = self.entry_mut(provider, id) else {
            return;
        };
        let mut touched = false;
        for key in keys {
            touched |= entry.shift_remove(*key).is_some();
        }
        if touched {
            self.changed = true;
            self.profiles.remove(provider);
        }
    }

    fn entry_mut(&mut self, provider: &str, id: &str) -> Option<&mut Map<String, Value>> {
        self.root
            .get_mut("credential_pool")?
            .as_object_mut()?
            .get_mut(provider)?
            .as_array_mut()?
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
    }

    /// `model_cooldowns` of an entry as stored (every model, ended or not), for a merge.
    fn stored_model_cooldowns(&self, provider: &str, id: &str) -> Map<String, Value> {
        self.entry(provider, id)
            .and_then(|e| e.get("model_cooldowns"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }
}

/// One provider's entries of a [`Document`], written by [`crate::engine::apply`] as Hermes
/// writes the same state.
pub(crate) struct PoolMut<'a> {
    doc: &'a mut Document,
    provider: &'a str,
}

impl StatusTarget for PoolMut<'_> {
    fn current(&self, id: &str) -> Option<Current> {
        // Rows borrowed from a profile home's root are not in this file: a change to one here
        // would be lost, so it reads as gone (the store writes those to the root).
        if self.doc.is_borrowed(self.provider) {
            return None;
        }
        let cached = self.doc.profiles.get(self.provider);
        let find = |profiles: &[Profile]| profiles.iter().find(|p| p.id == id).map(Current::of);
        match cached {
            Some(profiles) => find(profiles),
            None => find(&self.doc.file_profiles(self.provider)?),
        }
    }

    fn set_status(&mut self, id: &str, status: Status, extra: Extra) {
        self.doc
            .patch(self.provider, id, super::patch::fields(&status, extra));
        // `failure_reason` was newer Hermes's verdict on the status just replaced.
        self.doc.remove_keys(self.provider, id, &["failure_reason"]);
    }

    fn move_to_end(&mut self, id: &str) {
        // Every id renumbered comes from the pool itself, so none can be missing.
        let _ = self.doc.move_to_end(self.provider, id);
    }

    fn cool_model(&mut self, id: &str, model: &str, at: Epoch, until: Epoch) {
        let mut cooldowns = self.doc.stored_model_cooldowns(self.provider, id);
        // Merges keep the later end, as newer Hermes's do: each writer saw only its model.
        let later = match cooldowns.get(model).and_then(time::parse_stored_timestamp) {
            Some(stored) if stored >= until => return,
            _ => until,
        };
        // Ended cooldowns go; a new model finds no room in a full map (see the trait).
        cooldowns.retain(|m, end| {
            m == model || time::parse_stored_timestamp(end).is_none_or(|end| end > at)
        });
        if !cooldowns.contains_key(model)
            && cooldowns.len() >= crate::engine::effect::MAX_MODEL_COOLDOWNS
        {
            return;
        }
        cooldowns.insert(model.to_string(), Value::from(later));
        self.doc.patch(
            self.provider,
            id,
            vec![("model_cooldowns", Value::Object(cooldowns))],
        );
    }

    fn clear_models(&mut self, id: &str, model: Option<&str>) {
        match model {
            None => self
                .doc
                .remove_keys(self.provider, id, &["model_cooldowns"]),
            Some(model) => {
                let mut cooldowns = self.doc.stored_model_cooldowns(self.provider, id);
                if cooldowns.shift_remove(model).is_some() {
                    self.doc.patch(
                        self.provider,
                        id,
                        vec![("model_cooldowns", Value::Object(cooldowns))],
                    );
                }
            }
        }
    }
}

/// Adds the secrets under `key` (a token, a key, a secret, a password) and every email address
/// (labels that are addresses, `email` fields, the email claim of a JWT) to `redactor`.
fn collect_secrets(key: &str, value: &Value, redactor: &mut Redactor) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_secrets(k, v, redactor);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_secrets(key, item, redactor);
            }
        }
        Value::String(text) => {
            let key = key.to_ascii_lowercase();
            let secret = crate::providers::SECRET_KEY_WORDS
                .iter()
                .any(|word| key.contains(word))
                && key != "auth_type";
            if secret {
                redactor.secret(text);
                if let Some(email) = TokenClaims::from_jwt(text).and_then(|c| c.email) {
                    redactor.email(&email);
                }
            }
            if text.contains('@') && (key.contains("email") || key == "label" || key == "source") {
                redactor.email(text);
            }
        }
        _ => {}
    }
}

/// Typed access to one entry's known fields; absent and null both read as `None`.
struct Fields<'a> {
    path: &'a Path,
    place: &'a str,
    entry: &'a Map<String, Value>,
}

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.entry.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &str) -> Error {
        Error::schema(self.path, format!("{}.{key}", self.place), expected)
    }

    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string or null")),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an integer or null")),
            Some(_) => Err(self.wrong(key, "an integer or null")),
        }
    }

    /// `model_cooldowns`: an object of model name → end time, sorted by model.
    fn model_cooldowns(&self) -> Result<Vec<(String, Epoch)>> {
        let expected = "an object of model name → epoch seconds, or null";
        let cooldowns = match self.get("model_cooldowns") {
            None => return Ok(Vec::new()),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(self.wrong("model_cooldowns", expected)),
        };
        let mut out = Vec::with_capacity(cooldowns.len());
        for (model, until) in cooldowns {
            match until {
                Value::Null => {}
                Value::Number(_) | Value::String(_) => {
                    if let Some(until) = time::parse_stored_timestamp(until) {
                        out.push((model.clone(), until));
                    }
                }
                _ => {
                    return Err(Error::schema(
                        self.path,
                        format!(
                            "{}.model_cooldowns.{}",
                            self.place,
                            crate::sanitize::one_line(model, 60)
                        ),
                        "epoch seconds, an ISO-8601 string or null",
                    ));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Epoch seconds, milliseconds or an ISO-8601 string. Text Hermes could not parse either
    /// reads as "no time" there, and so here.
    fn timestamp(&self, key: &str) -> Result<Option<Epoch>> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ (Value::Number(_) | Value::String(_))) => Ok(time::parse_stored_timestamp(v)),
            Some(_) => Err(self.wrong(key, "epoch seconds, an ISO-8601 string or null")),
        }
    }
}

/// serde_json appends " at line L column C" to its messages; rotor prints the position itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FRESH: &str = include_str!("../../tests/fixtures/hermes-0.19/fresh.json");

    fn parse(text: &str) -> Result<Document> {
        Document::parse(Path::new("/h/auth.json"), text.as_bytes())
    }

    #[test]
    fn reads_the_fixture_pools() {
        let doc = parse(FRESH).unwrap();
        assert_eq!(doc.providers(), ["openai-codex", "openrouter"]);
        let codex = doc.profiles("openai-codex").unwrap();
        let ids: Vec<_> = codex.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a1b2c3", "d4e5f6", "0789ab"]);
        assert_eq!(codex[0].plan(), Some("prolite"));
        assert_eq!(codex[1].plan(), Some("team"));
        assert_eq!(codex[2].position, 3);
        let router = doc.profiles("openrouter").unwrap();
        assert_eq!(router[0].auth_type, AuthType::ApiKey);
        assert_eq!(router[0].claims, None);
        assert!(doc.profiles("nope").is_none());
    }

    #[test]
    fn rewriting_unchanged_differs_only_in_updated_at() {
        let mut doc = parse(FRESH).unwrap();
        let out = String::from_utf8(doc.to_bytes(1795838430.632929)).unwrap();
        assert_eq!(out, FRESH);
    }

    #[test]
    fn sorts_stably_by_priority() {
        let doc = parse(r#"{"credential_pool":{"p":[{"id":"x","priority":1},{"id":"y","priority":0},{"id":"z","priority":1}]}}"#).unwrap();
        let ids: Vec<_> = doc
            .profiles("p")
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids, ["y", "x", "z"]);
    }

    #[test]
    fn wrong_types_name_the_place() {
        let err = parse(r#"{"credential_pool":{"p":[{"id":"x"},{"id":"y","priority":"high"}]}}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/h/auth.json: credential_pool.p[1].priority: expected an integer or null"
        );
        let err = parse(r#"{"credential_pool":{"p":{}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/h/auth.json: credential_pool.p: expected a list of entries"
        );
        let err = parse(r#"[1]"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/h/auth.json: top level: expected a JSON object"
        );
        let err = parse(r#"{"credential_pool":{"p":[{"id":"x"},{"id":"x"}]}}"#).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        let err = parse(r#"{"credential_pool":{"p":[{"label":"no id"}]}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/h/auth.json: credential_pool.p[0].id: expected a non-empty string"
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse("{\n  \"version\": 1,\n  oops\n}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/h/auth.json:3:3: invalid JSON: key must be a string"
        );
        assert_eq!(err.exit_code(), crate::error::exit::INVALID_FILE);
    }

    #[test]
    fn set_fields_keeps_order_and_appends_new_keys() {
        let mut doc =
            parse(r#"{"credential_pool":{"p":[{"id":"x","b":1,"last_status":null}]},"z":1.50}"#)
                .unwrap();
        doc.set_fields(
            "p",
            "x",
            vec![("last_status", Value::from("ok")), ("new", Value::from(2))],
        )
        .unwrap();
        assert!(doc.is_changed());
        let out = String::from_utf8(doc.to_bytes(0.0)).unwrap();
        let reparsed: Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<_> = reparsed["credential_pool"]["p"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["id", "b", "last_status", "new"]);
        assert!(out.contains("\"z\": 1.50"), "number text preserved: {out}");
    }

    #[test]
    fn profiles_read_after_a_patch_see_it() {
        let mut doc = parse(FRESH).unwrap();
        assert_eq!(doc.profiles("openai-codex").unwrap()[1].request_count, 0);
        doc.set_fields(
            "openai-codex",
            "d4e5f6",
            vec![("request_count", Value::from(7))],
        )
        .unwrap();
        assert_eq!(doc.profiles("openai-codex").unwrap()[1].request_count, 7);
        assert_eq!(doc.profiles("openrouter").unwrap().len(), 1);
    }

    #[test]
    fn round_robin_move_renumbers() {
        let mut doc = parse(FRESH).unwrap();
        doc.move_to_end("openai-codex", "a1b2c3").unwrap();
        let ids: Vec<_> = doc
            .profiles("openai-codex")
            .unwrap()
            .into_iter()
            .map(|p| (p.id, p.priority))
            .collect();
        assert_eq!(
            ids,
            [
                ("d4e5f6".into(), 0),
                ("0789ab".into(), 1),
                ("a1b2c3".to_string(), 2)
            ]
        );
    }

    fn api_entry(id: &str, source: &str, token: &str) -> String {
        format!(
            r#"{{"id":"{id}","label":"{id}","auth_type":"api_key","priority":0,"source":"{source}","access_token":"{token}"}}"#
        )
    }

    #[test]
    fn a_profile_home_borrows_only_the_providers_it_has_no_rows_of() {
        let own = parse(&format!(
            r#"{{"credential_pool":{{"openai-codex":[],"openrouter":[{}]}}}}"#,
            api_entry("own1", "manual", "sk-own-key-0000000000")
        ))
        .unwrap();
        let root = parse(&format!(
            r#"{{"credential_pool":{{"openrouter":[{}],"anthropic":[{}],"openai-codex":[{}]}}}}"#,
            api_entry("root1", "manual", "sk-root-router-000000"),
            api_entry("root2", "manual", "sk-root-anthropic-000"),
            api_entry("root3", "manual", "sk-root-codex-0000000"),
        ))
        .unwrap();
        let mut doc = own;
        doc.borrow_from(root);
        // Its own providers first, then the borrowed ones in the root's order.
        assert_eq!(doc.providers(), ["openrouter", "anthropic", "openai-codex"]);
        assert!(!doc.is_borrowed("openrouter"));
        assert!(doc.is_borrowed("openai-codex") && doc.is_borrowed("anthropic"));
        assert_eq!(doc.profiles("openrouter").unwrap()[0].id, "own1");
        assert_eq!(doc.profiles("anthropic").unwrap()[0].id, "root2");
        assert_eq!(
            doc.access_token("anthropic", "root2"),
            Some("sk-root-anthropic-000")
        );
        // Every secret of both files is redacted, the root's unused ones too.
        let text = doc
            .redactor()
            .redact("sk-root-router-000000 sk-root-codex-0000000 sk-own-key-0000000000");
        assert!(!text.contains("sk-"), "{text}");
        // A write to a borrowed provider never lands in the profile's own file.
        let mut target = doc.pool_mut("anthropic");
        assert_eq!(StatusTarget::current(&target, "root2"), None);
        target.move_to_end("root2");
        assert!(!doc.is_changed());
    }

    #[test]
    fn env_sourced_keys_come_from_the_lookup_and_never_enter_the_file() {
        let text = format!(
            r#"{{"credential_pool":{{"openrouter":[{},{}]}}}}"#,
            api_entry("e1", "env:ROUTER_KEY", ""),
            api_entry("e2", "env:bad name", ""),
        );
        let options = ReadOptions {
            rules: None,
            env: EnvLookup::Fixed(vec![("ROUTER_KEY".into(), "sk-env-key-000000000".into())]),
        };
        let mut doc =
            Document::parse_with(Path::new("/h/auth.json"), text.as_bytes(), &options).unwrap();
        let profiles = doc.profiles("openrouter").unwrap();
        assert!(profiles[0].has_token);
        assert_eq!(profiles[0].env_key.as_ref().map(|e| e.set), Some(true));
        assert!(!profiles[1].has_token, "not a variable name: not looked up");
        assert_eq!(
            doc.access_token("openrouter", "e1"),
            Some("sk-env-key-000000000")
        );
        assert_eq!(
            doc.redactor().redact("key sk-env-key-000000000"),
            "key [redacted]"
        );
        doc.set_fields("openrouter", "e1", vec![("request_count", Value::from(1))])
            .unwrap();
        let bytes = String::from_utf8(doc.to_bytes(0.0)).unwrap();
        assert!(!bytes.contains("sk-env-key"), "{bytes}");
        // Without a lookup the entry has no key, as when the variable is unset.
        let bare = parse(&text).unwrap();
        assert!(!bare.profiles("openrouter").unwrap()[0].has_token);
    }

    #[test]
    fn dotenv_lines_read_as_dotenv_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "# comment\nexport A=1\nB = \"two words\" # note\nC='x#y'\nD=plain # note\nnot a line\n9X=no\n",
        )
        .unwrap();
        use std::os::unix::fs::MetadataExt;
        let me = std::fs::metadata(&path).unwrap().uid();
        let got: HashMap<String, String> = read_dotenv(&path, me).into_iter().collect();
        assert_eq!(got.get("A").map(String::as_str), Some("1"));
        assert_eq!(got.get("B").map(String::as_str), Some("two words"));
        assert_eq!(got.get("C").map(String::as_str), Some("x#y"));
        assert_eq!(got.get("D").map(String::as_str), Some("plain"));
        assert!(!got.contains_key("9X"));
        assert!(read_dotenv(&dir.path().join("missing"), me).is_empty());
        assert!(
            read_dotenv(dir.path(), me).is_empty(),
            "a directory reads as empty"
        );
        assert!(
            read_dotenv(&path, me + 1).is_empty(),
            "another user's file reads as empty"
        );
        let link = dir.path().join("link.env");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(
            read_dotenv(&link, me).is_empty(),
            "a symlink reads as empty"
        );
    }

    #[test]
    fn model_cooldowns_keep_the_later_end_and_stay_bounded() {
        use crate::engine::{Effect, ResetSource};
        let mut doc = parse(&format!(
            r#"{{"credential_pool":{{"anthropic":[{}]}}}}"#,
            api_entry("a1", "manual", "sk-ant-key-0000000000")
        ))
        .unwrap();
        let cool = |doc: &mut Document, model: &str, at: f64, until: f64| {
            let effect = Effect::CoolModel {
                profile_id: "a1".into(),
                at,
                model: model.into(),
                until,
                reason: "throttled".into(),
                source: ResetSource::Ttl,
                capped: false,
            };
            crate::engine::apply(
                &effect,
                &crate::engine::Guard::Always,
                &mut doc.pool_mut("anthropic"),
            )
        };
        cool(&mut doc, "m", 100.0, 500.0);
        cool(&mut doc, "m", 200.0, 300.0);
        assert_eq!(
            doc.profiles("anthropic").unwrap()[0].model_cooldowns,
            [("m".to_string(), 500.0)]
        );
        for i in 0..100 {
            cool(&mut doc, &format!("model-{i:03}"), 200.0, 1000.0);
        }
        let stored = doc.profiles("anthropic").unwrap()[0]
            .model_cooldowns
            .clone();
        assert_eq!(stored.len(), crate::engine::effect::MAX_MODEL_COOLDOWNS);
        // Once they have ended, they make room.
        cool(&mut doc, "late", 2000.0, 3000.0);
        assert_eq!(
            doc.profiles("anthropic").unwrap()[0].model_cooldowns,
            [("late".to_string(), 3000.0)]
        );
    }
}
