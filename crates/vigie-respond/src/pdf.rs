//! A minimal PDF writer: A4 pages, text in the standard Helvetica fonts (WinAnsi encoding,
//! which covers French), filled rectangles and lines. Enough for reports with bar charts,
//! without a browser or a native library.
//!
//! [`Layout`] adds a cursor with word wrapping and automatic page breaks on top of
//! [`PdfDoc`].
//!
//! ```
//! use vigie_respond::pdf::Layout;
//! let mut l = Layout::new();
//! l.heading("Rapport de crise");
//! l.paragraph("Délai de première réponse : 24 min — « bien ».");
//! let bytes = l.finish();
//! assert!(bytes.starts_with(b"%PDF-1.4"));
//! assert!(bytes.ends_with(b"%%EOF\n"));
//! ```

use std::fmt::Write as _;

/// A4 width in points.
pub const PAGE_WIDTH: f32 = 595.0;
/// A4 height in points.
pub const PAGE_HEIGHT: f32 = 842.0;

/// One page: its content stream.
#[derive(Debug, Default, Clone)]
pub struct Page {
    ops: Vec<u8>,
}

/// The WinAnsi byte of a char, `?` when it has none.
fn win_ansi(c: char) -> u8 {
    let code = c as u32;
    match c {
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '›' => 0x9B,
        'œ' => 0x9C,
        'Ÿ' => 0x9F,
        '\u{202f}' | '\u{a0}' => 0xA0,
        _ if (0x20..0x7F).contains(&code) || (0xA1..=0xFF).contains(&code) => {
            u8::try_from(code).unwrap_or(b'?')
        }
        _ => b'?',
    }
}

/// Appends a PDF string literal `( … )` for `text`.
fn push_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'(');
    for c in text.chars() {
        let b = win_ansi(c);
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
}

impl Page {
    fn op(&mut self, s: &str) {
        self.ops.extend_from_slice(s.as_bytes());
    }

    /// Text at `(x, y)` (from the bottom left), in Helvetica (bold if asked), grey level
    /// `gray` (0 black to 1 white).
    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, gray: f32, text: &str) {
        let font = if bold { "F2" } else { "F1" };
        self.op(&format!(
            "BT {gray:.2} g /{font} {size:.1} Tf {x:.1} {y:.1} Td "
        ));
        push_string(&mut self.ops, text);
        self.op(" Tj ET\n");
    }

    /// A filled rectangle in colour `rgb` (0 to 1 each).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, rgb: (f32, f32, f32)) {
        let (r, g, b) = rgb;
        self.op(&format!(
            "{r:.2} {g:.2} {b:.2} rg {x:.1} {y:.1} {w:.1} {h:.1} re f\n"
        ));
    }

    /// A line of width 0.5 in grey `gray`.
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, gray: f32) {
        self.op(&format!(
            "{gray:.2} G 0.5 w {x1:.1} {y1:.1} m {x2:.1} {y2:.1} l S\n"
        ));
    }
}

/// A document of pages.
#[derive(Debug, Default, Clone)]
pub struct PdfDoc {
    pages: Vec<Page>,
}

impl PdfDoc {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a page and returns it.
    pub fn add_page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The PDF file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets: Vec<usize> = Vec::new();
        let page_count = self.pages.len().max(1);
        // Objects: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, then page + content.
        let kids: String = (0..page_count)
            .map(|i| format!("{} 0 R", 5 + 2 * i))
            .collect::<Vec<_>>()
            .join(" ");
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            format!("<< /Type /Pages /Kids [{kids}] /Count {page_count} >>").into_bytes(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_vec(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
                .to_vec(),
        ];
        let empty = Page::default();
        for i in 0..page_count {
            let page = self.pages.get(i).unwrap_or(&empty);
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                     /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                    6 + 2 * i
                )
                .into_bytes(),
            );
            let mut stream = format!("<< /Length {} >>\nstream\n", page.ops.len()).into_bytes();
            stream.extend_from_slice(&page.ops);
            stream.extend_from_slice(b"\nendstream");
            objects.push(stream);
        }
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for o in &offsets {
            let _ = writeln!(table, "{o:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(table.as_bytes());
        out
    }
}

/// Approximate Helvetica advance width of `c` in em.
fn char_width(c: char) -> f32 {
    match c {
        'i' | 'j' | 'l' | '\'' | '.' | ',' | ':' | ';' | '!' | '|' | 'I' | ' ' => 0.28,
        'f' | 't' | 'r' | '(' | ')' | '-' => 0.33,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.83,
        c if c.is_uppercase() => 0.67,
        c if c.is_ascii_digit() => 0.556,
        _ => 0.53,
    }
}

/// Width of `text` at `size` points.
pub fn text_width(text: &str, size: f32) -> f32 {
    text.chars().map(char_width).sum::<f32>() * size
}

/// A cursor over a [`PdfDoc`]: headings, wrapped paragraphs, key/value lines, bar charts;
/// new pages come by themselves.
#[derive(Debug)]
pub struct Layout {
    doc: PdfDoc,
    y: f32,
    margin: f32,
}

impl Default for Layout {
    fn default() -> Self {
        Self::new()
    }
}

