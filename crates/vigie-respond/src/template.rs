//! Templates with `{{variable}}` placeholders (holding statements, internal messages).
//!
//! Rendering replaces every placeholder whose variable is known and leaves the others
//! untouched, so that the policy check can point at them (an unresolved variable blocks
//! publication). Names are ASCII letters, digits and `_`; spaces inside the braces are
//! allowed (`{{ brand }}`).

use std::collections::BTreeMap;

/// A placeholder found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Variable name.
    pub name: String,
    /// Byte offset of `{{`.
    pub start: usize,
    /// Byte offset just after `}}`.
    pub end: usize,
}

/// Every `{{name}}` placeholder of `text`, in order.
pub fn placeholders(text: &str) -> Vec<Placeholder> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let Some(close) = text[open + 2..].find("}}").map(|i| i + open + 2) else {
            break;
        };
        let name = text[open + 2..close].trim();
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(Placeholder {
                name: name.to_owned(),
                start: open,
                end: close + 2,
            });
            from = close + 2;
        } else {
            from = open + 2;
        }
    }
    out
}

/// `text` with every known variable replaced by its value; unknown ones are kept as written.
pub fn render(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in placeholders(text) {
        if let Some(value) = vars.get(&p.name) {
            out.push_str(&text[last..p.start]);
            out.push_str(value);
            last = p.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn renders_known_variables_and_keeps_the_others() {
        let vars = BTreeMap::from([("brand".to_owned(), "Orsane".to_owned())]);
        let text = "{{brand}} s'excuse. Infos : {{ contact_url }} {{not a var}}";
        assert_eq!(
            render(text, &vars),
            "Orsane s'excuse. Infos : {{ contact_url }} {{not a var}}"
        );
        let left = placeholders(&render(text, &vars));
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].name, "contact_url");
    }

    #[test]
    fn unclosed_braces_are_plain_text() {
        assert!(placeholders("{{brand").is_empty());
        assert_eq!(placeholders("a {{x}} b {{y}}").len(), 2);
    }
}
