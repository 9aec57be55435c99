//! A file of mentions (JSON Lines or CSV), read from its start and then followed: lines
//! appended later are delivered on the next poll. The cursor is the byte offset after the
//! last complete record delivered, with the line number.

use crate::format::{Format, RecordError, parse_csv, parse_jsonl_line};
use crate::{Connector, ConnectorError, PollOutcome};
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use vigie_model::Mention;

/// Bytes read per poll at most.
const CHUNK_BYTES: usize = 1024 * 1024;

/// Follows a JSON Lines or CSV file.
#[derive(Debug)]
pub struct FileConnector {
    id: String,
    path: PathBuf,
    format: Format,
    poll_interval: Duration,
    /// Byte offset of the first undelivered byte.
    offset: u64,
    /// 1-based line number at `offset`.
    line: u64,
    /// For CSV: the header row, kept to parse records appended later.
    csv_header: Option<Vec<u8>>,
    /// Stop at the end of the file instead of following it.
    once: bool,
}

impl FileConnector {
    /// A connector for `path`, polled every `poll_interval` once it reached the end.
    pub fn new(
        id: impl Into<String>,
        path: PathBuf,
        format: Format,
        poll_interval: Duration,
    ) -> Self {
        Self {
            id: id.into(),
            path,
            format,
            poll_interval,
            offset: 0,
            line: 1,
            csv_header: None,
            once: false,
        }
    }

    /// Reads the file to its end and then reports [`PollOutcome::Finished`].
    pub fn once(mut self) -> Self {
        self.once = true;
        self
    }

    fn io(&self, source: std::io::Error) -> ConnectorError {
        ConnectorError::Io {
            target: self.path.display().to_string(),
            source,
        }
    }
}

#[async_trait]
impl Connector for FileConnector {
    fn id(&self) -> &str {
        &self.id
    }

    fn seek(&mut self, cursor: &str) -> Result<(), ConnectorError> {
        let bad = |reason: &str| ConnectorError::BadCursor {
            cursor: cursor.to_owned(),
            reason: reason.to_owned(),
        };
        let (offset, line) = cursor
            .split_once(':')
            .ok_or_else(|| bad("expected OFFSET:LINE"))?;
        self.offset = offset.parse().map_err(|_| bad("offset is not a number"))?;
        self.line = line.parse().map_err(|_| bad("line is not a number"))?;
        if self.line == 0 {
            return Err(bad("lines are numbered from 1"));
        }
        Ok(())
    }

    fn cursor(&self) -> String {
        format!("{}:{}", self.offset, self.line)
    }

