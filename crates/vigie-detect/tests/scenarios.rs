//! End-to-end scenarios of the detection: synthetic streams through a `WatchMonitor` and an
//! `IncidentTracker`, with deterministic pseudo-random backgrounds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use vigie_detect::{IncidentTracker, MonitorOutput, WatchMonitor};
use vigie_model::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// 2026-03-02T00:00:00Z.
const T0: i64 = 1_772_409_600_000;

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn poisson(&mut self, lambda: f64) -> u64 {
        let l = (-lambda).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= self.uniform();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

fn ids() -> (WorkspaceId, WatchId) {
    (
        WorkspaceId::new("acme").unwrap(),
        WatchId::new("brand").unwrap(),
    )
}

fn mention(
    t: i64,
    id: u64,
    author: &str,
    followers: u64,
    neg: bool,
    text: &str,
    tags: &[&str],
) -> EnrichedMention {
    let label = if neg {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    };
    EnrichedMention {
        workspace: ids().0,
        mention: Mention {
            source: "mastodon".into(),
            external_id: id.to_string(),
            url: None,
            author: Author {
                handle: author.into(),
                name: None,
                followers: Some(followers),
                verified: false,
            },
            published_at: Timestamp::from_millis(t),
            received_at: None,
            title: None,
            text: text.into(),
            lang: Some("fr".into()),
            engagement: Engagement::default(),
            reply_to: None,
            quote_of: None,
            repost_of: None,
            country: None,
        },
        enrichment: Enrichment {
            sentiment: Sentiment {
                label,
                score: if neg { -0.8 } else { 0.1 },
                confidence: 0.9,
            },
            reach: followers,
            hashtags: tags.iter().map(|t| t.to_string()).collect(),
            matched_watches: vec![ids().1],
            ..Default::default()
        },
    }
}

/// Background chatter from `from` to `to`: a diurnal Poisson rate (about 1 per 5 min at night,
/// 4 by day), 20 % negative, authors from a pool of 3000.
fn background(rng: &mut Rng, from: i64, to: i64, next_id: &mut u64) -> Vec<EnrichedMention> {
    let mut v = Vec::new();
    let mut b = from;
    while b < to {
        let hour = (b.rem_euclid(DAY) / HOUR) as f64;
        let rate = 2.5 - 1.5 * ((hour - 3.0) / 24.0 * std::f64::consts::TAU).cos();
        let n = rng.poisson(rate);
        let mut times: Vec<i64> = (0..n)
            .map(|_| b + rng.below(5 * MIN as u64) as i64)
            .collect();
        times.sort_unstable();
        for t in times {
            let author = format!("user{}", rng.below(3000));
            let neg = rng.uniform() < 0.2;
            *next_id += 1;
            v.push(mention(
                t,
                *next_id,
                &author,
                50 + rng.below(2000),
                neg,
                "Commande reçue, livraison correcte",
                &[],
            ));
        }
        b += 5 * MIN;
    }
    v
}

/// A negative wave: `per_bucket` negative mentions per 5 min from fresh authors.
fn burst(
    rng: &mut Rng,
    from: i64,
    to: i64,
    per_bucket: u64,
    next_id: &mut u64,
) -> Vec<EnrichedMention> {
    let mut v = Vec::new();
    let mut b = from;
    while b < to {
        let mut times: Vec<i64> = (0..per_bucket)
            .map(|_| b + rng.below(5 * MIN as u64) as i64)
            .collect();
        times.sort_unstable();
        for t in times {
            *next_id += 1;
            let author = format!("angry{}", rng.below(100_000));
            v.push(mention(
                t,
                *next_id,
                &author,
                100 + rng.below(5000),
                true,
                "Lait contaminé rappel produit, honte à la marque #boycottbrand",
                &["boycottbrand"],
            ));
        }
        b += 5 * MIN;
    }
    v
}

fn merge(mut a: Vec<EnrichedMention>, b: Vec<EnrichedMention>) -> Vec<EnrichedMention> {
    a.extend(b);
    a.sort_by_key(|m| m.event_time());
    a
}

/// Feeds mentions as the pipeline does: a tick at each new minute, then the mention.
fn feed(m: &mut WatchMonitor, stream: &[EnrichedMention], out: &mut MonitorOutput) {
    let mut minute = i64::MIN;
    for x in stream {
        let mm = x.event_time().as_millis().div_euclid(MIN);
        if mm > minute {
            minute = mm;
            m.tick(Timestamp::from_millis(mm * MIN), out);
        }
        m.observe(x, out);
    }
}

fn monitor() -> WatchMonitor {
    let (ws, w) = ids();
    WatchMonitor::new(ws, w, &DetectionSettings::default())
}

#[test]
fn steady_background_raises_no_alert_in_three_days() {
    let mut total_vigilance = 0;
    let mut total_signals = 0;
    for seed in 1..=5u64 {
        let mut rng = Rng(seed);
        let mut id = 0;
        let stream = background(&mut rng, T0, T0 + 3 * DAY, &mut id);
        let mut m = monitor();
        let mut out = MonitorOutput::default();
        feed(&mut m, &stream, &mut out);
        m.tick(Timestamp::from_millis(T0 + 3 * DAY), &mut out);
        let max = out
            .level_changes
            .iter()
            .map(|c| c.to)
            .max()
            .unwrap_or_default();
        assert!(
            max <= CrisisLevel::Vigilance,
            "seed {seed}: {:?}",
            out.level_changes
        );
        let vigilance = out
            .level_changes
            .iter()
            .filter(|c| c.to == CrisisLevel::Vigilance)
            .count();
        eprintln!(
            "seed {seed}: {} mentions, {} signals, {} vigilance episodes in 3 days",
            stream.len(),
            out.signals.len(),
            vigilance
        );
        total_vigilance += vigilance;
        total_signals += out.signals.len();
    }
    eprintln!(
        "false alarms over 5 × 3 days: {total_vigilance} vigilance, 0 alert; {total_signals} signals"
    );
    assert!(
        total_vigilance <= 3,
        "{total_vigilance} false vigilance episodes in 15 days"
    );
}

/// Ten quiet days, then the watch's mentions stop at 09:00 (a query that no longer matches,
/// a connector that delivers nothing): no count is above its baseline, yet the day looks like
/// none before it. The pattern detector raises vigilance within hours, and says why.
#[test]
fn a_flatline_raises_vigilance_through_the_pattern_detector() {
    let mut rng = Rng(77);
    let mut id = 0;
    let quiet_end = T0 + 10 * DAY + 9 * HOUR;
    let stream = background(&mut rng, T0, quiet_end, &mut id);
    let mut m = monitor();
    let mut out = MonitorOutput::default();
    feed(&mut m, &stream, &mut out);
    m.tick(Timestamp::from_millis(quiet_end), &mut out);
    assert!(
        out.signals
            .iter()
            .all(|s| s.kind != SignalKind::PatternChange || s.score < 4.0),
        "{:?}",
        out.signals
    );
    out.clear();
    // Silence until 17:00, ticked every minute like the pipeline.
    let mut t = quiet_end;
    while t <= quiet_end + 8 * HOUR {
        m.tick(Timestamp::from_millis(t), &mut out);
        t += MIN;
    }
    let change = out
        .level_changes
        .iter()
        .find(|c| c.to == CrisisLevel::Vigilance)
        .unwrap_or_else(|| panic!("no vigilance: {:?}", out.signals));
    assert!(
        change.at.as_millis() <= quiet_end + 4 * HOUR,
        "{:?}",
        change.at
    );
    assert!(
        change.explanation.summary.contains("pattern change"),
        "{}",
        change.explanation.summary
    );
    assert!(
        out.level_changes
            .iter()
            .all(|c| c.to <= CrisisLevel::Vigilance),
        "{:?}",
        out.level_changes
    );
    // A restart in the middle continues with the same history.
    let mut copy = monitor();
    copy.restore(&m.state()).unwrap();
    assert_eq!(copy.state(), m.state());
}

struct BurstRun {
    out: MonitorOutput,
    start: i64,
    end: i64,
    stream: Vec<EnrichedMention>,
}

fn burst_run() -> BurstRun {
    let mut rng = Rng(42);
    let mut id = 0;
    let start = T0 + 2 * DAY + 14 * HOUR + 2 * MIN;
    let end = start + HOUR;
    let bg = background(&mut rng, T0, T0 + 3 * DAY, &mut id);
    let wave = burst(&mut rng, start, end, 30, &mut id);
    let stream = merge(bg, wave);
    let mut m = monitor();
    let mut out = MonitorOutput::default();
    feed(&mut m, &stream, &mut out);
    m.tick(Timestamp::from_millis(T0 + 3 * DAY), &mut out);
    BurstRun {
        out,
        start,
        end,
        stream,
    }
}

#[test]
fn negative_burst_reaches_crisis_quickly_then_steps_down() {
    let BurstRun {
        out, start, end, ..
    } = burst_run();
    let changes = &out.level_changes;
    assert!(
        changes
            .iter()
            .filter(|c| c.at.as_millis() < start)
            .all(|c| c.to <= CrisisLevel::Vigilance),
        "{changes:?}"
    );
    let crisis = changes
        .iter()
        .find(|c| c.to == CrisisLevel::Crisis)
        .expect("crisis reached");
    let delay_min = (crisis.at.as_millis() - start) / MIN;
    eprintln!("crisis {delay_min} min after the burst started");
    assert!((0..=15).contains(&delay_min), "{delay_min}");
    let e = &crisis.explanation;
    assert!(e.negative >= 30 && e.distinct_authors >= 30, "{e:?}");
    assert_eq!(e.top_hashtags[0].term, "#boycottbrand");
    assert!(e.top_terms.iter().any(|t| t.term == "contamine"));
    assert!(
        e.samples.len() == 5
            && e.samples
                .iter()
                .all(|s| s.sentiment == SentimentLabel::Negative)
    );
    assert!(
        e.signals
            .iter()
            .any(|s| s.kind == SignalKind::NegativeSurge)
    );
    assert!(e.summary.contains("#boycottbrand"), "{}", e.summary);
    eprintln!("summary: {}", e.summary);

    // After the peak, one level at a time, down to calm within window + 3 cool-downs + slack.
    let after: Vec<&LevelChange> = changes.iter().filter(|c| c.at > crisis.at).collect();
    assert!(
        after.iter().all(|c| c.to.as_u8() + 1 == c.from.as_u8()),
        "{after:?}"
    );
    let calm = after.last().expect("steps down");
    assert_eq!(calm.to, CrisisLevel::Calm);
    let calm_after_end = (calm.at.as_millis() - end) / MIN;
    eprintln!("calm {calm_after_end} min after the burst ended");
    assert!(calm_after_end <= 30 + 3 * 60 + 15, "{calm_after_end}");
    assert!(
        calm.explanation.summary.starts_with("Down to calm"),
        "{}",
        calm.explanation.summary
    );

    // One incident, aggregated.
    let mut tracker = IncidentTracker::new(30);
    tracker.apply(&out);
    let incidents = tracker.take_dirty();
    let big: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.peak_level == CrisisLevel::Crisis)
        .collect();
    assert_eq!(big.len(), 1);
    let inc = big[0];
    assert!(inc.closed_at.is_some());
    let signal_lines = inc
        .timeline
        .iter()
        .filter(|e| e.kind == IncidentEventKind::Signal)
        .count();
    let burst_signals = out.signals.iter().filter(|s| s.at >= inc.opened_at).count();
    eprintln!(
        "incident timeline: {} lines, {signal_lines} signal lines for {burst_signals} signals",
        inc.timeline.len()
    );
    assert!(signal_lines * 3 <= burst_signals, "{:#?}", inc.timeline);
}

