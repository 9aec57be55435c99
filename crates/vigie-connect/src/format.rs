//! The mention interchange formats: JSON Lines (canonical) and CSV.
//!
//! Parsing never stops at the first bad record: every record yields either a [`Mention`] or
//! a [`RecordError`] carrying its 1-based line number and the reason, so that an import can
//! report every mistake at once (and, in strict mode, store nothing).

use serde::Deserialize;
use vigie_model::{Author, Engagement, Mention, Timestamp};

/// Largest accepted record (one line of JSON Lines, one CSV record), in bytes.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;
/// Largest accepted mention text, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A file format of mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line (`docs/formats/mention.md`).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// Guesses the format from a file name: `.csv` is CSV, anything else JSON Lines.
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Self::Csv,
            _ => Self::Jsonl,
        }
    }
    /// `jsonl` or `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "jsonl" | "ndjson" | "json" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// A record that could not be turned into a mention.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RecordError {
    /// 1-based line number where the record starts.
    pub line: u64,
    /// What is wrong, with the column when known.
    pub reason: String,
}

/// Checks what serde cannot: required fields not empty, sizes within limits.
pub fn validate_mention(m: &Mention) -> Result<(), String> {
    if m.source.trim().is_empty() {
        return Err("field `source` is empty".into());
    }
    if m.external_id.trim().is_empty() {
        return Err("field `external_id` is empty".into());
    }
    if m.author.handle.trim().is_empty() {
        return Err("field `author.handle` is empty".into());
    }
    if m.source.len() > 64 {
        return Err("field `source` is longer than 64 bytes".into());
    }
    if m.external_id.len() > 512 {
        return Err("field `external_id` is longer than 512 bytes".into());
    }
    if m.text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "field `text` is {} bytes, more than the {MAX_TEXT_BYTES} allowed",
            m.text.len()
        ));
    }
    if m.text.trim().is_empty() && m.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err("field `text` is empty (and there is no title)".into());
    }
    Ok(())
}

/// Parses one JSON Lines record (without its newline). `line` is its 1-based line number.
pub fn parse_jsonl_line(bytes: &[u8], line: u64) -> Result<Mention, RecordError> {
    let err = |reason: String| RecordError { line, reason };
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(err(format!(
            "line is {} bytes, more than the {MAX_RECORD_BYTES} allowed",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| err(format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1)))?;
    let mention: Mention = serde_json::from_str(text).map_err(|e| {
        err(format!(
            "column {}: {}",
            e.column(),
            strip_position(&e.to_string())
        ))
    })?;
    validate_mention(&mention).map_err(err)?;
    Ok(mention)
}

/// Removes a UTF-8 byte-order mark, which some editors put at the start of a file.
pub fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}

/// serde_json appends " at line L column C"; we give the position ourselves.
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

/// Parses a whole JSON Lines document. Blank lines are skipped; a trailing `\r` is ignored.
pub fn parse_jsonl(data: &[u8]) -> Vec<Result<Mention, RecordError>> {
    let data = strip_bom(data);
    let mut out = Vec::new();
    for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push(parse_jsonl_line(raw, i as u64 + 1));
    }
    out
}

/// One CSV row. Columns are named in the header; only `source`, `external_id`,
/// `author_handle`, `published_at` and `text` are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvRow {
    source: String,
    external_id: String,
    #[serde(default)]
    url: Option<String>,
    author_handle: String,
    #[serde(default)]
    author_name: Option<String>,
    #[serde(default)]
    author_followers: Option<u64>,
    #[serde(default)]
    author_verified: Option<bool>,
    published_at: String,
    #[serde(default)]
    received_at: Option<String>,
    #[serde(default)]
    title: Option<String>,
    text: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    reposts: Option<u64>,
    #[serde(default)]
    likes: Option<u64>,
    #[serde(default)]
    replies: Option<u64>,
    #[serde(default)]
    quotes: Option<u64>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    quote_of: Option<String>,
    #[serde(default)]
    repost_of: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

impl CsvRow {
    fn into_mention(self) -> Result<Mention, String> {
        let published_at = Timestamp::parse_rfc3339(&self.published_at)
            .map_err(|e| format!("published_at: {e}"))?;
        let received_at = match non_empty(self.received_at) {
            Some(s) => Some(Timestamp::parse_rfc3339(&s).map_err(|e| format!("received_at: {e}"))?),
            None => None,
        };
        Ok(Mention {
            source: self.source,
            external_id: self.external_id,
            url: non_empty(self.url),
            author: Author {
                handle: self.author_handle,
                name: non_empty(self.author_name),
                followers: self.author_followers,
                verified: self.author_verified.unwrap_or(false),
            },
            published_at,
            received_at,
            title: non_empty(self.title),
            text: self.text,
            lang: non_empty(self.lang),
            engagement: Engagement {
                reposts: self.reposts.unwrap_or(0),
                likes: self.likes.unwrap_or(0),
                replies: self.replies.unwrap_or(0),
                quotes: self.quotes.unwrap_or(0),
            },
            reply_to: non_empty(self.reply_to),
            quote_of: non_empty(self.quote_of),
            repost_of: non_empty(self.repost_of),
            country: non_empty(self.country),
        })
    }
}

