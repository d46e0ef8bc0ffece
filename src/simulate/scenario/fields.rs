//! The value types of a scenario file, each deserialised with the expectation its error names
//! (`policy.max_wait: expected seconds ≥ 0 or a DURATION such as 90s, 5m, 2h30m`), and the
//! translation of serde's errors into rotor's `FILE: PLACE: expected WHAT`.

use crate::error::Error;
use crate::time;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Unexpected,
    Visitor,
};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

pub(super) const DURATION_EXPECTED: &str = "seconds ≥ 0 or a DURATION such as 90s, 5m, 2h30m";

/// A visitor that names what it expects; every other input is the error of that expectation.
macro_rules! expecting {
    ($text:expr) => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str($text)
        }
    };
}

/// The key of the map serde_json hands to `visit_map` for a number that is not a 64-bit integer
/// (a float, say): auth.json needs the `arbitrary_precision` feature, which does this.
const NUMBER_KEY: &str = "$serde_json::private::Number";

/// Marks the key an error is about, when the path tracker could not see it (see [`Replay`]).
const KEY_MARK: char = '\u{1}';

/// What `visit_map` got: such a number, or a real object (its first key already read, and
/// given back first by [`Replay`]).
pub(super) enum MapOrNumber<A> {
    Number(f64),
    Map(Replay<A>),
}

pub(super) fn map_or_number<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<MapOrNumber<A>, A::Error> {
    let first: Option<String> = map.next_key()?;
    if first.as_deref() == Some(NUMBER_KEY) {
        let text: String = map.next_value()?;
        let n = text
            .parse::<f64>()
            .map_err(|_| de::Error::invalid_value(Unexpected::Str(&text), &"a number"))?;
        return Ok(MapOrNumber::Number(n));
    }
    Ok(MapOrNumber::Map(Replay {
        done: first.is_none(),
        first,
        inner: map,
    }))
}

/// A map whose first key was read ahead, and is given back first.
pub(super) struct Replay<A> {
    first: Option<String>,
    done: bool,
    inner: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if self.done {
            return Ok(None);
        }
        match self.first.take() {
            // The key was read outside the path tracker's view: an error about it (an unknown
            // key) carries the key itself, for `error` to put in its place.
            Some(key) => seed
                .deserialize(key.as_str().into_deserializer())
                .map(Some)
                .map_err(|e: A::Error| de::Error::custom(format!("{KEY_MARK}{key}{KEY_MARK}{e}"))),
            None => self.inner.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

/// Seconds as a number ≥ 0 (at most ten years), or a DURATION string (`90s`, `2h30m`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Seconds(pub f64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Seconds;
            expecting!(DURATION_EXPECTED);
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Seconds, E> {
                self.visit_f64(n as f64)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Seconds, E> {
                self.visit_f64(n as f64)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Seconds, E> {
                if n.is_finite() && (0.0..=time::MAX_DURATION_S).contains(&n) {
                    Ok(Seconds(n))
                } else {
                    Err(E::invalid_value(Unexpected::Float(n), &self))
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Seconds, E> {
                time::parse_duration(s)
                    .map(Seconds)
                    .map_err(|_| E::invalid_value(Unexpected::Str(s), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Seconds, A::Error> {
                match map_or_number(map)? {
                    MapOrNumber::Number(n) => self.visit_f64(n),
                    MapOrNumber::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer of at least `MIN`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct AtLeast<const MIN: u64>(pub u64);

impl<'de, const MIN: u64> Deserialize<'de> for AtLeast<MIN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const MIN: u64>;
        impl<'de, const MIN: u64> Visitor<'de> for V<MIN> {
            type Value = AtLeast<MIN>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an integer ≥ {MIN}")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<AtLeast<MIN>, E> {
                if n >= MIN {
                    Ok(AtLeast(n))
                } else {
                    Err(E::invalid_value(Unexpected::Unsigned(n), &self))
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AtLeast<MIN>, A::Error> {
                match map_or_number(map)? {
                    MapOrNumber::Number(n) => {
                        Err(de::Error::invalid_value(Unexpected::Float(n), &self))
                    }
                    MapOrNumber::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &self)),
                }
            }
        }
        d.deserialize_any(V::<MIN>)
    }
}

/// A string (`expected a string` otherwise, as every free-text field of a scenario says).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            expecting!("a string");
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value read by `parse` from a string, with `EXPECTED` as the error: the variants of a
/// closed set (`strategy`, `then`, a refresh result, a transport failure).
pub(super) trait Named: Sized {
    const EXPECTED: &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

/// A [`Named`] value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Name<T>(pub T);

impl<'de, T: Named> Deserialize<'de> for Name<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: Named> Visitor<'_> for V<T> {
            type Value = Name<T>;
            expecting!(T::EXPECTED);
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Name<T>, E> {
                T::from_name(s)
                    .map(Name)
                    .ok_or_else(|| E::invalid_value(Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Deserialises `T` (a struct of known keys) from a JSON object only: serde would also take a
/// list of its fields in order, which no scenario means. `expected` names the object.
pub(super) fn object<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
    expected: &'static str,
) -> Result<T, D::Error> {
    struct V<T>(&'static str, PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(V(expected, PhantomData))
}

/// serde_json appends " at line L column C"; rotor's errors carry the position themselves.
pub(super) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A deserialisation error of the scenario at `path` as rotor words it: a syntax error with
/// its line and column, else the JSON path of the bad value and what was expected there.
pub(super) fn error(path: &Path, e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let place = e.path().to_string();
    let inner = e.into_inner();
    if !inner.is_data() {
        return syntax(path, &inner);
    }
    let mut message = strip_position(&inner.to_string());
    let mut place = place;
    if let Some(rest) = message.strip_prefix(KEY_MARK)
        && let Some((key, text)) = rest.split_once(KEY_MARK)
    {
        place = if place == "." {
            key.to_string()
        } else {
            format!("{place}.{key}")
        };
        message = text.to_string();
    }
    let place = if place == "." {
        "top level".to_string()
    } else {
        place
    };
    Error::schema(path, place, expectation(&message))
}

/// A scenario that is not JSON at all, with the line and column where it stops being so.
pub(super) fn syntax(path: &Path, e: &serde_json::Error) -> Error {
    Error::Syntax {
        path: path.to_path_buf(),
        what: "scenario JSON",
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    }
}

/// What serde's message says was expected: `unknown field `x`, expected one of `a`, `b``
/// becomes `one of the keys a, b`; `invalid type: …, expected X` becomes `X`.
fn expectation(message: &str) -> String {
    if message.starts_with("unknown field") {
        let keys = message
            .split_once(", expected ")
            .map(|(_, known)| known)
            .unwrap_or("")
            .trim_start_matches("one of ")
            .replace(" or ", ", ")
            .replace('`', "");
        return format!("one of the keys {keys}");
    }
    match message.rsplit_once(", expected ") {
        Some((_, expected)) => expected.to_string(),
        None => message
            .strip_prefix("expected ")
            .unwrap_or(message)
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_expectations() {
        assert_eq!(
            expectation("unknown field `polcy`, expected one of `description`, `provider`"),
            "one of the keys description, provider"
        );
        assert_eq!(
            expectation("unknown field `x`, expected `id` or `at`"),
            "one of the keys id, at"
        );
        assert_eq!(
            expectation("invalid type: string \"high\", expected an integer ≥ 1"),
            "an integer ≥ 1"
        );
        assert_eq!(
            expectation(
                "invalid value: string \"a, expected b\", expected `success` or `repeat_last`"
            ),
            "`success` or `repeat_last`"
        );
    }
}