#[test]
fn restore_continues_identically() {
    let BurstRun {
        out: full,
        start,
        stream,
        ..
    } = burst_run();
    let cut = stream
        .iter()
        .position(|m| m.event_time().as_millis() >= start + 20 * MIN)
        .unwrap();
    let (first, rest) = stream.split_at(cut);
    let mut a = monitor();
    let mut out_a = MonitorOutput::default();
    feed(&mut a, first, &mut out_a);
    // Through text, as the store keeps it.
    let saved: serde_json::Value = serde_json::from_str(&a.state().to_string()).unwrap();
    let mut b = monitor();
    b.restore(&saved).unwrap();
    assert_eq!(b.level(), a.level());
    let mut out_b = MonitorOutput::default();
    let before = out_a.clone();
    // The restored monitor continues where `a` stopped: same minute ticks as the full run.
    let mut minute = first
        .last()
        .unwrap()
        .event_time()
        .as_millis()
        .div_euclid(MIN);
    for x in rest {
        let mm = x.event_time().as_millis().div_euclid(MIN);
        if mm > minute {
            minute = mm;
            b.tick(Timestamp::from_millis(mm * MIN), &mut out_b);
        }
        b.observe(x, &mut out_b);
    }
    b.tick(Timestamp::from_millis(T0 + 3 * DAY), &mut out_b);
    let mut joined = before;
    joined.signals.extend(out_b.signals);
    joined.level_changes.extend(out_b.level_changes);
    assert_eq!(joined.signals.len(), full.signals.len());
    for (i, (x, y)) in joined.signals.iter().zip(&full.signals).enumerate() {
        assert_eq!(x, y, "signal {i}");
    }
    assert_eq!(joined.level_changes, full.level_changes);
    assert!(
        full.level_changes
            .iter()
            .any(|c| c.to == CrisisLevel::Crisis)
    );
}