/// Parses a CSV document with a header row. Errors name the line where the record starts.
pub fn parse_csv(data: &[u8]) -> Vec<Result<Mention, RecordError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(data);
    let headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return vec![Err(RecordError {
                line: 1,
                reason: format!("cannot read the header row: {e}"),
            })];
        }
    };
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, csv::Position::line);
                let err = |reason: String| RecordError { line, reason };
                let size: usize = record.iter().map(<[u8]>::len).sum();
                if size > MAX_RECORD_BYTES {
                    out.push(Err(err(format!(
                        "record is {size} bytes, more than the {MAX_RECORD_BYTES} allowed"
                    ))));
                    continue;
                }
                let parsed = record
                    .deserialize::<CsvRow>(Some(&headers))
                    .map_err(|e| csv_reason(&e))
                    .and_then(CsvRow::into_mention)
                    .and_then(|m| validate_mention(&m).map(|()| m));
                out.push(parsed.map_err(err));
            }
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                out.push(Err(RecordError {
                    line,
                    reason: csv_reason(&e),
                }));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    break;
                }
            }
        }
    }
    out
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let field = err
                .field()
                .map(|f| format!("field {}: ", f + 1))
                .unwrap_or_default();
            format!("{field}{}", err.kind())
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields, but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("invalid UTF-8 in field {}", err.field() + 1)
        }
        _ => e.to_string(),
    }
}

/// Parses a document in the given format.
pub fn parse(format: Format, data: &[u8]) -> Vec<Result<Mention, RecordError>> {
    match format {
        Format::Jsonl => parse_jsonl(data),
        Format::Csv => parse_csv(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"source":"mastodon","external_id":"1","author":{"handle":"a"},"published_at":"2026-03-01T10:00:00Z","text":"Orsane c'est bon"}"#;

    #[test]
    fn jsonl_reports_each_bad_line_with_its_number() {
        let doc = format!(
            "{GOOD}\n\n{{\"source\":\"x\"\n{}\n{}\n",
            GOOD.replace("\"1\"", "\"\""),
            GOOD.replace("2026-03-01T10:00:00Z", "hier")
        );
        let out = parse_jsonl(doc.as_bytes());
        assert_eq!(out.len(), 4);
        assert!(out[0].is_ok());
        let e = out[1].as_ref().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("EOF"), "{e}");
        let e = out[2].as_ref().unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (4, "field `external_id` is empty")
        );
        let e = out[3].as_ref().unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("invalid timestamp"), "{e}");
    }

    #[test]
    fn jsonl_ignores_a_byte_order_mark_and_crlf() {
        let doc = format!("\u{FEFF}{GOOD}\r\n{}\r\n", GOOD.replace("\"1\"", "\"2\""));
        let out = parse_jsonl(doc.as_bytes());
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(Result::is_ok), "{out:?}");
    }

    #[test]
    fn jsonl_rejects_unknown_fields_and_bad_utf8() {
        let doc = GOOD.replace("\"text\"", "\"txet\":1,\"text\"");
        let e = parse_jsonl(doc.as_bytes()).remove(0).unwrap_err();
        assert!(e.reason.contains("unknown field `txet`"), "{e}");
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.insert(5, 0xff);
        let e = parse_jsonl(&bytes).remove(0).unwrap_err();
        assert_eq!(e.reason, "invalid UTF-8 at byte 6");
    }

    #[test]
    fn csv_parses_and_reports_lines() {
        let doc = "source,external_id,author_handle,author_followers,published_at,text\n\
                   rss,a1,lemonde,1200,2026-03-01T10:00:00Z,\"Orsane, encore\"\n\
                   rss,a2,lemonde,many,2026-03-01T10:00:00Z,x\n\
                   rss,a3,lemonde,3,2026-03-01T10:00:00Z\n\
                   rss,a4,lemonde,3,nope,x\n";
        let out = parse_csv(doc.as_bytes());
        assert_eq!(out.len(), 4);
        let m = out[0].as_ref().unwrap();
        assert_eq!(m.author.followers, Some(1200));
        assert_eq!(m.text, "Orsane, encore");
        let e = out[1].as_ref().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("field 4"), "{e}");
        let e = out[2].as_ref().unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.reason.contains("5 fields"), "{e}");
        let e = out[3].as_ref().unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("published_at"), "{e}");
    }

    #[test]
    fn csv_missing_required_column() {
        let doc = "source,external_id,published_at,text\nrss,a1,2026-03-01T10:00:00Z,x\n";
        let e = parse_csv(doc.as_bytes()).remove(0).unwrap_err();
        assert!(e.reason.contains("author_handle"), "{e}");
    }
}
