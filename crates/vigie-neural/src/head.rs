//! A multinomial logistic-regression head on frozen sentence embeddings.
//!
//! Training is full-batch gradient descent with Adam on the cross-entropy plus an L2
//! penalty; it is deterministic (no sampling), so the same data gives the same head.
//! Class weights can balance the classes (macro-F1 counts each class equally).

use crate::NeuralError;
use crate::kernels::dot;
use std::fmt::Write as _;

/// Weights of a linear classifier: `classes × dim` plus one bias per class.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// Input size.
    pub dim: usize,
    /// Row-major `classes × dim`.
    pub weights: Vec<f32>,
    /// One per class.
    pub bias: Vec<f32>,
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    /// Full-batch Adam steps.
    pub epochs: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// L2 penalty on the weights (not the biases).
    pub l2: f32,
    /// Weigh each class by `n / (classes × n_class)`.
    pub balanced: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 400,
            learning_rate: 0.05,
            l2: 1e-4,
            balanced: true,
        }
    }
}

const MAGIC: &str = "vigie-neural-head v1";

impl Head {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.bias.len()
    }

    /// Class probabilities for one embedding.
    pub fn predict(&self, x: &[f32]) -> Vec<f32> {
        let mut z = self.logits(x);
        softmax(&mut z);
        z
    }

    /// Trains on `(embedding, class)` pairs, `classes` classes.
    pub fn train(
        data: &[(Vec<f32>, usize)],
        classes: usize,
        opts: TrainOptions,
    ) -> Result<Head, NeuralError> {
        Self::train_weighted(data, None, classes, opts)
    }

    /// [`Head::train`] with one weight per example (`None`: all 1), multiplied by the class
    /// weight when `opts.balanced` (class counts are then weighted sums).
    pub fn train_weighted(
        data: &[(Vec<f32>, usize)],
        row_weights: Option<&[f32]>,
        classes: usize,
        opts: TrainOptions,
    ) -> Result<Head, NeuralError> {
        let dim = data.first().map(|d| d.0.len()).unwrap_or(0);
        if dim == 0 || classes < 2 {
            return Err(NeuralError::Head("no training data".into()));
        }
        if let Some((_, c)) = data.iter().find(|(x, c)| x.len() != dim || *c >= classes) {
            return Err(NeuralError::Head(format!("bad example (class {c})")));
        }
        if row_weights.is_some_and(|w| w.len() != data.len()) {
            return Err(NeuralError::Head("one weight per example expected".into()));
        }
        let rw = |i: usize| row_weights.map_or(1.0, |w| w[i]);
        let mut counts = vec![0f32; classes];
        for (i, (_, c)) in data.iter().enumerate() {
            counts[*c] += rw(i);
        }
        let n: f32 = counts.iter().sum();
        let cw: Vec<f32> = counts
            .iter()
            .map(|&k| {
                if opts.balanced && k > 0.0 {
                    n / (classes as f32 * k)
                } else {
                    1.0
                }
            })
            .collect();
        let np = classes * (dim + 1);
        let mut p = vec![0f32; np];
        let (mut m, mut v) = (vec![0f32; np], vec![0f32; np]);
        let (b1, b2, e) = (0.9f32, 0.999f32, 1e-8f32);
        let mut grad = vec![0f32; np];
        let mut z = vec![0f32; classes];
        for step in 1..=opts.epochs {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for (i, (x, c)) in data.iter().enumerate() {
                for (k, zk) in z.iter_mut().enumerate() {
                    let row = &p[k * (dim + 1)..(k + 1) * (dim + 1)];
                    *zk = row[dim] + dot(&row[..dim], x);
                }
                softmax(&mut z);
                let wi = rw(i) * cw[*c] / n;
                for (k, zk) in z.iter().enumerate() {
                    let g = wi * (zk - if k == *c { 1.0 } else { 0.0 });
                    let row = &mut grad[k * (dim + 1)..(k + 1) * (dim + 1)];
                    for (gi, xi) in row.iter_mut().zip(x) {
                        *gi += g * xi;
                    }
                    row[dim] += g;
                }
            }
            for k in 0..classes {
                for i in 0..dim {
                    grad[k * (dim + 1) + i] += opts.l2 * p[k * (dim + 1) + i];
                }
            }
            let (c1, c2) = (1.0 - b1.powi(step as i32), 1.0 - b2.powi(step as i32));
            for i in 0..np {
                m[i] = b1 * m[i] + (1.0 - b1) * grad[i];
                v[i] = b2 * v[i] + (1.0 - b2) * grad[i] * grad[i];
                p[i] -= opts.learning_rate * (m[i] / c1) / ((v[i] / c2).sqrt() + e);
            }
        }
        let mut weights = Vec::with_capacity(classes * dim);
        let mut bias = Vec::with_capacity(classes);
        for k in 0..classes {
            weights.extend_from_slice(&p[k * (dim + 1)..k * (dim + 1) + dim]);
            bias.push(p[k * (dim + 1) + dim]);
        }
        Ok(Head { dim, weights, bias })
    }

    /// Class scores before the softmax.
    pub fn logits(&self, x: &[f32]) -> Vec<f32> {
        self.weights
            .chunks_exact(self.dim.max(1))
            .zip(&self.bias)
            .map(|(w, b)| b + dot(w, x))
            .collect()
    }

    /// The head as text (one line per class: bias then weights).
    pub fn to_text(&self) -> String {
        let mut s = format!("{MAGIC}\n{} {}\n", self.classes(), self.dim);
        for (w, b) in self.weights.chunks_exact(self.dim.max(1)).zip(&self.bias) {
            let _ = write!(s, "{b}");
            for x in w {
                let _ = write!(s, " {x}");
            }
            s.push('\n');
        }
        s
    }

    /// Reads [`Head::to_text`] output.
    pub fn from_text(text: &str) -> Result<Head, NeuralError> {
        let bad = |m: &str| NeuralError::Head(m.to_owned());
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(bad("missing header line"));
        }
        let shape: Vec<usize> = lines
            .next()
            .ok_or_else(|| bad("missing shape"))?
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| bad("bad shape"))?;
        let [classes, dim] = shape[..] else {
            return Err(bad("bad shape"));
        };
        let mut weights = Vec::with_capacity(classes * dim);
        let mut bias = Vec::with_capacity(classes);
        for _ in 0..classes {
            let row: Vec<f32> = lines
                .next()
                .ok_or_else(|| bad("missing class row"))?
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .map_err(|_| bad("bad number"))?;
            if row.len() != dim + 1 || row.iter().any(|v| !v.is_finite()) {
                return Err(bad("class row has the wrong length or a non-finite value"));
            }
            bias.push(row[0]);
            weights.extend_from_slice(&row[1..]);
        }
        Ok(Head { dim, weights, bias })
    }
}

