//! Configuration errors: what the user sees, with file, line, column and field path.

use std::fmt;

/// What kind of mistake a [`ConfigError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Read,
    /// The text is not valid TOML.
    Syntax,
    /// A field is unknown, missing, or of the wrong type.
    Schema,
    /// `version` is missing or not a supported version.
    Version,
    /// An identifier is not a valid slug.
    Id,
    /// An identifier is used twice where it must be unique.
    Duplicate,
    /// A duration string is invalid or out of range.
    Duration,
    /// A language is not an ISO 639-1 code.
    Language,
    /// A watch query does not parse.
    Query,
    /// Any other invalid value (address, database, window/bucket mismatch, …).
    Value,
}

/// One mistake in a configuration file.
///
/// Displayed as `file:line:column: field.path: message`, the form editors and terminals
/// recognise (`vigie.toml:12:9: workspaces[0].watches[0].query: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    /// The file name as given to [`crate::load`] or [`crate::parse`].
    pub file: String,
    /// 1-based line (0 when the error is about the whole file, e.g. it cannot be read).
    pub line: usize,
    /// 1-based column in characters (0 when `line` is 0).
    pub column: usize,
    /// The field path, e.g. `workspaces[0].watches[1].query`; empty when the error is not about
    /// one field (syntax errors, unreadable file).
    pub path: String,
    /// What kind of mistake it is.
    pub kind: ConfigErrorKind,
    /// What is wrong, and how to fix it when we know.
    pub message: String,
}

impl ConfigError {
    fn render(&self) -> String {
        let mut out = self.file.clone();
        if self.line > 0 {
            out.push_str(&format!(":{}:{}", self.line, self.column));
        }
        out.push_str(": ");
        if !self.path.is_empty() {
            out.push_str(&self.path);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }
}

/// Every mistake found in a configuration file, in file order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Wraps a list of errors, sorted by position (line, then column).
    pub(crate) fn new(mut errors: Vec<ConfigError>) -> Self {
        errors.sort_by_key(|e| (e.line, e.column));
        Self(errors)
    }
    /// The errors, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
    /// Iterates over the errors, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Always false: a `ConfigErrors` holds at least one error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The errors as a vector.
    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: usize, path: &str) -> ConfigError {
        ConfigError {
            file: "vigie.toml".into(),
            line,
            column: 9,
            path: path.into(),
            kind: ConfigErrorKind::Value,
            message: "bad".into(),
        }
    }

    #[test]
    fn displays_file_line_column_path_and_message() {
        assert_eq!(
            error(12, "server.listen").to_string(),
            "vigie.toml:12:9: server.listen: bad"
        );
        assert_eq!(error(3, "").to_string(), "vigie.toml:3:9: bad");
        let mut unreadable = error(0, "");
        unreadable.column = 0;
        assert_eq!(unreadable.to_string(), "vigie.toml: bad");
    }

    #[test]
    fn sorts_errors_by_position_one_per_line() {
        let errors = ConfigErrors::new(vec![error(5, "b"), error(2, "a")]);
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors.to_string(),
            "vigie.toml:2:9: a: bad\nvigie.toml:5:9: b: bad"
        );
    }
}
