//! From byte spans to what a person can act on: line, column and field path.

use crate::error::{ConfigError, ConfigErrorKind};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of a field path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// A table key.
    Key(&'a str),
    /// An array index.
    Index(usize),
}

/// Renders a field path: `workspaces[0].watches[1].query`.
pub(crate) fn render_path(steps: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Turns spans of one source text into positioned [`ConfigError`]s.
#[derive(Debug)]
pub(crate) struct Locator<'i> {
    file: String,
    src: &'i str,
    doc: Option<Spanned<DeTable<'i>>>,
}

impl<'i> Locator<'i> {
    /// A locator for `src`, named `file` in messages. `doc` is the parsed document, when the
    /// text parses, used to name the field at a position.
    pub(crate) fn new(file: &str, src: &'i str, doc: Option<Spanned<DeTable<'i>>>) -> Self {
        Self {
            file: file.to_owned(),
            src,
            doc,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.src, offset);
        let before = self.src.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
        (line, column)
    }

    /// An error at a byte span, about the field at `path`.
    pub(crate) fn error(
        &self,
        span: Range<usize>,
        path: String,
        kind: ConfigErrorKind,
        message: String,
    ) -> ConfigError {
        let (line, column) = self.line_column(span.start);
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            path,
            kind,
            message,
        }
    }

    /// An error whose field path is found from the span itself (used for the TOML parser's
    /// and deserializer's errors, which carry a span but no path).
    pub(crate) fn error_at(
        &self,
        span: Range<usize>,
        kind: ConfigErrorKind,
        message: String,
    ) -> ConfigError {
        let path = self.path_at(span.start);
        self.error(span, path, kind, message)
    }

    /// The path of the innermost field whose key or value contains `offset` (empty if none).
    pub(crate) fn path_at(&self, offset: usize) -> String {
        let mut steps = Vec::new();
        if let Some(doc) = &self.doc {
            descend_table(doc.get_ref(), offset, &mut steps);
        }
        render_path(&steps)
    }

    /// The byte offset of character `char_pos` of a string value whose span (quotes included)
    /// is `span` and whose decoded text is `decoded`. When the string holds escapes, the
    /// written text differs from the decoded one and the start of the value is returned.
    pub(crate) fn offset_in_string(
        &self,
        span: &Range<usize>,
        decoded: &str,
        char_pos: usize,
    ) -> usize {
        let written = self.src.get(span.clone()).unwrap_or_default();
        let quote = if written.starts_with("\"\"\"") || written.starts_with("'''") {
            3
        } else {
            1
        };
        let content_start = span.start + quote;
        let content = self
            .src
            .get(content_start..span.end.saturating_sub(quote))
            .unwrap_or_default();
        if content != decoded {
            return span.start;
        }
        let byte = decoded
            .char_indices()
            .nth(char_pos)
            .map_or(decoded.len(), |(i, _)| i);
        content_start + byte
    }

    /// A top-level value of the document.
    pub(crate) fn top_level(&self, key: &str) -> Option<&Spanned<DeValue<'i>>> {
        table_get(self.doc.as_ref()?.get_ref(), key)
    }

    /// The span of the value at `path`, if the document has it.
    pub(crate) fn span_of(&self, path: &[Step<'_>]) -> Option<Range<usize>> {
        let doc = self.doc.as_ref()?;
        let mut span = doc.span();
        let mut table = Some(doc.get_ref());
        let mut value: Option<&DeValue<'_>> = None;
        for step in path {
            let next = match (step, table, value) {
                (Step::Key(key), Some(t), _) => table_get(t, key),
                (Step::Key(key), None, Some(DeValue::Table(t))) => table_get(t, key),
                (Step::Index(i), None, Some(DeValue::Array(a))) => a.get(*i),
                _ => None,
            }?;
            span = next.span();
            value = Some(next.get_ref());
            table = None;
        }
        Some(span)
    }
}

fn table_get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn descend_table<'a>(table: &'a DeTable<'_>, offset: usize, steps: &mut Vec<Step<'a>>) {
    for (key, value) in table.iter() {
        if contains(&key.span(), offset) {
            steps.push(Step::Key(key.get_ref().as_ref()));
            return;
        }
        if contains(&value.span(), offset) {
            steps.push(Step::Key(key.get_ref().as_ref()));
            descend_value(value.get_ref(), offset, steps);
            return;
        }
    }
    // Tables opened by a `[header]` have a span that covers only the header; their entries
    // come after it. Look for the entry inside any sub-table.
    for (key, value) in table.iter() {
        let depth = steps.len();
        steps.push(Step::Key(key.get_ref().as_ref()));
        descend_value(value.get_ref(), offset, steps);
        if steps.len() > depth + 1 {
            return;
        }
        steps.truncate(depth);
    }
}

fn descend_value<'a>(value: &'a DeValue<'_>, offset: usize, steps: &mut Vec<Step<'a>>) {
    match value {
        DeValue::Table(table) => descend_table(table, offset, steps),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                let depth = steps.len();
                steps.push(Step::Index(i));
                if contains(&item.span(), offset) {
                    descend_value(item.get_ref(), offset, steps);
                    return;
                }
                descend_value(item.get_ref(), offset, steps);
                if steps.len() > depth + 1 {
                    return;
                }
                steps.truncate(depth);
            }
        }
        _ => {}
    }
}

fn floor_char_boundary(s: &str, mut offset: usize) -> usize {
    offset = offset.min(s.len());
    while offset > 0 && !s.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "version = 1\n[server]\nlisten = \"x\"\n\n[[workspaces]]\nid = \"a\"\n[[workspaces.watches]]\nid = \"w\"\nquery = \"é\"\n[[workspaces]]\nid = \"b\"\n";

    fn locator() -> Locator<'static> {
        Locator::new("v.toml", SRC, DeTable::parse(SRC).ok())
    }

    #[test]
    fn counts_lines_and_character_columns() {
        let l = locator();
        assert_eq!(l.line_column(0), (1, 1));
        let q = SRC.find("query").unwrap();
        assert_eq!(l.line_column(q), (9, 1));
        let after_accent = SRC.find("é\"").unwrap() + 'é'.len_utf8();
        assert_eq!(l.line_column(after_accent), (9, 11));
    }

    #[test]
    fn names_the_field_at_an_offset() {
        let l = locator();
        assert_eq!(l.path_at(SRC.find("listen").unwrap()), "server.listen");
        assert_eq!(l.path_at(SRC.find("\"x\"").unwrap()), "server.listen");
        assert_eq!(
            l.path_at(SRC.find("query").unwrap()),
            "workspaces[0].watches[0].query"
        );
        assert_eq!(l.path_at(SRC.find("\"b\"").unwrap()), "workspaces[1].id");
        assert_eq!(l.path_at(0), "version");
    }

    #[test]
    fn finds_the_span_of_a_path() {
        let l = locator();
        let span = l
            .span_of(&[
                Step::Key("workspaces"),
                Step::Index(0),
                Step::Key("watches"),
                Step::Index(0),
                Step::Key("query"),
            ])
            .unwrap();
        assert_eq!(&SRC[span.clone()], "\"é\"");
        assert_eq!(l.offset_in_string(&span, "é", 1), span.end - 1);
        assert_eq!(l.offset_in_string(&span, "e", 0), span.start);
        assert!(
            l.span_of(&[Step::Key("workspaces"), Step::Index(5)])
                .is_none()
        );
        assert_eq!(
            render_path(&[Step::Key("a"), Step::Index(2), Step::Key("b")]),
            "a[2].b"
        );
    }
}