impl Layout {
    /// A document with one empty page.
    pub fn new() -> Self {
        let mut doc = PdfDoc::new();
        doc.add_page();
        Self {
            doc,
            y: PAGE_HEIGHT - 56.0,
            margin: 50.0,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.doc.pages.is_empty() {
            self.doc.add_page();
        }
        let last = self.doc.pages.len() - 1;
        &mut self.doc.pages[last]
    }

    /// Makes room for `height` points, breaking the page if needed.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < self.margin {
            self.doc.add_page();
            self.y = PAGE_HEIGHT - 56.0;
        }
    }

    fn width(&self) -> f32 {
        PAGE_WIDTH - 2.0 * self.margin
    }

    /// A title line.
    pub fn title(&mut self, text: &str) {
        self.ensure(30.0);
        let (x, y) = (self.margin, self.y - 20.0);
        self.page().text(x, y, 20.0, true, 0.1, text);
        self.y -= 34.0;
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        self.ensure(40.0);
        self.y -= 8.0;
        let (x, y, w) = (self.margin, self.y - 14.0, self.width());
        self.page().text(x, y, 14.0, true, 0.15, text);
        self.page().line(x, y - 4.0, x + w, y - 4.0, 0.7);
        self.y -= 26.0;
    }

    /// Wrapped text of size 10.
    pub fn paragraph(&mut self, text: &str) {
        self.wrapped(text, 10.0, false, 0.0);
    }

    /// A bullet item.
    pub fn bullet(&mut self, text: &str) {
        self.wrapped(&format!("• {text}"), 10.0, false, 10.0);
    }

    /// `label: value` with the label in bold.
    pub fn field(&mut self, label: &str, value: &str) {
        self.ensure(14.0);
        let (x, y) = (self.margin, self.y - 10.0);
        let lw = text_width(label, 10.0) + 8.0;
        self.page().text(x, y, 10.0, true, 0.2, label);
        self.page()
            .text(x + lw.max(170.0), y, 10.0, false, 0.0, value);
        self.y -= 15.0;
    }

    fn wrapped(&mut self, text: &str, size: f32, bold: bool, indent: f32) {
        let max = self.width() - indent;
        for raw_line in text.lines() {
            let mut line = String::new();
            for word in raw_line.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if text_width(&candidate, size) > max && !line.is_empty() {
                    self.line_out(&line, size, bold, indent);
                    line = word.to_owned();
                } else {
                    line = candidate;
                }
            }
            self.line_out(&line, size, bold, indent);
        }
        self.y -= 4.0;
    }

    fn line_out(&mut self, line: &str, size: f32, bold: bool, indent: f32) {
        self.ensure(size * 1.4);
        let (x, y) = (self.margin + indent, self.y - size);
        self.page().text(x, y, size, bold, 0.0, line);
        self.y -= size * 1.4;
    }

    /// A bar chart: one bar per value (two series stacked: total in grey-blue, a part of it
    /// in red), with the labels of the first, middle and last bars.
    pub fn bars(&mut self, caption: &str, values: &[(String, f64, f64)]) {
        let height = 110.0;
        self.ensure(height + 40.0);
        let (x0, w) = (self.margin, self.width());
        let top = self.y - 14.0;
        self.page().text(x0, top, 9.0, true, 0.3, caption);
        let base = top - height - 6.0;
        let max = values.iter().map(|v| v.1).fold(0.0_f64, f64::max).max(1.0);
        #[allow(clippy::cast_precision_loss)]
        let n = values.len().max(1) as f32;
        let slot = w / n;
        for (i, (_, total, part)) in values.iter().enumerate() {
            #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
            let (x, h_total, h_part) = (
                x0 + slot * i as f32,
                (total / max) as f32 * height,
                (part / max) as f32 * height,
            );
            let bw = (slot * 0.8).max(0.5);
            self.page().rect(x, base, bw, h_total, (0.55, 0.65, 0.8));
            self.page().rect(x, base, bw, h_part, (0.85, 0.3, 0.3));
        }
        self.page().line(x0, base, x0 + w, base, 0.4);
        let marks = [0, values.len() / 2, values.len().saturating_sub(1)];
        let mut last_x = -100.0;
        for i in marks {
            if let Some((label, _, _)) = values.get(i) {
                #[allow(clippy::cast_precision_loss)]
                let x = x0 + slot * i as f32;
                if x - last_x > 90.0 {
                    self.page().text(x, base - 11.0, 7.0, false, 0.35, label);
                    last_x = x;
                }
            }
        }
        self.y = base - 24.0;
    }

    /// The finished PDF.
    pub fn finish(self) -> Vec<u8> {
        self.doc.to_bytes()
    }

    /// Pages so far.
    pub fn page_count(&self) -> usize {
        self.doc.page_count()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn xref_offsets_point_at_objects() {
        let mut l = Layout::new();
        l.title("Report (draft)");
        for i in 0..120 {
            l.paragraph(&format!("Ligne {i} : réponse à l’incident — coût 3 €"));
        }
        l.bars("volume", &[("a".into(), 3.0, 1.0), ("b".into(), 5.0, 4.0)]);
        assert!(l.page_count() >= 2);
        let bytes = l.finish();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(bytes[start..].starts_with(b"xref\n"));
        // Every xref entry points at "N 0 obj".
        let table = &text[start..];
        for (n, line) in table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .enumerate()
        {
            let off: usize = line[..10].parse().unwrap();
            assert!(bytes[off..].starts_with(format!("{} 0 obj", n + 1).as_bytes()));
        }
        // Escaped parentheses, WinAnsi accents and the euro sign.
        let needle = b"(Report \\(draft\\)";
        assert!(bytes.windows(needle.len()).any(|w| w == needle));
        assert!(bytes.windows(3).any(|w| w == [b'r', 0xE9, b'p']));
        assert!(bytes.contains(&0x80));
    }
}