    async fn poll(
        &mut self,
        out: &mut Vec<Mention>,
        rejected: &mut Vec<RecordError>,
    ) -> Result<PollOutcome, ConnectorError> {
        let mut file = tokio::fs::File::open(&self.path)
            .await
            .map_err(|e| self.io(e))?;
        let len = file.metadata().await.map_err(|e| self.io(e))?.len();
        if len < self.offset {
            // Truncated or replaced: start again (the store de-duplicates what was seen).
            self.offset = 0;
            self.line = 1;
            self.csv_header = None;
        }
        if self.format == Format::Csv && self.csv_header.is_none() && self.offset > 0 {
            // Resuming a CSV file: read its header row again.
            let mut head = vec![0u8; CHUNK_BYTES.min(len as usize)];
            let n = file.read(&mut head).await.map_err(|e| self.io(e))?;
            head.truncate(n);
            let Some(end) = head.iter().position(|&b| b == b'\n') else {
                return Err(ConnectorError::BadCursor {
                    cursor: self.cursor(),
                    reason: "the file has no complete header row to resume from".into(),
                });
            };
            head.truncate(end + 1);
            self.csv_header = Some(head);
        }
        file.seek(std::io::SeekFrom::Start(self.offset))
            .await
            .map_err(|e| self.io(e))?;
        let mut buf = Vec::with_capacity(CHUNK_BYTES.min((len - self.offset) as usize));
        (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| self.io(e))?;
        // Only complete lines: a writer may be in the middle of one.
        let mut synthetic_newline = false;
        let last_newline = if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            i
        } else {
            if buf.len() >= CHUNK_BYTES {
                rejected.push(RecordError {
                    line: self.line,
                    reason: format!("line longer than {CHUNK_BYTES} bytes"),
                });
                self.offset += buf.len() as u64;
                return Ok(PollOutcome::Ready);
            }
            if !self.once {
                return Ok(PollOutcome::Idle(self.poll_interval));
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                return Ok(PollOutcome::Finished);
            }
            // Reading once: a last line without its newline is still a record.
            buf.push(b'\n');
            synthetic_newline = true;
            buf.len() - 1
        };
        buf.truncate(last_newline + 1);
        let consumed = buf.len() as u64 - u64::from(synthetic_newline);
        if self.offset == 0 && self.format == Format::Jsonl && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        match self.format {
            Format::Jsonl => {
                for (i, raw) in buf.split(|&b| b == b'\n').enumerate() {
                    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                    if raw.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match parse_jsonl_line(raw, self.line + i as u64) {
                        Ok(m) => out.push(m),
                        Err(e) => rejected.push(e),
                    }
                }
            }
            Format::Csv => {
                let (doc, first_line) = match &self.csv_header {
                    Some(h) => {
                        let mut doc = h.clone();
                        doc.extend_from_slice(&buf);
                        (doc, self.line - 1)
                    }
                    None => {
                        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
                            self.csv_header = Some(buf[..=end].to_vec());
                        }
                        (buf.clone(), self.line)
                    }
                };
                for r in parse_csv(&doc) {
                    match r {
                        Ok(m) => out.push(m),
                        Err(mut e) => {
                            e.line += first_line - 1;
                            rejected.push(e);
                        }
                    }
                }
            }
        }
        self.line += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.offset += consumed;
        Ok(PollOutcome::Ready)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(id: &str) -> String {
        format!(
            r#"{{"source":"t","external_id":"{id}","author":{{"handle":"a"}},"published_at":"2026-03-01T10:00:00Z","text":"x"}}"#
        )
    }

    #[tokio::test]
    async fn follows_appended_lines_and_resumes_from_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "{}\nnot json\n{}", line("1"), line("2")).unwrap();
        write!(f, "{}", line("3")).unwrap(); // incomplete: no newline yet
        let mut c = FileConnector::new("f", path.clone(), Format::Jsonl, Duration::from_secs(1));
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        assert_eq!(
            c.poll(&mut out, &mut rej).await.unwrap(),
            PollOutcome::Ready
        );
        assert_eq!(
            out.iter()
                .map(|m| m.external_id.as_str())
                .collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert_eq!(rej.len(), 1);
        assert_eq!(rej[0].line, 2);
        assert_eq!(
            c.poll(&mut out, &mut rej).await.unwrap(),
            PollOutcome::Idle(Duration::from_secs(1))
        );
        writeln!(f).unwrap();
        writeln!(f, "{}", line("4")).unwrap();
        let cursor = c.cursor();
        out.clear();
        c.poll(&mut out, &mut rej).await.unwrap();
        assert_eq!(
            out.iter()
                .map(|m| m.external_id.as_str())
                .collect::<Vec<_>>(),
            ["3", "4"]
        );
        // A new connector resumed from the saved cursor sees only what came after it.
        let mut c2 = FileConnector::new("f", path, Format::Jsonl, Duration::from_secs(1));
        c2.seek(&cursor).unwrap();
        let mut out2 = Vec::new();
        c2.poll(&mut out2, &mut rej).await.unwrap();
        assert_eq!(out2, out);
        assert_eq!(c2.cursor(), c.cursor());
        assert!(c2.seek("garbage").is_err());
    }

    #[test]
    fn seek_rejects_line_zero() {
        let mut c =
            FileConnector::new("f", PathBuf::from("x"), Format::Csv, Duration::from_secs(1));
        assert!(c.seek("10:0").is_err());
        assert!(c.seek("10:1").is_ok());
    }

    #[tokio::test]
    async fn reading_once_delivers_a_last_line_without_newline_and_skips_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(&path, format!("\u{FEFF}{}\n{}", line("1"), line("2"))).unwrap();
        let mut c = FileConnector::new("f", path, Format::Jsonl, Duration::from_secs(1)).once();
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        while c.poll(&mut out, &mut rej).await.unwrap() != PollOutcome::Finished {}
        assert!(rej.is_empty(), "{rej:?}");
        assert_eq!(
            out.iter()
                .map(|m| m.external_id.as_str())
                .collect::<Vec<_>>(),
            ["1", "2"]
        );
    }

    #[tokio::test]
    async fn csv_resumes_with_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "source,external_id,author_handle,published_at,text").unwrap();
        writeln!(f, "rss,1,a,2026-03-01T10:00:00Z,hello").unwrap();
        let mut c =
            FileConnector::new("f", path.clone(), Format::Csv, Duration::from_secs(1)).once();
        let (mut out, mut rej) = (Vec::new(), Vec::new());
        c.poll(&mut out, &mut rej).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(
            c.poll(&mut out, &mut rej).await.unwrap(),
            PollOutcome::Finished
        );
        writeln!(f, "rss,2,a,bad-date,hello").unwrap();
        writeln!(f, "rss,3,a,2026-03-01T11:00:00Z,again").unwrap();
        let mut c2 = FileConnector::new("f", path, Format::Csv, Duration::from_secs(1));
        c2.seek(&c.cursor()).unwrap();
        out.clear();
        c2.poll(&mut out, &mut rej).await.unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].external_id, "3");
        assert_eq!(rej.len(), 1);
        assert_eq!(rej[0].line, 3, "{:?}", rej[0]);
    }
}
