//! Reading JSON whose shape may be wrong without failing the text around it:
//! a value of the wrong shape is read as a value that says what it is
//! ("a number"), so a reader can name the field, and only broken JSON syntax
//! fails the whole text.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::text::Invalid;

/// What a JSON value may be read as here; any shape it is not becomes a
/// value naming what it is instead, never an error of the whole text.
pub trait Shape: Sized {
    /// Any shape the reader does not want, named ("a number").
    fn other(what: &'static str) -> Self;
    /// A string.
    #[must_use]
    fn string(_: String) -> Self {
        Self::other("a string")
    }
    /// null.
    #[must_use]
    fn null() -> Self {
        Self::other("null")
    }
    /// An object, read entry by entry.
    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::other("an object"))
    }
}

/// Reads any JSON value as `T`.
pub struct Shaped<T>(pub T);

impl<'de, T: Shape> Deserialize<'de> for Shaped<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor(PhantomData)).map(Shaped)
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Shape> Visitor<'de> for ShapeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok(T::other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok(T::other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok(T::other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok(T::other("a number"))
    }
    fn visit_str<E>(self, text: &str) -> Result<T, E> {
        Ok(T::string(text.to_owned()))
    }
    fn visit_string<E>(self, text: String) -> Result<T, E> {
        Ok(T::string(text))
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::null())
    }
    fn visit_none<E>(self) -> Result<T, E> {
        Ok(T::null())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::map(map)
    }
}

/// A string, or null, or what the value is instead.
pub enum Text {
    /// A string.
    Is(String),
    /// null, which an optional field may be.
    Null,
    /// Anything else, named.
    Not(&'static str),
}

impl Shape for Text {
    fn other(what: &'static str) -> Text {
        Text::Not(what)
    }
    fn string(text: String) -> Text {
        Text::Is(text)
    }
    fn null() -> Text {
        Text::Null
    }
}

impl Text {
    /// An optional field: null is absent.
    pub fn optional(self, field: &str) -> Result<Option<String>, Invalid> {
        match self {
            Text::Is(text) => Ok(Some(text)),
            Text::Null => Ok(None),
            Text::Not(what) => Err(Invalid(format!("{field} is {what}, not a string"))),
        }
    }
}

/// An object of strings (labels, annotations, data); null is empty.
pub struct Texts(Result<BTreeMap<String, String>, Wrong>);

/// What makes a [`Texts`] wrong: the first thing found.
enum Wrong {
    /// It is not an object.
    Whole(&'static str),
    /// This entry is not a string.
    Entry(String, &'static str),
}

impl Shape for Texts {
    fn other(what: &'static str) -> Texts {
        Texts(Err(Wrong::Whole(what)))
    }
    fn null() -> Texts {
        Texts(Ok(BTreeMap::new()))
    }
    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Texts, A::Error> {
        let (mut texts, mut wrong) = (BTreeMap::new(), None);
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value::<Shaped<Text>>()?.0 {
                Text::Is(text) => {
                    texts.insert(key, text);
                }
                Text::Null => wrong = wrong.or(Some(Wrong::Entry(key, "null"))),
                Text::Not(what) => wrong = wrong.or(Some(Wrong::Entry(key, what))),
            }
        }
        Ok(Texts(wrong.map_or(Ok(texts), Err)))
    }
}

impl Texts {
    /// The strings, or an error naming `field` and the entry that is not a string.
    pub fn named(self, field: &str) -> Result<BTreeMap<String, String>, Invalid> {
        self.0.map_err(|wrong| {
            Invalid(match wrong {
                Wrong::Whole(what) => format!("{field} is {what}, not an object of strings"),
                Wrong::Entry(key, what) => format!("{field} key {key:?} is {what}, not a string"),
            })
        })
    }
}

/// The keys of an object (`binaryData`, whose values cannot hold templates); null is none.
pub struct Keys(pub Result<Vec<String>, &'static str>);

impl Shape for Keys {
    fn other(what: &'static str) -> Keys {
        Keys(Err(what))
    }
    fn null() -> Keys {
        Keys(Ok(Vec::new()))
    }
    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Keys, A::Error> {
        let mut keys = Vec::new();
        while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
            keys.push(key);
        }
        Ok(Keys(Ok(keys)))
    }
}