/// Macro-F1 (in %) of a 3-class confusion matrix `[gold][predicted]`.
pub fn macro_f1(conf: &[[u32; 3]; 3]) -> f64 {
    (0..3)
        .map(|c| {
            let tp = f64::from(conf[c][c]);
            let pred: f64 = (0..3).map(|g| f64::from(conf[g][c])).sum();
            let gold: f64 = conf[c].iter().map(|&v| f64::from(v)).sum();
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (pred + gold)
            }
        })
        .sum::<f64>()
        / 3.0
        * 100.0
}

/// A labelled embedding for [`select_and_train`]: its class and the file it comes from.
#[derive(Debug, Clone)]
pub struct Example {
    /// The embedding.
    pub x: Vec<f32>,
    /// Class (0 negative, 1 neutral, 2 positive).
    pub class: usize,
    /// Index of its file.
    pub file: usize,
}

/// How the rows of the files weigh in the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weighting {
    /// Every row counts once.
    Rows,
    /// Every group of files (`FileRole::weight_group`) weighs as much as the others.
    Groups,
    /// Every file weighs as much as the others.
    Files,
}

/// What a training file is to [`select_and_train`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRole {
    /// Its group for [`Weighting::Groups`].
    pub weight_group: usize,
    /// Its group in the criterion (`None`: trained on, not scored).
    pub score_group: Option<usize>,
}

/// The settings [`select_and_train`] tries.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Class balancing on or off.
    pub balanced: Vec<bool>,
    /// L2 penalties.
    pub l2: Vec<f32>,
    /// Weightings of the files.
    pub weighting: Vec<Weighting>,
    /// Offsets added to the negative and neutral logits (the prior correction), tried on
    /// the held-out predictions of each setting.
    pub offsets: Vec<f32>,
    /// Cross-validation folds (every row is held out once).
    pub folds: usize,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            balanced: vec![true, false],
            l2: vec![1e-5],
            weighting: vec![Weighting::Rows, Weighting::Groups, Weighting::Files],
            offsets: (-10..=10).map(|i| i as f32 * 0.1).collect(),
            folds: 5,
        }
    }
}

