//! Reading a NAB layout: `data/<category>/<file>.csv`, `labels/combined_windows.json`,
//! `config/profiles.json`.

use crate::error::NabError;
use crate::score::Profile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One row of a data file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// Timestamp as milliseconds since 1970-01-01 (the file's wall time read as UTC).
    pub ts_ms: i64,
    /// The value.
    pub value: f64,
}

/// One data file with its labelled windows as inclusive row-index ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// `<category>/<file>.csv`, the key used in the labels.
    pub name: String,
    /// The category (folder) name.
    pub category: String,
    /// The rows in file order.
    pub rows: Vec<Row>,
    /// Labelled windows `[first, last]` (row indices, inclusive), sorted, not overlapping.
    pub windows: Vec<(usize, usize)>,
}

impl DataFile {
    /// NAB's probationary period: `min(floor(0.15 n), 750)` rows, never scored.
    pub fn probation(&self) -> usize {
        probation_rows(self.rows.len())
    }

    /// The file name without category and extension (`nyc_taxi`).
    pub fn stem(&self) -> &str {
        let base = self.name.rsplit('/').next().unwrap_or(&self.name);
        base.strip_suffix(".csv").unwrap_or(base)
    }
}

/// NAB's probationary period for a file of `n` rows: `min(floor(0.15 n), 0.15 * 5000)`.
pub fn probation_rows(n: usize) -> usize {
    ((n as f64 * 0.15).floor() as usize).min(750)
}

/// A NAB corpus (possibly a subset of its categories).
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    /// The files, sorted by name.
    pub files: Vec<DataFile>,
    /// The application profiles, in the order standard, reward_low_FP_rate, reward_low_FN_rate.
    pub profiles: Vec<Profile>,
}

impl Corpus {
    /// Reads the layout under `root`. With `categories`, only those categories are read (each
    /// must exist); otherwise every folder under `data/`. Every data file must have an entry
    /// in `labels/combined_windows.json` and every window must match row timestamps.
    pub fn load(root: &Path, categories: Option<&[String]>) -> Result<Self, NabError> {
        if !root.is_dir() {
            return Err(NabError::Layout(format!(
                "{} is not a directory (expected a NAB layout with data/, labels/, config/)",
                root.display()
            )));
        }
        let data_dir = root.join("data");
        let mut found: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(&data_dir).map_err(|e| NabError::io(&data_dir, e))? {
            let entry = entry.map_err(|e| NabError::io(&data_dir, e))?;
            if entry.path().is_dir()
                && let Some(name) = entry.file_name().to_str()
            {
                found.push(name.to_owned());
            }
        }
        found.sort();
        let chosen: Vec<String> = match categories {
            None => found,
            Some(wanted) => {
                for c in wanted {
                    if !found.contains(c) {
                        return Err(NabError::Layout(format!(
                            "unknown category {c:?} in {} (found: {})",
                            data_dir.display(),
                            found.join(", ")
                        )));
                    }
                }
                let mut w = wanted.to_vec();
                w.sort();
                w.dedup();
                w
            }
        };
        if chosen.is_empty() {
            return Err(NabError::Layout(format!(
                "no category folder under {}",
                data_dir.display()
            )));
        }
        let labels_path = root.join("labels").join("combined_windows.json");
        let labels = read_windows(&labels_path)?;
        let profiles = read_profiles(&root.join("config").join("profiles.json"))?;
        let mut files = Vec::new();
        for category in &chosen {
            let dir = data_dir.join(category);
            let mut paths: Vec<PathBuf> = Vec::new();
            for entry in std::fs::read_dir(&dir).map_err(|e| NabError::io(&dir, e))? {
                let p = entry.map_err(|e| NabError::io(&dir, e))?.path();
                if p.extension().is_some_and(|e| e == "csv") {
                    paths.push(p);
                }
            }
            paths.sort();
            for path in paths {
                let file_name = path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .ok_or_else(|| NabError::Layout(format!("bad file name {}", path.display())))?;
                let name = format!("{category}/{file_name}");
                let rows = read_data_csv(&path)?;
                let spans = labels.get(&name).ok_or_else(|| {
                    NabError::Layout(format!("{name} has no entry in {}", labels_path.display()))
                })?;
                let windows = windows_to_rows(&name, &rows, spans)?;
                files.push(DataFile {
                    name,
                    category: category.clone(),
                    rows,
                    windows,
                });
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self { files, profiles })
    }

    /// Total number of labelled windows.
    pub fn window_count(&self) -> usize {
        self.files.iter().map(|f| f.windows.len()).sum()
    }

    /// The categories present, sorted.
    pub fn categories(&self) -> Vec<String> {
        let mut c: Vec<String> = self.files.iter().map(|f| f.category.clone()).collect();
        c.dedup();
        c
    }
}

/// Reads a `timestamp,value` CSV.
pub fn read_data_csv(path: &Path) -> Result<Vec<Row>, NabError> {
    let text = std::fs::read_to_string(path).map_err(|e| NabError::io(path, e))?;
    let bad = |line: usize, reason: String| NabError::Csv {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, h)| h.trim())
        .ok_or_else(|| bad(1, "empty file (expected header `timestamp,value`)".into()))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let ts_col = cols.iter().position(|c| *c == "timestamp");
    let value_col = cols.iter().position(|c| *c == "value");
    let (Some(ts_col), Some(value_col)) = (ts_col, value_col) else {
        return Err(bad(
            1,
            format!("header {header:?} lacks `timestamp` and `value` columns"),
        ));
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let field = |c: usize| fields.get(c).map(|s| s.trim());
        let ts = field(ts_col).ok_or_else(|| bad(i + 1, "missing timestamp".into()))?;
        let ts_ms = parse_timestamp(ts).ok_or_else(|| {
            bad(
                i + 1,
                format!("bad timestamp {ts:?} (expected YYYY-MM-DD HH:MM:SS)"),
            )
        })?;
        let v = field(value_col).ok_or_else(|| bad(i + 1, "missing value".into()))?;
        let value: f64 = v
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| bad(i + 1, format!("bad value {v:?} (expected a finite number)")))?;
        rows.push(Row { ts_ms, value });
    }
    if rows.is_empty() {
        return Err(bad(1, "no data rows".into()));
    }
    Ok(rows)
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with a `T`) as UTC milliseconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: i64 = d.next()?.parse().ok()?;
    let da: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let mut t = hms.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let mi: i64 = t.next()?.parse().ok()?;
    let se: i64 = t.next()?.parse().ok()?;
    if t.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let ms = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: String = f.chars().chain("000".chars()).take(3).collect();
            digits.parse::<i64>().ok()?
        }
        Some(_) => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms)
}

