//! A kind's `[params]` table read into its `Params` struct.
//!
//! The struct derives `Deserialize` with `#[serde(deny_unknown_fields, default)]`; this module
//! is the deserializer that feeds it the cell's table, so that its errors say which key is wrong
//! as the experiment file's user reads them: `params.<key>: unknown parameter for kind <kind>
//! (known: <the struct's fields>)`, or `params.<key>: <what is wrong with its value>`. Once read,
//! the struct checks its values' ranges ([`Validate`]), with errors in the same form.

use crate::ExperimentError;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Kind;

/// The parameters of a kind that takes none.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl Validate for NoParams {}

/// A kind's parameters, checked once read: each value within its range.
pub trait Validate {
    /// Checks every value's range; the error names the key. Any value is valid by default.
    fn validate(&self) -> Result<(), InvalidParam> {
        Ok(())
    }
}

/// A `[params]` value outside its range: `params.<key>: <what is wrong>`.
#[derive(Debug, thiserror::Error)]
#[error("params.{key}: {message}")]
pub struct InvalidParam {
    /// The key.
    pub key: &'static str,
    /// What is wrong with its value, with the value.
    pub message: String,
}

impl InvalidParam {
    /// `key` is invalid: `message`.
    pub fn new(key: &'static str, message: impl Into<String>) -> InvalidParam {
        InvalidParam { key, message: message.into() }
    }
}

/// `Ok` if `value` is a finite number above 0.
pub(crate) fn positive(key: &'static str, value: f64) -> Result<(), InvalidParam> {
    if value.is_finite() && value > 0.0 {
        return Ok(());
    }
    Err(InvalidParam::new(key, format!("must be a finite number > 0, got {value}")))
}

/// `Ok` if `value` is at least `min`.
pub(crate) fn at_least(key: &'static str, value: usize, min: usize) -> Result<(), InvalidParam> {
    if value >= min {
        return Ok(());
    }
    Err(InvalidParam::new(key, format!("must be at least {min}, got {value}")))
}

