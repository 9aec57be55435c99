//! Identifiers chosen by people in the configuration (slugs).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An identifier that is not a valid slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid identifier {input:?}: use 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit"
)]
pub struct IdError {
    /// The rejected input.
    pub input: String,
}

fn check_slug(s: &str) -> Result<(), IdError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(IdError {
            input: s.to_owned(),
        })
    }
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a slug.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_slug(&s)?;
                Ok(Self(s))
            }
            /// The slug.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

slug_id!(
    /// A workspace: one organization, or one client brand of an agency. Nothing crosses workspaces.
    WorkspaceId
);
slug_id!(
    /// A watch (veille): a named monitoring target inside a workspace.
    WatchId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(WatchId::new("brand-fr_2").is_ok());
        assert!(WatchId::new("").is_err());
        assert!(WatchId::new("Brand").is_err());
        assert!(WatchId::new("-x").is_err());
        assert!(serde_json::from_str::<WorkspaceId>("\"a b\"").is_err());
    }
}
