//! Ordinary days: talk about Orsane, about the competitor Kalia and about coffee in general,
//! with a Paris daily rhythm and Poisson randomness, the brand's own posts, its customer
//! care answering complaints, and one promotion day.
//!
//! It runs over the whole story (people keep talking about their latte during a crisis).

use super::authors::{Network, Persona, Pool};
use super::calendar::{Timeline, paris_hour, paris_weekend};
use super::post::{Draft, Parent, Story, Strand, engagement};
use super::rng::Rng;
use super::texts::{self, Mood};
use vigie_model::Timestamp;

/// Expected mentions of Orsane per hour, by hour of the day in Paris: quiet at night, peaks
/// in the morning and at lunch. Over the day: 6 to 20 an hour.
pub(crate) const RHYTHM: [f64; 24] = [
    2.0, 1.0, 0.6, 0.4, 0.4, 0.8, 3.0, 7.0, 13.0, 13.0, 10.0, 11.0, 16.0, 17.0, 11.0, 9.0, 10.0,
    12.0, 11.0, 9.0, 7.0, 6.0, 4.0, 3.0,
];
/// Kalia is talked about about a third as much.
const KALIA_SHARE: f64 = 0.3;
/// Coffee talk naming neither brand.
const UNRELATED_SHARE: f64 = 0.12;
/// Promotion day: from 11:00 to 15:00 in Paris, this many times the usual volume.
const PROMO_FACTOR: f64 = 1.5;

/// Expected Orsane mentions per minute at `t` (day-to-day noise and promotion excluded).
pub(crate) fn base_rate_per_minute(t: Timestamp) -> f64 {
    let hour = paris_hour(t);
    let mut rate = RHYTHM.get(hour as usize).copied().unwrap_or(1.0);
    if paris_weekend(t) {
        // Later mornings, busier afternoons.
        rate *= if hour < 10 { 0.7 } else { 1.1 };
    }
    rate / 60.0
}

/// The accounts of the brand and its customer care, on the two networks they use.
#[derive(Debug, Clone)]
pub(crate) struct Brand {
    /// `@orsane` on Mastodon and Bluesky.
    pub main: [Persona; 2],
    /// `@orsane_service` on Mastodon and Bluesky.
    pub service: [Persona; 2],
}

impl Brand {
    /// The brand's accounts.
    pub(crate) fn new() -> Self {
        let main = |n| Persona::own(n, "orsane", "Cafés Orsane", 48_200);
        let service = |n| Persona::own(n, "orsane_service", "Orsane Service client", 6_350);
        Self {
            main: [main(Network::Mastodon), main(Network::Bluesky)],
            service: [service(Network::Mastodon), service(Network::Bluesky)],
        }
    }

    /// Customer care on `network`, if the brand is there.
    pub(crate) fn service_on(&self, network: Network) -> Option<&Persona> {
        self.service.iter().find(|p| p.network == network)
    }
}

/// The language a source declares, if it declares one (Bluesky mostly does).
pub(crate) fn declared_lang(rng: &mut Rng, who: &Persona) -> Option<&'static str> {
    let p = match who.network {
        Network::Bluesky => 0.7,
        Network::Mastodon => 0.2,
        Network::Rss => 1.0,
        Network::Reddit => 0.0,
    };
    rng.chance(p)
        .then_some(if who.english { "en" } else { "fr" })
}