#[test]
fn warm_up_suppresses_everything() {
    let mut rng = Rng(3);
    let mut id = 0;
    let bg = background(&mut rng, T0, T0 + DAY, &mut id);
    let wave = burst(&mut rng, T0 + 10 * HOUR, T0 + 11 * HOUR, 40, &mut id);
    let mut m = monitor();
    let mut out = MonitorOutput::default();
    feed(&mut m, &merge(bg, wave), &mut out);
    m.tick(Timestamp::from_millis(T0 + DAY), &mut out);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(m.level(), CrisisLevel::Calm);
}

#[test]
fn late_mentions_go_to_the_open_bucket() {
    let mut m = monitor();
    let mut out = MonitorOutput::default();
    m.observe(&mention(T0 + HOUR, 1, "a", 10, false, "ok", &[]), &mut out);
    m.tick(Timestamp::from_millis(T0 + 2 * HOUR), &mut out);
    // Published three hours before the open bucket, then one from before the epoch.
    m.observe(
        &mention(T0 - 2 * HOUR, 2, "b", 10, true, "old", &[]),
        &mut out,
    );
    m.observe(&mention(-5, 3, "c", 10, true, "very old", &[]), &mut out);
    m.tick(Timestamp::from_millis(T0 + 2 * HOUR + 5 * MIN), &mut out);
    assert_eq!(m.volume_stats().mentions, 2);
    assert_eq!(m.volume_stats().negative, 2);
    assert_eq!(
        m.volume_stats().at,
        Timestamp::from_millis(T0 + 2 * HOUR + 5 * MIN)
    );
    // A gap of a year jumps instead of replaying every bucket.
    m.observe(
        &mention(T0 + 365 * DAY, 4, "d", 10, false, "back", &[]),
        &mut out,
    );
    m.tick(Timestamp::from_millis(T0 + 365 * DAY + 5 * MIN), &mut out);
    assert_eq!(m.volume_stats().mentions, 1);
}

#[test]
#[ignore = "measurement: cargo test -p vigie-detect --test scenarios -- --ignored --nocapture"]
fn throughput() {
    let mut rng = Rng(9);
    let mut id = 0;
    let mut stream = Vec::new();
    // 200 000 mentions over 10 hours.
    for b in 0..120 {
        stream.extend(burst(
            &mut rng,
            T0 + b * 5 * MIN,
            T0 + (b + 1) * 5 * MIN,
            1_666,
            &mut id,
        ));
    }
    let mut m = monitor();
    let mut out = MonitorOutput::default();
    let t = std::time::Instant::now();
    for x in &stream {
        m.observe(x, &mut out);
    }
    let s = t.elapsed().as_secs_f64();
    eprintln!(
        "{} mentions in {s:.3} s: {:.0} mentions/s",
        stream.len(),
        stream.len() as f64 / s
    );
}
