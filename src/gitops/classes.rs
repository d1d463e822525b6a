//! Every class a connector config names besides its connector class:
//! converters, the header converter, each `transforms.X.type` and each
//! `predicates.X.type`, checked against what the worker lists (KIP-769).

use crate::connect::{Plugin, PluginKind};

/// The key that names a connector's class.
pub const CONNECTOR_CLASS: &str = "connector.class";

/// A class-valued key, the kind of plugin it names, and the class.
pub struct NamedClass<'c> {
    /// The config key, e.g. `transforms.route.type`.
    pub key: String,
    /// The plugin type Connect lists it under, e.g. `transformation`.
    pub kind: PluginKind,
    /// The class or alias the config gives.
    pub class: &'c str,
}

/// The classes a config names, in key order.
#[must_use]
pub fn named(config: &std::collections::BTreeMap<String, String>) -> Vec<NamedClass<'_>> {
    let mut named = Vec::new();
    for (key, kind) in [
        ("key.converter", PluginKind::Converter),
        ("value.converter", PluginKind::Converter),
        ("header.converter", PluginKind::HeaderConverter),
    ] {
        if let Some(class) = config.get(key).filter(|c| !c.trim().is_empty()) {
            named.push(NamedClass { key: key.to_string(), kind, class });
        }
    }
    for (list, kind) in [("transforms", PluginKind::Transformation), ("predicates", PluginKind::Predicate)] {
        let aliases = config.get(list).map(String::as_str).unwrap_or_default();
        for alias in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let key = format!("{list}.{alias}.type");
            if let Some(class) = config.get(&key).filter(|c| !c.trim().is_empty()) {
                named.push(NamedClass { key, kind: kind.clone(), class });
            }
        }
    }
    named
}

/// Why `named` is not installed, with the closest installed class of its
/// kind; `None` when it is (by full class name or simple name).
#[must_use]
pub fn missing(named: &NamedClass, plugins: &[Plugin]) -> Option<String> {
    let of_kind: Vec<&Plugin> = plugins.iter().filter(|p| p.kind == named.kind).collect();
    let simple = |class: &str| class.rsplit('.').next().unwrap_or(class).to_string();
    if of_kind.iter().any(|p| p.class == named.class || simple(&p.class) == named.class) {
        return None;
    }
    let what = named.kind.as_str().replace('_', " ");
    let wanted = simple(named.class).to_lowercase();
    let closest = of_kind
        .iter()
        .filter_map(|p| Some((typo_distance(&wanted, &simple(&p.class).to_lowercase())?, p.class.as_str())))
        .min();
    Some(match closest {
        Some((_, class)) => format!("`{}` is not an installed {what}; did you mean `{class}`?", named.class),
        None => format!("`{}` is not an installed {what}", named.class),
    })
}

/// How many edits make `wanted` into `installed`, when that many could be a
/// typo: the ending they share (`converter`) is left out first, so that
/// `avroconverter` is not taken for a typo of `longconverter`.
fn typo_distance(wanted: &str, installed: &str) -> Option<usize> {
    let shared = wanted.chars().rev().zip(installed.chars().rev()).take_while(|(a, b)| a == b).count();
    let head = |s: &str| s.chars().take(s.chars().count() - shared).collect::<String>();
    let (wanted, installed) = (head(wanted), head(installed));
    let distance = strsim::levenshtein(&wanted, &installed);
    (distance <= (wanted.chars().count() / 3).max(1)).then_some(distance)
}

/// What a class name given in a config names among the installed plugins.
pub enum Resolved<'p> {
    /// Exactly one plugin.
    Plugin(&'p Plugin),
    /// A simple name several plugins share: Connect registers no alias for it.
    Ambiguous(Vec<&'p str>),
    /// None.
    Unknown,
}

/// Connect's alias rules: the full class name, the simple name (after the
/// last `.`), or the simple name without a trailing `Connector`. Case matters.
#[must_use]
pub fn resolve<'p>(class: &str, plugins: &'p [Plugin]) -> Resolved<'p> {
    if let Some(p) = plugins.iter().find(|p| p.class == class) {
        return Resolved::Plugin(p);
    }
    let matching: Vec<&Plugin> = plugins.iter().filter(|p| aliases(&p.class).contains(&class)).collect();
    match matching.as_slice() {
        [] => Resolved::Unknown,
        [one] => Resolved::Plugin(one),
        many => Resolved::Ambiguous(many.iter().map(|p| p.class.as_str()).collect()),
    }
}