/// Writes the ordinary chatter of the whole story into `story`.
pub(crate) fn generate(story: &mut Story, rng: &mut Rng, pool: &Pool, tl: &Timeline, days: u32) {
    let brand = Brand::new();
    let promo_day = i64::from(days / 2);
    let mut day_factor = 1.0;
    let mut current_day = -1;
    let mut minute = tl.start;
    let mut announced: Vec<bool> = Vec::new();
    while minute < tl.end {
        let day = minute.millis_since(tl.start).div_euclid(86_400_000);
        if day != current_day {
            current_day = day;
            day_factor = rng.log_normal(1.0, 0.12);
            announced = vec![false; 2];
        }
        let hour = paris_hour(minute);
        let promo = minute < tl.onset && day == promo_day && (11..15).contains(&hour);
        let rate = base_rate_per_minute(minute) * day_factor;
        let orsane_rate = if promo { rate * PROMO_FACTOR } else { rate };
        for _ in 0..rng.poisson(orsane_rate) {
            let at = minute.plus_secs(rng.range(0, 60));
            orsane_post(story, rng, pool, &brand, at, promo);
        }
        for _ in 0..rng.poisson(rate * KALIA_SHARE) {
            let at = minute.plus_secs(rng.range(0, 60));
            crowd_post(story, rng, pool, Strand::Kalia, texts::KALIA_CHATTER, at);
        }
        for _ in 0..rng.poisson(rate * UNRELATED_SHARE) {
            let at = minute.plus_secs(rng.range(0, 60));
            crowd_post(story, rng, pool, Strand::Unrelated, texts::UNRELATED, at);
        }
        // The brand posts twice a day, around 9:00 and 16:00, but not in the middle of a crisis.
        let quiet = minute >= tl.onset && minute < tl.onset.plus_minutes(24 * 60);
        for (slot, at_hour) in [(0usize, 9u32), (1, 16)] {
            if hour == at_hour && !quiet && announced.get(slot) == Some(&false) && rng.chance(0.04)
            {
                if let Some(a) = announced.get_mut(slot) {
                    *a = true;
                }
                let template = if promo_day == day && slot == 0 && minute < tl.onset {
                    texts::BRAND_PROMO
                } else {
                    rng.pick(texts::BRAND_POSTS)
                };
                let who = &brand.main[rng.below(2) as usize % 2];
                let draft = Draft {
                    at: minute,
                    text: texts::render(rng, template),
                    lang: declared_lang(rng, who),
                    engagement: engagement(rng, who.followers, 0.6),
                    ..Draft::default()
                };
                story.publish(Strand::Brand, who, draft);
            }
        }
        minute = minute.plus_minutes(1);
    }
}

/// One ordinary post about Orsane; complaints may get an answer from customer care.
fn orsane_post(
    story: &mut Story,
    rng: &mut Rng,
    pool: &Pool,
    brand: &Brand,
    at: Timestamp,
    promo: bool,
) {
    let english = rng.chance(0.06);
    let who = if english {
        pool.any_english(rng)
    } else {
        pool.any_french(rng)
    };
    let Some(who) = who else { return };
    let kind = if english {
        3
    } else if promo && rng.chance(0.45) {
        4
    } else {
        rng.weighted(&[0.40, 0.46, 0.14])
    };
    let (table, mood) = match kind {
        0 => (texts::ORSANE_POSITIVE, Mood::Happy),
        1 => (texts::ORSANE_NEUTRAL, Mood::Plain),
        2 => (texts::ORSANE_NEGATIVE, Mood::Meh),
        3 => (texts::ORSANE_ENGLISH, Mood::Plain),
        _ => (texts::ORSANE_PROMO, Mood::Happy),
    };
    let template = rng.pick(table);
    let raw = texts::render(rng, template);
    let text = texts::vary(rng, &raw, mood);
    let draft = Draft {
        at,
        text,
        lang: declared_lang(rng, who),
        engagement: engagement(rng, who.followers, 1.0),
        ..Draft::default()
    };
    let id = story.publish(Strand::Chatter, who, draft);
    // Customer care answers about half the complaints, during opening hours.
    let hour = paris_hour(at);
    if kind == 2
        && (8..20).contains(&hour)
        && rng.chance(0.5)
        && let Some(service) = brand.service_on(who.network)
    {
        {
            let delay = 3.0 + rng.exponential(20.0);
            let text = texts::fill(rng.pick(texts::SERVICE_ANSWERS), |slot| {
                (slot == "h").then(|| who.short.clone())
            });
            let answer = Draft {
                at: at.plus_secs((delay * 60.0) as i64),
                text,
                lang: declared_lang(rng, service),
                engagement: engagement(rng, 40, 0.3),
                parent: Parent::Reply(id),
                ..Draft::default()
            };
            story.publish(Strand::Brand, service, answer);
        }
    }
}

