//! The catalog's JSON Schema (draft-07), derived from the loader's own types so the schema and
//! the loader cannot disagree. Shaped for editors: taplo crashes on `allOf` inside properties and
//! ignores descriptions beside `$ref`, so every reference is inlined with its description.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::load::raw::RawFile;

/// The schema as a JSON value, every `$ref` inlined.
pub fn catalog_schema() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.inline_subschemas = true;
    let generator = settings.into_generator();
    let schema = generator.into_root_schema_for::<RawFile>();
    let mut root = schema.to_value();
    let definitions = root
        .as_object_mut()
        .and_then(|map| map.remove("definitions"))
        .and_then(|defs| match defs {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .unwrap_or_default();
    inline(&mut root, &definitions, 0);
    root
}

/// The schema file: pretty JSON with a `$comment` header, ending in a newline. It depends only on
/// the catalog format, so `secretcat schema` and `generate` write the same bytes.
pub fn render() -> String {
    let schema = catalog_schema();
    let mut ordered = Map::new();
    let comment = format!(
        "{} - do not edit. Regenerate with: secretcat generate (or secretcat schema)",
        super::GENERATED_MARKER
    );
    ordered.insert("$comment".into(), Value::String(comment));
    if let Value::Object(map) = schema {
        for (key, value) in map {
            ordered.insert(key, value);
        }
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(ordered)).unwrap_or_default();
    text.push('\n');
    text
}

/// Replace every `{"$ref": "#/definitions/X", ...}` by definition X merged with the siblings
/// (a sibling description wins: it is the field's own), unwrap single-entry `allOf`s, and drop
/// `null` alternatives: TOML has no null, an optional field is simply not required.
fn inline(value: &mut Value, definitions: &Map<String, Value>, depth: usize) {
    // The catalog types are not recursive; the bound only guards against a future mistake.
    if depth > 32 {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any_of)) = map.get_mut("anyOf") {
                any_of.retain(|alternative| alternative.get("type").is_none_or(|t| t != "null"));
                if any_of.len() == 1 {
                    let only = any_of.remove(0);
                    map.remove("anyOf");
                    map.insert("allOf".into(), Value::Array(vec![only]));
                }
            }
            if let Some(Value::Array(all_of)) = map.get("allOf")
                && all_of.len() == 1
            {
                let only = all_of[0].clone();
                map.remove("allOf");
                if let Value::Object(inner) = only {
                    for (key, inner_value) in inner {
                        map.entry(key).or_insert(inner_value);
                    }
                }
            }
            if let Some(Value::String(reference)) = map.get("$ref").cloned() {
                let name = reference.trim_start_matches("#/definitions/");
                if let Some(Value::Object(definition)) = definitions.get(name) {
                    map.remove("$ref");
                    for (key, def_value) in definition {
                        map.entry(key.clone()).or_insert_with(|| def_value.clone());
                    }
                }
            }
            // taplo shows the description of an array's items when hovering the array's key.
            let description = map.get("description").cloned();
            if let (Some(description), Some(Value::Object(items))) =
                (description, map.get_mut("items"))
            {
                items.entry("description").or_insert(description);
            }
            for child in map.values_mut() {
                inline(child, definitions, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                inline(item, definitions, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    found.push(key);
                    walk(child, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, found)),
            _ => {}
        }
    }

    #[test]
    fn schema_has_no_refs_or_all_of_and_documents_every_field() {
        let schema = catalog_schema();
        let mut keys = Vec::new();
        walk(&schema, &mut keys);
        assert!(!keys.contains(&"$ref"), "every $ref is inlined");
        assert!(
            !keys.contains(&"allOf"),
            "taplo crashes on allOf in properties"
        );
        assert!(!keys.contains(&"definitions"));
        let secret = &schema["properties"]["secrets"]["additionalProperties"];
        for field in [
            "bundle",
            "data",
            "consumers",
            "owner",
            "namespace",
            "external_secret",
            "template",
        ] {
            let description = secret["properties"][field]["description"].as_str();
            assert!(
                description.is_some_and(|d| !d.is_empty()),
                "{field} has a description"
            );
        }
        assert_eq!(secret["additionalProperties"], Value::Bool(false));
        assert_eq!(
            secret["x-taplo"]["initKeys"][0], "owner",
            "bundle is required: taplo adds it"
        );
        let environments = &secret["properties"]["environments"];
        assert_eq!(
            environments["items"]["description"],
            environments["description"]
        );
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    }

    /// Every field of every table carries a description: it is the editor's hover text.
    #[test]
    fn every_property_at_every_level_is_described() {
        fn check(node: &Value, path: &str, missing: &mut Vec<String>) {
            let Value::Object(map) = node else { return };
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, property) in properties {
                    if property.get("description").is_none() {
                        missing.push(format!("{path}.{name}"));
                    }
                    check(property, &format!("{path}.{name}"), missing);
                }
            }
            for key in ["additionalProperties", "items"] {
                if let Some(child) = map.get(key) {
                    check(child, &format!("{path}.{key}"), missing);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alternatives)) = map.get(key) {
                    alternatives
                        .iter()
                        .for_each(|a| check(a, &format!("{path}.{key}"), missing));
                }
            }
        }
        let mut missing = Vec::new();
        check(&catalog_schema(), "", &mut missing);
        assert_eq!(missing, Vec::<String>::new());
    }
}