/// What [`select_and_train`] chose.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The head trained on every row with the chosen settings, offsets folded into its bias.
    pub head: Head,
    /// The chosen settings.
    pub options: TrainOptions,
    /// The chosen weighting.
    pub weighting: Weighting,
    /// Negative and neutral logit offsets.
    pub offsets: [f32; 2],
    /// Cross-validated macro-F1 of each scored file with the chosen settings (`None` for
    /// the files not scored).
    pub held_out: Vec<Option<f64>>,
    /// The criterion (mean over score groups of the mean held-out macro-F1 of their files).
    pub score: f64,
}

/// Chooses the training settings by cross-validation on the **train** rows (`grid.folds`
/// folds, every row held out once), then trains on all rows. The criterion is the mean
/// over score groups of their files' mean held-out macro-F1. `progress` receives one line
/// per setting tried.
pub fn select_and_train(
    data: &[Example],
    roles: &[FileRole],
    base: TrainOptions,
    grid: &Grid,
    progress: &mut dyn FnMut(String),
) -> Result<Selection, NeuralError> {
    let files = roles.len();
    let groups = roles.iter().map(|r| r.weight_group + 1).max().unwrap_or(0);
    let score_groups = roles
        .iter()
        .filter_map(|r| r.score_group.map(|g| g + 1))
        .max()
        .unwrap_or(0);
    if data.iter().any(|e| e.file >= files || e.class >= 3) {
        return Err(NeuralError::Head(
            "example of an unknown file or class".into(),
        ));
    }
    let folds = grid.folds.max(2);
    let mut seen = vec![0usize; files];
    let fold: Vec<usize> = data
        .iter()
        .map(|e| {
            seen[e.file] += 1;
            seen[e.file] % folds
        })
        .collect();
    let weights = |rows: &[&Example], how: Weighting| -> Vec<f32> {
        let key = |e: &Example| match how {
            Weighting::Rows => 0,
            Weighting::Groups => roles[e.file].weight_group,
            Weighting::Files => e.file,
        };
        let mut count = vec![0f32; groups.max(files)];
        for e in rows {
            count[key(e)] += 1.0;
        }
        let used = count.iter().filter(|&&n| n > 0.0).count().max(1) as f32;
        let mean = count.iter().sum::<f32>() / used;
        rows.iter().map(|e| mean / count[key(e)]).collect()
    };
    let score_of = |f1: &[f64]| -> f64 {
        let mut sum = vec![(0f64, 0usize); score_groups];
        for (f, v) in f1.iter().enumerate() {
            if let Some(g) = roles[f].score_group {
                sum[g].0 += v;
                sum[g].1 += 1;
            }
        }
        let used: Vec<f64> = sum
            .iter()
            .filter(|s| s.1 > 0)
            .map(|s| s.0 / s.1 as f64)
            .collect();
        used.iter().sum::<f64>() / used.len().max(1) as f64
    };
    /// criterion, options, weighting, offsets, per-file macro-F1
    type Candidate = (f64, TrainOptions, Weighting, [f32; 2], Vec<f64>);
    let mut best: Option<Candidate> = None;
    for &balanced in &grid.balanced {
        for &l2 in &grid.l2 {
            for &how in &grid.weighting {
                let opts = TrainOptions {
                    balanced,
                    l2,
                    ..base
                };
                // held-out logits of every row, each from the model that did not see it
                let mut logits = vec![Vec::new(); data.len()];
                for k in 0..folds {
                    let rows: Vec<&Example> = data
                        .iter()
                        .zip(&fold)
                        .filter(|(_, f)| **f != k)
                        .map(|(e, _)| e)
                        .collect();
                    let w = weights(&rows, how);
                    let train: Vec<(Vec<f32>, usize)> =
                        rows.iter().map(|e| (e.x.clone(), e.class)).collect();
                    let head = Head::train_weighted(&train, Some(&w), 3, opts)?;
                    for ((e, f), z) in data.iter().zip(&fold).zip(logits.iter_mut()) {
                        if *f == k {
                            *z = head.logits(&e.x);
                        }
                    }
                }
                let mut local: Option<(f64, [f32; 2], Vec<f64>)> = None;
                for &dneg in &grid.offsets {
                    for &dneu in &grid.offsets {
                        let mut conf = vec![[[0u32; 3]; 3]; files];
                        for (e, z) in data.iter().zip(&logits) {
                            if roles[e.file].score_group.is_none() || z.len() != 3 {
                                continue;
                            }
                            let z = [z[0] + dneg, z[1] + dneu, z[2]];
                            let p = (0..3).max_by(|a, b| z[*a].total_cmp(&z[*b])).unwrap_or(0);
                            conf[e.file][e.class][p] += 1;
                        }
                        let f1: Vec<f64> = conf.iter().map(macro_f1).collect();
                        let s = score_of(&f1);
                        if local.as_ref().is_none_or(|l| s > l.0) {
                            local = Some((s, [dneg, dneu], f1));
                        }
                    }
                }
                if let Some((s, off, f1)) = local {
                    let shown: Vec<String> = f1
                        .iter()
                        .zip(roles)
                        .filter(|(_, r)| r.score_group.is_some())
                        .map(|(v, _)| format!("{v:.1}"))
                        .collect();
                    progress(format!(
                        "balanced={balanced} l2={l2:e} weighting={how:?} offsets neg {:+.1} neu {:+.1}: criterion {s:.2}; scored files {}",
                        off[0],
                        off[1],
                        shown.join(" ")
                    ));
                    if best.as_ref().is_none_or(|b| s > b.0) {
                        best = Some((s, opts, how, off, f1));
                    }
                }
            }
        }
    }
    let Some((score, options, weighting, offsets, f1)) = best else {
        return Err(NeuralError::Head("no setting to try".into()));
    };
    let held_out = f1
        .iter()
        .zip(roles)
        .map(|(v, r)| r.score_group.map(|_| *v))
        .collect();
    let rows: Vec<&Example> = data.iter().collect();
    let all: Vec<(Vec<f32>, usize)> = data.iter().map(|e| (e.x.clone(), e.class)).collect();
    let w = weights(&rows, weighting);
    let mut head = Head::train_weighted(&all, Some(&w), 3, options)?;
    head.bias[0] += offsets[0];
    head.bias[1] += offsets[1];
    Ok(Selection {
        head,
        options,
        weighting,
        offsets,
        held_out,
        score,
    })
}