/// One post from `table` by a random French-speaking account.
fn crowd_post(
    story: &mut Story,
    rng: &mut Rng,
    pool: &Pool,
    strand: Strand,
    table: &[&str],
    at: Timestamp,
) {
    let Some(who) = pool.any_french(rng) else {
        return;
    };
    let template = rng.pick(table);
    let raw = texts::render(rng, template);
    let text = texts::vary(rng, &raw, Mood::Plain);
    let draft = Draft {
        at,
        text,
        lang: declared_lang(rng, who),
        engagement: engagement(rng, who.followers, 1.0),
        ..Draft::default()
    };
    story.publish(strand, who, draft);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoOptions;

    fn chatter_only(days: u32) -> (Timeline, Vec<super::super::post::Tagged>) {
        let opts = DemoOptions {
            chatter_days: days,
            ..DemoOptions::default()
        };
        let tl = Timeline::new(&opts);
        let mut story = Story::new(Rng::new(1, 1));
        let pool = Pool::generate(&mut Rng::new(1, 2), 1000, 100);
        generate(&mut story, &mut Rng::new(1, 3), &pool, &tl, days);
        (tl, story.out)
    }

    #[test]
    fn rhythm_is_quiet_at_night_and_busy_at_lunch() {
        let night = Timestamp::parse_rfc3339("2026-03-03T02:30:00Z").unwrap();
        let lunch = Timestamp::parse_rfc3339("2026-03-03T11:30:00Z").unwrap();
        assert!(base_rate_per_minute(lunch) > 10.0 * base_rate_per_minute(night));
        assert!(RHYTHM[8..20].iter().all(|r| (6.0..=20.0).contains(r)));
    }

    #[test]
    fn ordinary_days_have_the_expected_volume_and_mix() {
        let (tl, out) = chatter_only(5);
        let before: Vec<_> = out
            .iter()
            .filter(|t| t.mention.published_at < tl.onset)
            .collect();
        let orsane = before
            .iter()
            .filter(|t| t.strand == Strand::Chatter)
            .count();
        let hours = tl.onset.millis_since(tl.start) as f64 / 3_600_000.0;
        let per_hour = orsane as f64 / hours;
        assert!(
            (5.0..12.0).contains(&per_hour),
            "{per_hour} Orsane mentions per hour"
        );
        let kalia = before.iter().filter(|t| t.strand == Strand::Kalia).count();
        assert!(
            kalia > orsane / 5 && kalia < orsane / 2,
            "{kalia} vs {orsane}"
        );
        let brand: Vec<_> = before
            .iter()
            .filter(|t| t.strand == Strand::Brand)
            .collect();
        assert!(brand.iter().any(|t| t.mention.author.handle == "orsane"));
        let answers: Vec<_> = brand
            .iter()
            .filter(|t| t.mention.author.handle == "orsane_service")
            .collect();
        assert!(!answers.is_empty());
        assert!(answers.iter().all(|t| t.mention.reply_to.is_some()));
        for t in out.iter().filter(|t| t.strand != Strand::Unrelated) {
            let text = t.mention.text.to_lowercase();
            assert!(text.contains("orsane") || text.contains("kalia"), "{text}");
        }
    }

    #[test]
    fn the_promotion_day_is_busier_and_happy() {
        let (tl, out) = chatter_only(5);
        let count = |day: i64| {
            out.iter()
                .filter(|t| t.strand == Strand::Chatter)
                .filter(|t| {
                    t.mention
                        .published_at
                        .millis_since(tl.start)
                        .div_euclid(86_400_000)
                        == day
                })
                .filter(|t| (11..15).contains(&paris_hour(t.mention.published_at)))
                .count()
        };
        assert!(
            count(2) > count(1) && count(2) > count(3),
            "{} {} {}",
            count(1),
            count(2),
            count(3)
        );
        let promo = out
            .iter()
            .filter(|t| t.mention.text.contains("promo") || t.mention.text.contains("moitié prix"))
            .count();
        assert!(promo > 10);
    }
}
