//! A multinomial logistic-regression head on frozen sentence embeddings.
//!
//! Training is full-batch gradient descent with Adam on the cross-entropy plus an L2
//! penalty; it is deterministic (no sampling), so the same data gives the same head.
//! Class weights can balance the classes (macro-F1 counts each class equally).

use crate::NeuralError;
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
        let mut z: Vec<f32> = self
            .weights
            .chunks_exact(self.dim.max(1))
            .zip(&self.bias)
            .map(|(w, b)| b + w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>())
            .collect();
        softmax(&mut z);
        z
    }

    /// Trains on `(embedding, class)` pairs, `classes` classes.
    pub fn train(
        data: &[(Vec<f32>, usize)],
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
        let mut counts = vec![0usize; classes];
        for (_, c) in data {
            counts[*c] += 1;
        }
        let n = data.len() as f32;
        let cw: Vec<f32> = counts
            .iter()
            .map(|&k| {
                if opts.balanced && k > 0 {
                    n / (classes as f32 * k as f32)
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
        for step in 1..=opts.epochs {
            grad.iter_mut().for_each(|g| *g = 0.0);
            for (x, c) in data {
                let mut z: Vec<f32> = (0..classes)
                    .map(|k| {
                        let w = &p[k * (dim + 1)..k * (dim + 1) + dim];
                        p[k * (dim + 1) + dim] + w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>()
                    })
                    .collect();
                softmax(&mut z);
                for k in 0..classes {
                    let g = cw[*c] * (z[k] - if k == *c { 1.0 } else { 0.0 }) / n;
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
}