fn softmax(z: &mut [f32]) {
    let mx = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - mx).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn learns_a_separable_problem_and_round_trips() {
        let data: Vec<(Vec<f32>, usize)> = (0..90)
            .map(|i| {
                let c = i % 3;
                let mut x = vec![0.1 * ((i * 7 % 5) as f32 - 2.0); 4];
                x[c] += 1.0;
                (x, c)
            })
            .collect();
        let head = Head::train(&data, 3, TrainOptions::default()).unwrap();
        for (x, c) in &data {
            let p = head.predict(x);
            let best = (0..3).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap();
            assert_eq!(best, *c);
        }
        let back = Head::from_text(&head.to_text()).unwrap();
        assert_eq!(back, head);
        assert!(Head::from_text("nope").is_err());
        assert!(Head::train(&[], 3, TrainOptions::default()).is_err());
    }

    #[test]
    fn selection_on_held_out_rows_trains_a_working_head() {
        // two files of a separable problem; the second file has skewed classes
        let data: Vec<Example> = (0..400)
            .map(|i| {
                let file = usize::from(i >= 200);
                let c = if file == 1 && i % 2 == 0 { 1 } else { i % 3 };
                let mut x = vec![0.1 * ((i * 7 % 5) as f32 - 2.0); 4];
                x[c] += 1.0;
                Example { x, class: c, file }
            })
            .collect();
        let grid = Grid {
            l2: vec![1e-4],
            weighting: vec![Weighting::Rows, Weighting::Files],
            ..Grid::default()
        };
        let roles = [
            FileRole {
                weight_group: 0,
                score_group: Some(0),
            },
            FileRole {
                weight_group: 1,
                score_group: Some(1),
            },
        ];
        let base = TrainOptions {
            epochs: 200,
            ..TrainOptions::default()
        };
        let s = select_and_train(&data, &roles, base, &grid, &mut |_| {}).unwrap();
        assert_eq!(s.held_out.len(), 2);
        assert!(s.score > 95.0, "{}", s.score);
        for e in &data {
            let p = s.head.predict(&e.x);
            let best = (0..3).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap();
            assert_eq!(best, e.class);
        }
        assert!(select_and_train(&data, &roles[..1], base, &grid, &mut |_| {}).is_err());
    }
}
