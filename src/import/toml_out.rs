//! Writing catalog TOML by hand: tables of `key = value` lines in a fixed order, every string
//! quoted by the toml crate so escapes are always right.

/// A TOML table under construction: its header and its lines, in the order they were set.
pub struct Table {
    header: String,
    lines: Vec<String>,
}

impl Table {
    pub fn new(header: &str) -> Self {
        Table {
            header: header.to_string(),
            lines: Vec::new(),
        }
    }

    /// `field = "value"`; `field` may be a dotted key, already quoted where needed.
    pub fn set(&mut self, field: &str, value: &str) {
        self.raw(field, &quote(value));
    }

    pub fn set_opt(&mut self, field: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.set(field, value);
        }
    }

    /// `field = VALUE` with VALUE already TOML (a number, an inline table, an array).
    pub fn raw(&mut self, field: &str, value: &str) {
        self.lines.push(format!("{field} = {value}"));
    }

    pub fn render(&self) -> String {
        let mut text = format!("[{}]\n", self.header);
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
        text
    }
}

/// A TOML basic string of `value`: `"` and `\\` escaped, control characters as escapes.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, quoted otherwise.
pub fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { name.to_string() } else { quote(name) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any string, as a value and as a key, reads back from TOML unchanged.
        #[test]
        fn every_string_survives_quoting(value in any::<String>(), name in any::<String>()) {
            let mut table = Table::new("t");
            table.set(&key(&name), &value);
            let parsed: toml::Table = toml::from_str(&table.render())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", table.render())))?;
            prop_assert_eq!(parsed["t"][&name].as_str(), Some(value.as_str()));
        }
    }

    #[test]
    fn written_tables_parse_back_to_the_same_strings() {
        let awkward = "a \"quoted\" \\ value\nwith a newline and 'single' quotes and {{ .tpl }}";
        let mut table = Table::new(&format!("secrets.{}", key("x.y")));
        table.set(&format!("data.{}", key(".dockerconfigjson")), awkward);
        table.set("plain", "p");
        let parsed: toml::Table = toml::from_str(&table.render()).unwrap();
        let secret = &parsed["secrets"]["x.y"];
        assert_eq!(secret["data"][".dockerconfigjson"].as_str(), Some(awkward));
        assert_eq!(secret["plain"].as_str(), Some("p"));
        assert_eq!(key("db-url"), "db-url");
        assert_eq!(key("gitlab/tokens"), "\"gitlab/tokens\"");
    }
}
