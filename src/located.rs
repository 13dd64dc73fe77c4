//! A user's TOML file and what is wrong in it, at `file:line:column`: the error of scenario and
//! cost files, and the bounded read both use.

use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::scenario::limits::MAX_FILE_BYTES;
use crate::units::{clip, clip_to};

/// A file that cannot be used, with where and why (an exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// The file at fault.
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// Dotted path of the offending key (`registry.bandwidth`, `variant[1].name`), when known.
    pub field: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FileError {}

/// The path segment serde_path_to_error shows for the inside of a `toml::Spanned` value.
pub const SPANNED_FIELD: &str = ".$__serde_spanned_private_value";

/// 1-based line and column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Reads `path` as UTF-8 text of at most [`MAX_FILE_BYTES`]; `what` names it in errors
/// (`scenario file`).
pub fn read_text(path: &Path, what: &str) -> Result<String, FileError> {
    let error = |message: String| FileError {
        file: path.to_path_buf(),
        position: None,
        field: None,
        message,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| error(format!("cannot read the {what}: {e}")))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(error(format!(
            "the {what} is larger than {MAX_FILE_BYTES} bytes, the most allowed"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| error(format!("cannot read the {what}: not UTF-8 text ({e})")))
}

/// An error maker for one file's text.
pub struct Located<'a> {
    /// The file.
    pub path: &'a Path,
    /// Its text.
    pub text: &'a str,
}

impl Located<'_> {
    /// An error at `span` (byte range in the text) about `field`.
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        field: Option<&str>,
        message: &str,
    ) -> FileError {
        FileError {
            file: self.path.to_path_buf(),
            position: span.map(|s| line_column(self.text, s.start)),
            field: field.map(clip),
            message: clip_to(message.trim(), 1000),
        }
    }

    /// Parses the text as `T`, locating the first problem.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, FileError> {
        let de = toml::de::Deserializer::parse(self.text)
            .map_err(|e| self.error(e.span(), None, e.message()))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string().replace(SPANNED_FIELD, "");
            let field = (!field.is_empty() && field != ".").then_some(field);
            let inner = e.into_inner();
            self.error(inner.span(), field.as_deref(), inner.message())
        })
    }
}
