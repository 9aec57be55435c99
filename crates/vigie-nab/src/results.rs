//! The NAB results layout: `<dir>/<category>/<detector>_<file>.csv` with at least the columns
//! `timestamp` and `anomaly_score` (NAB also writes `value`, `label` and per-profile columns).

use crate::error::NabError;
use crate::layout::{DataFile, parse_timestamp};
use std::path::{Path, PathBuf};

/// Finds the results file of `file` under `dir`: `<dir>/<category>/<anything>_<file>.csv`.
pub fn results_path(dir: &Path, file: &DataFile) -> Result<PathBuf, NabError> {
    let cat_dir = dir.join(&file.category);
    let base = file.name.rsplit('/').next().unwrap_or(&file.name);
    let suffix = format!("_{base}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&cat_dir).map_err(|e| NabError::io(&cat_dir, e))? {
        let p = entry.map_err(|e| NabError::io(&cat_dir, e))?.path();
        if p.file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f.ends_with(&suffix))
        {
            found.push(p);
        }
    }
    found.sort();
    // The shortest name is the exact `<detector>_<file>` (another file could end the same way).
    found.sort_by_key(|p| p.as_os_str().len());
    found.into_iter().next().ok_or_else(|| {
        NabError::Layout(format!(
            "no results file `*_{base}` for {} in {}",
            file.name,
            cat_dir.display()
        ))
    })
}

/// Reads the `anomaly_score` column of a results file for `file`, checking that the rows have
/// the data file's timestamps.
pub fn read_scores(dir: &Path, file: &DataFile) -> Result<Vec<f64>, NabError> {
    let path = results_path(dir, file)?;
    let text = std::fs::read_to_string(&path).map_err(|e| NabError::io(&path, e))?;
    let bad = |line: usize, reason: String| NabError::Csv {
        path: path.clone(),
        line,
        reason,
    };
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let (Some(ts_col), Some(score_col)) = (
        cols.iter().position(|c| *c == "timestamp"),
        cols.iter().position(|c| *c == "anomaly_score"),
    ) else {
        return Err(bad(
            1,
            "header lacks `timestamp` and `anomaly_score` columns".into(),
        ));
    };
    let mut out = Vec::with_capacity(file.rows.len());
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let ts = fields.get(ts_col).map(|s| s.trim()).unwrap_or_default();
        let ts = parse_timestamp(ts).ok_or_else(|| bad(i + 1, format!("bad timestamp {ts:?}")))?;
        let row = out.len();
        match file.rows.get(row) {
            Some(r) if r.ts_ms == ts => {}
            _ => {
                return Err(bad(
                    i + 1,
                    format!("row {row} does not match the data file {}", file.name),
                ));
            }
        }
        let s = fields.get(score_col).map(|s| s.trim()).unwrap_or_default();
        let v: f64 = s
            .parse()
            .ok()
            .filter(|x: &f64| !x.is_nan())
            .ok_or_else(|| bad(i + 1, format!("bad anomaly_score {s:?}")))?;
        out.push(v);
    }
    if out.len() != file.rows.len() {
        return Err(bad(
            text.lines().count(),
            format!(
                "{} score rows for {} data rows of {}",
                out.len(),
                file.rows.len(),
                file.name
            ),
        ));
    }
    Ok(out)
}

/// Writes `<dir>/<detector>/<category>/<detector>_<file>.csv` with the columns
/// `timestamp,value,anomaly_score,label` (NAB's layout; `label` 1 inside a window).
pub fn write_scores(
    dir: &Path,
    detector: &str,
    file: &DataFile,
    scores: &[f64],
) -> Result<PathBuf, NabError> {
    let cat_dir = dir.join(detector).join(&file.category);
    std::fs::create_dir_all(&cat_dir).map_err(|e| NabError::io(&cat_dir, e))?;
    let base = file.name.rsplit('/').next().unwrap_or(&file.name);
    let path = cat_dir.join(format!("{detector}_{base}"));
    let mut text = String::from("timestamp,value,anomaly_score,label\n");
    for (i, (row, s)) in file.rows.iter().zip(scores).enumerate() {
        let label = u8::from(file.windows.iter().any(|&(a, b)| (a..=b).contains(&i)));
        text.push_str(&format!(
            "{},{},{},{}\n",
            format_timestamp(row.ts_ms),
            row.value,
            s,
            label
        ));
    }
    std::fs::write(&path, text).map_err(|e| NabError::io(&path, e))?;
    Ok(path)
}

/// Formats UTC milliseconds as `YYYY-MM-DD HH:MM:SS`.
pub fn format_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::layout::Row;

    #[test]
    fn timestamps_round_trip() {
        for s in [
            "2014-07-01 00:00:00",
            "2015-02-28 23:59:59",
            "2016-02-29 12:30:05",
        ] {
            assert_eq!(format_timestamp(parse_timestamp(s).unwrap()), s);
        }
    }

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<Row> = (0..5)
            .map(|i| Row {
                ts_ms: 1_400_000_000_000 + i * 300_000,
                value: i as f64,
            })
            .collect();
        let file = DataFile {
            name: "cat/f.csv".into(),
            category: "cat".into(),
            rows,
            windows: vec![(2, 3)],
        };
        let scores = [0.0, 0.25, 0.5, 0.75, 1.0];
        write_scores(dir.path(), "vigie", &file, &scores).unwrap();
        let back = read_scores(&dir.path().join("vigie"), &file).unwrap();
        assert_eq!(back, scores);
        // A truncated file is refused with its line.
        let p = dir.path().join("vigie/cat/vigie_f.csv");
        let text = std::fs::read_to_string(&p).unwrap();
        let short: Vec<&str> = text.lines().take(3).collect();
        std::fs::write(&p, short.join("\n")).unwrap();
        let e = read_scores(&dir.path().join("vigie"), &file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 score rows for 5 data rows"), "{e}");
    }
}