/// Declares a kind's `Params` that takes the bound constants beside its own keys: the struct
/// has the kind's fields and `bounds` ([`BoundConstants`](resgen_bounds::formulas::BoundConstants),
/// checked by its [`Validate`]), while `[params]` spells the constants as flat keys, `delta`,
/// `c_eps`, `c_radius`, `c_conf` and `c_ntk`, beside the kind's. It is read through a private
/// twin with every key flat (serde's `flatten` cannot be combined with `deny_unknown_fields`),
/// so that unknown keys are still errors listing every known one. Each own field is written
/// `name: type = default,` after its doc and serde attributes.
macro_rules! params_with_bounds {
    (
        $(#[doc = $doc:expr])*
        pub struct Params {
            $(
                $(#[doc = $fdoc:expr])*
                $(#[serde($($serde:tt)*)])*
                $field:ident: $ty:ty = $default:expr,
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, serde::Deserialize)]
        #[serde(from = "FlatParams")]
        pub struct Params {
            $($(#[doc = $fdoc])* pub $field: $ty,)*
            /// The bound constants (`[params]` keys `delta`, `c_eps`, `c_radius`, `c_conf`,
            /// `c_ntk`; defaults as in [`BoundConstants`](resgen_bounds::formulas::BoundConstants)).
            pub bounds: resgen_bounds::formulas::BoundConstants,
        }

        /// [`Params`] as `[params]` spells it: the bound constants' keys flat.
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        struct FlatParams {
            $($(#[serde($($serde)*)])* $field: $ty,)*
            #[serde(deserialize_with = "crate::kinds::params::number")]
            delta: f64,
            #[serde(deserialize_with = "crate::kinds::params::number")]
            c_eps: f64,
            #[serde(deserialize_with = "crate::kinds::params::number")]
            c_radius: f64,
            #[serde(deserialize_with = "crate::kinds::params::number")]
            c_conf: f64,
            #[serde(deserialize_with = "crate::kinds::params::number")]
            c_ntk: f64,
        }

        impl Default for FlatParams {
            fn default() -> Self {
                let k = resgen_bounds::formulas::BoundConstants::default();
                FlatParams {
                    $($field: $default,)*
                    delta: k.delta,
                    c_eps: k.c_eps,
                    c_radius: k.c_radius,
                    c_conf: k.c_conf,
                    c_ntk: k.c_ntk,
                }
            }
        }

        impl From<FlatParams> for Params {
            fn from(f: FlatParams) -> Params {
                let (delta, c_eps, c_radius, c_conf, c_ntk) = (f.delta, f.c_eps, f.c_radius, f.c_conf, f.c_ntk);
                let bounds = resgen_bounds::formulas::BoundConstants { delta, c_eps, c_radius, c_conf, c_ntk };
                Params { $($field: f.$field,)* bounds }
            }
        }

        impl Default for Params {
            fn default() -> Params {
                FlatParams::default().into()
            }
        }
    };
}
pub(crate) use params_with_bounds;

/// Reads `table` into `P`; errors name the key (see the module doc).
pub(crate) fn parse<P: DeserializeOwned>(kind: Kind, table: &toml::Table) -> Result<P, ExperimentError> {
    P::deserialize(TableDe(table)).map_err(|e| match e {
        ParamError::Message(m) => ExperimentError::Params(m),
        ParamError::Unknown { key, known } => ExperimentError::Params(format!(
            "params.{key}: unknown parameter for kind {} (known: {})",
            kind.name(),
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        )),
    })
}

/// Reads `table` into `P` ([`parse`]) and checks its values ([`Validate`]).
pub(crate) fn read<P: DeserializeOwned + Validate>(kind: Kind, table: &toml::Table) -> Result<P, ExperimentError> {
    let p: P = parse(kind, table)?;
    p.validate().map_err(|e| ExperimentError::Params(e.to_string()))?;
    Ok(p)
}

/// A number: TOML integers (`c_eps = 2`) are accepted as numbers too
/// (`#[serde(deserialize_with = "number")]`).
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match toml::Value::deserialize(d)? {
        toml::Value::Integer(i) => Ok(i as f64),
        toml::Value::Float(f) => Ok(f),
        other => Err(de::Error::custom(format!("expected a number, found {other}"))),
    }
}

/// What went wrong reading a `[params]` table.
#[derive(Debug)]
pub(crate) enum ParamError {
    /// A message, already naming its key once it leaves [`Entries`].
    Message(String),
    /// A key the kind's struct does not have, with the keys it has.
    Unknown { key: String, known: &'static [&'static str] },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Message(m) => f.write_str(m),
            ParamError::Unknown { key, .. } => write!(f, "params.{key}: unknown parameter"),
        }
    }
}

impl std::error::Error for ParamError {}

impl de::Error for ParamError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ParamError::Message(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        ParamError::Unknown { key: field.to_string(), known: expected }
    }
}

/// The `[params]` table as a map of keys to values.
struct TableDe<'a>(&'a toml::Table);

impl<'de> de::Deserializer<'de> for TableDe<'_> {
    type Error = ParamError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        visitor.visit_map(Entries { iter: self.0.iter(), value: None })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries<'a> {
    iter: toml::map::Iter<'a, String, toml::Value>,
    value: Option<(&'a String, &'a toml::Value)>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = ParamError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ParamError> {
        let Some((k, v)) = self.iter.next() else { return Ok(None) };
        self.value = Some((k, v));
        seed.deserialize(k.as_str().into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ParamError> {
        let (k, v) = self.value.take().ok_or_else(|| ParamError::Message("params: a value without a key".into()))?;
        seed.deserialize(ValueDe(v.clone())).map_err(|e| match e {
            ParamError::Message(m) => ParamError::Message(format!("params.{k}: {m}")),
            other => other,
        })
    }
}

/// One value: TOML's own deserializer, its errors as [`ParamError`] (with the text that
/// `toml::Value::try_into` gives).
struct ValueDe(toml::Value);

impl<'de> de::Deserializer<'de> for ValueDe {
    type Error = ParamError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        de::Deserializer::deserialize_any(self.0, visitor).map_err(|e| ParamError::Message(e.to_string()))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
