//! u128 amounts as decimal strings in JSON (JSON numbers lose precision past 2^53).

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        N(u64),
    }
    match Either::deserialize(d)? {
        Either::S(s) => s
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a whole number of unop"))),
        Either::N(n) => Ok(n as u128),
    }
}