/// Reads `combined_windows.json`: file name → list of `[start, end]` timestamps (in ms).
pub fn read_windows(path: &Path) -> Result<BTreeMap<String, Vec<(i64, i64)>>, NabError> {
    let text = std::fs::read_to_string(path).map_err(|e| NabError::io(path, e))?;
    let bad = |reason: String| NabError::Json {
        path: path.to_owned(),
        reason,
    };
    let raw: BTreeMap<String, Vec<Vec<String>>> =
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (name, spans) in raw {
        let mut v = Vec::new();
        for span in spans {
            let [a, b] = span.as_slice() else {
                return Err(bad(format!("{name}: a window must be [start, end]")));
            };
            let pa =
                parse_timestamp(a).ok_or_else(|| bad(format!("{name}: bad timestamp {a:?}")))?;
            let pb =
                parse_timestamp(b).ok_or_else(|| bad(format!("{name}: bad timestamp {b:?}")))?;
            if pb < pa {
                return Err(bad(format!("{name}: window ends before it starts")));
            }
            v.push((pa, pb));
        }
        out.insert(name, v);
    }
    Ok(out)
}

/// Maps timestamp windows to inclusive row ranges (rows whose timestamp lies in the window).
fn windows_to_rows(
    name: &str,
    rows: &[Row],
    spans: &[(i64, i64)],
) -> Result<Vec<(usize, usize)>, NabError> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut sorted = spans.to_vec();
    sorted.sort_unstable();
    for (a, b) in sorted {
        let first = rows.iter().position(|r| r.ts_ms >= a);
        let last = rows.iter().rposition(|r| r.ts_ms <= b);
        match (first, last) {
            (Some(f), Some(l)) if f <= l => {
                if let Some(prev) = out.last_mut()
                    && f <= prev.1
                {
                    prev.1 = prev.1.max(l);
                } else {
                    out.push((f, l));
                }
            }
            _ => {
                return Err(NabError::Layout(format!(
                    "{name}: a labelled window contains no data row"
                )));
            }
        }
    }
    Ok(out)
}

/// Reads `config/profiles.json` (`{name: {"CostMatrix": {tpWeight, fpWeight, fnWeight, …}}}`).
/// The three NAB profiles must be present; they are returned in the order standard,
/// reward_low_FP_rate, reward_low_FN_rate.
pub fn read_profiles(path: &Path) -> Result<Vec<Profile>, NabError> {
    let text = std::fs::read_to_string(path).map_err(|e| NabError::io(path, e))?;
    let bad = |reason: String| NabError::Json {
        path: path.to_owned(),
        reason,
    };
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for name in crate::score::PROFILE_NAMES {
        let m = raw
            .get(name)
            .and_then(|p| p.get("CostMatrix"))
            .ok_or_else(|| bad(format!("profile {name} with a CostMatrix is missing")))?;
        let w = |k: &str| {
            m.get(k)
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| bad(format!("{name}.CostMatrix.{k} is missing or not a number")))
        };
        out.push(Profile {
            name: name.to_owned(),
            tp_weight: w("tpWeight")?,
            fp_weight: w("fpWeight")?,
            fn_weight: w("fnWeight")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0));
        assert_eq!(
            parse_timestamp("2015-03-03 04:37:53.000000"),
            parse_timestamp("2015-03-03 04:37:53")
        );
        // 2014-07-01T00:00:00Z = 1404172800
        assert_eq!(
            parse_timestamp("2014-07-01 00:00:00"),
            Some(1_404_172_800_000)
        );
        assert_eq!(parse_timestamp("2014-13-01 00:00:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn probation() {
        assert_eq!(probation_rows(4032), 604);
        assert_eq!(probation_rows(10_320), 750);
        assert_eq!(probation_rows(10), 1);
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(
            &p,
            "timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,abc\n",
        )
        .unwrap();
        let e = read_data_csv(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3"), "{e}");
        std::fs::write(&p, "time,v\n").unwrap();
        assert!(read_data_csv(&p).unwrap_err().to_string().contains(":1:"));
    }
}