/// The simple name and, when it ends with `Connector`, the name without it.
fn aliases(class: &str) -> Vec<&str> {
    let simple = simple_name(class);
    match simple.strip_suffix("Connector") {
        Some(short) if !short.is_empty() => vec![simple, short],
        _ => vec![simple],
    }
}

fn simple_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// Why `class` names no installed connector, with the closest installed
/// class or the list of them.
#[must_use]
pub fn unknown_class(class: &str, plugins: &[Plugin]) -> String {
    let unknown = format!("{CONNECTOR_CLASS} `{class}` is not an installed connector plugin");
    if let Some(suggestion) = closest(class, plugins) {
        return format!("{unknown}; did you mean `{suggestion}`?");
    }
    let mut classes: Vec<&str> = plugins.iter().map(|p| p.class.as_str()).collect();
    classes.sort_unstable();
    match classes.as_slice() {
        [] => format!("{unknown}; Connect lists no connector plugin"),
        classes => format!("{unknown}; installed connector classes: {}", quoted(classes)),
    }
}

/// The installed class whose simple name (or that name without `Connector`)
/// is nearest to the simple name of `class`, by edit distance ignoring case;
/// `None` when even the nearest is more than half the name's length away.
/// Ties go to the first class in name order.
#[must_use]
pub fn closest<'p>(class: &str, plugins: &'p [Plugin]) -> Option<&'p str> {
    let wanted = simple_name(class).to_lowercase();
    let limit = wanted.chars().count() / 2;
    plugins
        .iter()
        .filter_map(|p| {
            let distance = aliases(&p.class).iter().map(|a| strsim::levenshtein(&wanted, &a.to_lowercase())).min()?;
            Some((distance, p.class.as_str()))
        })
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, class)| class)
}

/// Class names in backquotes, comma-separated.
#[must_use]
pub fn quoted(classes: &[&str]) -> String {
    classes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(class: &str, kind: &str) -> Plugin {
        Plugin { class: class.into(), kind: PluginKind::from(kind.to_string()), version: None }
    }

    #[test]
    fn every_class_valued_key_is_found_and_checked() {
        let config: std::collections::BTreeMap<String, String> = [
            ("value.converter", "org.apache.kafka.connect.json.JsonConverter"),
            ("transforms", "route, insert"),
            ("transforms.route.type", "org.apache.kafka.connect.transforms.RegexRoutr"),
            ("transforms.insert.type", "InsertField$Value"),
            ("predicates", "p"),
            ("predicates.p.type", "org.example.Nope"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let plugins = [
            plugin("org.apache.kafka.connect.json.JsonConverter", "converter"),
            plugin("org.apache.kafka.connect.transforms.RegexRouter", "transformation"),
            plugin("org.apache.kafka.connect.transforms.InsertField$Value", "transformation"),
            plugin("org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicate"),
        ];
        let found: Vec<(String, Option<String>)> =
            named(&config).iter().map(|n| (n.key.clone(), missing(n, &plugins))).collect();
        assert_eq!(
            found,
            [
                ("value.converter".into(), None),
                ("transforms.route.type".into(), Some("`org.apache.kafka.connect.transforms.RegexRoutr` is not an installed transformation; did you mean `org.apache.kafka.connect.transforms.RegexRouter`?".into())),
                ("transforms.insert.type".into(), None),
                ("predicates.p.type".into(), Some("`org.example.Nope` is not an installed predicate".into())),
            ]
        );
    }

    #[test]
    fn another_format_is_not_offered_as_a_typo_of_the_one_asked_for() {
        let plugins = [
            plugin("org.apache.kafka.connect.converters.LongConverter", "converter"),
            plugin("org.apache.kafka.connect.json.JsonConverter", "converter"),
        ];
        let config =
            [("value.converter", "io.confluent.connect.avro.AvroConverter"), ("key.converter", "JsonConvertr")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let found: Vec<Option<String>> = named(&config).iter().map(|n| missing(n, &plugins)).collect();
        assert_eq!(
            found,
            [
                Some("`JsonConvertr` is not an installed converter; did you mean `org.apache.kafka.connect.json.JsonConverter`?".into()),
                Some("`io.confluent.connect.avro.AvroConverter` is not an installed converter".into()),
            ]
        );
    }
}
