//! Texts of ordinary days, the slot-filling engine, and the small variations (case, accents,
//! typos, emojis) that keep generated posts from repeating word for word.
//!
//! All texts were written for this project. A `{slot}` in a template is replaced by
//! [`fill`]; [`common_slot`] knows the slots shared by every template.

use super::rng::Rng;

/// Ways people write the brand's name. Every one contains `orsane`, so the watch matches.
pub(crate) const BRAND: &[&str] = &[
    "Orsane",
    "Orsane",
    "Orsane",
    "Cafés Orsane",
    "@orsane",
    "#Orsane",
    "orsane",
    "ORSANE",
];
/// Ways people write the competitor's name (the `kalia` watch matches all of them).
pub(crate) const KALIA: &[&str] = &[
    "Kalia",
    "Kalia",
    "la Brûlerie Kalia",
    "@brulerie_kalia",
    "#Kalia",
    "kalia",
];
const DRINKS: &[&str] = &[
    "latte noisette-érable",
    "flat white",
    "cappuccino",
    "chocolat viennois",
    "chaï latte",
    "cold brew",
    "expresso",
    "latte avoine",
    "allongé",
    "mocha",
];
/// Cities with an Orsane café.
pub(crate) const CITIES: &[&str] = &[
    "Paris",
    "Paris",
    "Lyon",
    "Bordeaux",
    "Lille",
    "Nantes",
    "Toulouse",
    "Marseille",
    "Strasbourg",
    "Rennes",
    "Montpellier",
    "Grenoble",
    "Nice",
];
const PLACES: &[&str] = &[
    "de la gare",
    "du centre",
    "près de la fac",
    "en face du marché",
    "du quartier",
    "à côté du bureau",
    "de la place",
    "du centre commercial",
];
const STREETS: &[&str] = &[
    "de la République",
    "Victor-Hugo",
    "des Carmes",
    "Nationale",
    "du Port",
    "Jean-Jaurès",
    "des Lilas",
    "Pasteur",
];
const EMO_HAPPY: &[&str] = &["☕", "😍", "👌", "🙌", "😋", "✨", "🥐", "☀️", "💛", "😊"];
const EMO_MEH: &[&str] = &["😕", "🙄", "😒", "🥶", "😩", "🤷"];
/// Emojis of anger and dismay.
pub(crate) const EMO_ANGRY: &[&str] = &["😡", "🤬", "😤", "💔", "👎", "😠", "🤢", "😱"];

/// Ordinary praise of Orsane.
pub(crate) const ORSANE_POSITIVE: &[&str] = &[
    "Le nouveau {drink} de chez {brand} est une tuerie {emo}",
    "Testé le latte noisette-érable {brand} ce matin : validé !",
    "Rien de mieux qu'un {drink} chez {brand} pour commencer la journée {emo}",
    "Super accueil au {brand} de {city} ce matin, merci à l'équipe {emo}",
    "Les baristas du {brand} {place} sont adorables, toujours un petit mot gentil.",
    "J'ai enfin mes 10 tampons sur l'appli {brand}, boisson offerte {emo}",
    "Trop contente qu'un {brand} ouvre à Lyon, j'y serai le premier jour !",
    "Petit {drink} + croissant chez {brand}, la pause parfaite {emo}",
    "Le {drink} de chez {brand} est meilleur que celui de mon bureau, et de loin.",
    "Merci {brand} pour le gobelet réutilisable offert, bonne idée {emo}",
    "Les cookies de chez {brand} sont sortis du four quand je suis passé, parfait timing {emo}",
    "Séance de révisions au {brand} {place}, calme et bon café. Je recommande.",
    "J'adore la nouvelle déco du {brand} de {city} {emo}",
];
/// Ordinary neutral talk about Orsane.
pub(crate) const ORSANE_NEUTRAL: &[&str] = &[
    "Quelqu'un sait si le {brand} de {city} ouvre le dimanche ?",
    "Réunion improvisée au {brand} {place}, le wifi tient le coup.",
    "Le {brand} de la rue {street} est plein à craquer à midi, comme d'hab.",
    "{brand} ouvre un nouveau café à Lyon, {lyon}, d'après leur appli.",
    "Télétravail depuis le {brand} de {city} aujourd'hui.",
    "Le latte noisette-érable chez {brand}, quelqu'un a goûté ? Ça vaut le coup ?",
    "On se retrouve au {brand} {place} à {hour}h ?",
    "L'appli {brand} propose maintenant la commande à emporter.",
    "C'est moi ou le {brand} de {city} a changé ses horaires ?",
    "Rendez-vous pro au {brand} de la rue {street}, on verra bien.",
    "Il y a des prises pour recharger au {brand} {place} ?",
    "Premier jour de stage, premier café chez {brand}.",
    "{brand} ou boulangerie pour le petit-déj ? Je ne sais jamais.",
];
/// Ordinary complaints: one unhappy customer is not a crisis.
pub(crate) const ORSANE_NEGATIVE: &[&str] = &[
    "Café froid ce matin au {brand} de {city}, dommage {meh}",
    "20 minutes de queue au {brand} {place}, il manque clairement du monde au comptoir.",
    "L'appli {brand} a encore planté au moment de payer...",
    "{price} € le latte chez {brand}, ça commence à faire cher quand même.",
    "Mon {drink} était tiède et trop sucré. {brand} vous pouvez faire mieux {meh}",
    "Commande oubliée au {brand} de {city}, j'ai attendu pour rien. Bof.",
    "Plus de croissants à 9h au {brand} {place}, sérieusement ? {meh}",
    "Le wifi du {brand} de {city} est une catastrophe aujourd'hui.",
    "Déçu par le {drink} de chez {brand}, beaucoup trop de lait.",
];
/// Tourists and English speakers.
pub(crate) const ORSANE_ENGLISH: &[&str] = &[
    "Lovely flat white at {brand} in {city} this morning {emo}",
    "Does anyone know if {brand} in {city} has oat milk?",
    "Working from {brand} {city} today, good coffee and decent wifi.",
    "The maple hazelnut latte at {brand} is dangerously good {emo}",
    "Queue at {brand} near the station was way too long, gave up.",
];
/// The promotion day: a bump of happy customers, not a crisis.
pub(crate) const ORSANE_PROMO: &[&str] = &[
    "Double points sur l'appli {brand} aujourd'hui, j'en profite {emo}",
    "Le 2e {drink} à moitié prix chez {brand} aujourd'hui, foncez !",
    "Journée promo chez {brand}, la file est longue mais ça vaut le coup {emo}",
    "Promo {brand} du jour : deux cafés pour le prix d'un et demi, j'ai embarqué ma collègue {emo}",
    "Merci {brand} pour la promo, mon portefeuille vous dit merci {emo}",
];
/// Talk about the competitor.
pub(crate) const KALIA_CHATTER: &[&str] = &[
    "Le cold brew de {kalia} est vraiment bon {emo}",
    "Nouvelle torréfaction éthiopienne chez {kalia}, à tester.",
    "{kalia} ou Orsane pour bosser ? Team Kalia pour le calme.",
    "File d'attente énorme chez {kalia} ce midi.",
    "Les viennoiseries de {kalia} étaient sèches aujourd'hui, bof {meh}",
    "{kalia} ouvre à {city} ! Enfin un vrai torréfacteur dans le coin {emo}",
    "Atelier dégustation chez {kalia} samedi, quelqu'un vient ?",
    "Le café filtre de {kalia} est un peu trop acide pour moi.",
];
/// Coffee talk that names neither brand (the watches must not match it).
pub(crate) const UNRELATED: &[&str] = &[
    "Rien de tel qu'un café bien serré le lundi matin {emo}",
    "Quelqu'un connaît un bon torréfacteur à {city} ?",
    "Troisième café de la journée et il n'est que 10h…",
    "Le meilleur expresso de ma vie, c'était à Naples.",
    "Machine à café du bureau en panne. Journée compliquée {meh}",
    "Je passe au thé pour le mois de mars, souhaitez-moi bonne chance.",
];
/// `@orsane`'s ordinary announcements.
pub(crate) const BRAND_POSTS: &[&str] = &[
    "Notre latte noisette-érable est de retour pour la saison ! Disponible dans tous les cafés Orsane jusqu'à fin mars ☕",
    "Grande nouvelle : un nouveau café Orsane ouvre ses portes à Lyon, {lyon}, le 14 mars. On vous y attend !",
    "Avec l'appli Orsane, votre 10e boisson est offerte. Pensez à scanner votre carte à chaque passage 📱",
    "Bonne semaine à toutes et à tous ! Quel est votre café préféré chez Orsane ?",
    "Nos grains viennent de coopératives partenaires, torréfiés chaque semaine. Bonne dégustation chez Orsane ☕",
    "Le café Orsane {place} à {city} rouvre après travaux, avec une terrasse toute neuve ☀️",
];
/// `@orsane`'s promotion-day announcement.
pub(crate) const BRAND_PROMO: &str = "Aujourd'hui seulement : double points sur l'appli Orsane et le 2e {drink} à moitié prix dans tous nos cafés ! #Orsane";
/// `@orsane_service` answering an ordinary complaint by `{h}`.
pub(crate) const SERVICE_ANSWERS: &[&str] = &[
    "@{h} Bonjour, désolés pour cette mauvaise expérience ! Envoyez-nous un message privé, nous vous offrons votre prochaine boisson. Service client Orsane",
    "@{h} Bonjour, merci pour votre retour, nous le transmettons à l'équipe du café. Bonne journée ! L'équipe Orsane",
    "@{h} Bonjour, nous sommes désolés pour l'attente, l'équipe de ce café est renforcée dès cette semaine. Service client Orsane",
    "@{h} Bonjour, une mise à jour de l'appli Orsane corrige ce souci de paiement. Pouvez-vous réessayer ? Merci !",
];

/// Replaces every `{name}` in `template` by `slot(name)`; unknown slots stay as written.
pub(crate) fn fill(template: &str, mut slot: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        match after.find('}') {
            Some(close) => {
                let name = after.get(1..close).unwrap_or_default();
                match slot(name) {
                    Some(value) => out.push_str(&value),
                    None => out.push_str(after.get(..=close).unwrap_or_default()),
                }
                rest = after.get(close + 1..).unwrap_or_default();
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The slots every template may use.
pub(crate) fn common_slot(rng: &mut Rng, name: &str) -> Option<String> {
    let value = match name {
        "brand" => rng.pick(BRAND).to_owned(),
        "kalia" => rng.pick(KALIA).to_owned(),
        "drink" => rng.pick(DRINKS).to_owned(),
        "city" => rng.pick(CITIES).to_owned(),
        "place" => rng.pick(PLACES).to_owned(),
        "street" => rng.pick(STREETS).to_owned(),
        "lyon" => rng
            .pick(&[
                "rue de la République",
                "place Bellecour",
                "quai Saint-Antoine",
            ])
            .to_owned(),
        "emo" => rng.pick(EMO_HAPPY).to_owned(),
        "meh" => rng.pick(EMO_MEH).to_owned(),
        "angry" => rng.pick(EMO_ANGRY).to_owned(),
        "price" => format!("{},{}0", rng.range(5, 7), rng.range(1, 10)),
        "hour" => rng.range(14, 18).to_string(),
        _ => return None,
    };
    Some(value)
}

/// A template with only common slots filled in.
pub(crate) fn render(rng: &mut Rng, template: &str) -> String {
    fill(template, |name| common_slot(rng, name))
}

/// Small human variations: lower case, missing accents, a typo, a trailing emoji or "!!".
/// A word containing `orsane` or `kalia` is never altered by the typo, so the watches
/// still match.
pub(crate) fn vary(rng: &mut Rng, text: &str, mood: Mood) -> String {
    let mut s = text.trim().to_owned();
    if rng.chance(0.12) {
        s = s.to_lowercase();
    }
    if rng.chance(0.08) {
        s = strip_accents(&s);
    }
    if rng.chance(0.07) {
        s = typo(rng, &s);
    }
    let extra = match mood {
        Mood::Happy => rng.pick(EMO_HAPPY),
        Mood::Meh => rng.pick(EMO_MEH),
        Mood::Angry => rng.pick(EMO_ANGRY),
        Mood::Plain => "",
    };
    if !extra.is_empty() && rng.chance(0.25) && !s.contains(extra) {
        s.push(' ');
        s.push_str(extra);
    }
    if mood == Mood::Angry && rng.chance(0.1) && s.ends_with('.') {
        s.pop();
        s.push_str(" !!!");
    }
    s
}

/// The tone of the emoji [`vary`] may add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mood {
    /// Pleased.
    Happy,
    /// Disappointed.
    Meh,
    /// Outraged.
    Angry,
    /// No emoji.
    Plain,
}

fn strip_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'ù' | 'û' => 'u',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

/// Swaps two neighbouring letters in one longer word (never a brand or a handle).
fn typo(rng: &mut Rng, s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    let candidates: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            let lower = w.to_lowercase();
            w.chars().count() >= 5
                && w.chars().all(char::is_alphabetic)
                && !lower.contains("orsane")
                && !lower.contains("kalia")
        })
        .map(|(i, _)| i)
        .collect();
    let Some(&target) = candidates.get(rng.below(candidates.len() as u64) as usize) else {
        return s.to_owned();
    };
    let mut out = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if i == target {
            let mut chars: Vec<char> = w.chars().collect();
            let at = 1 + rng.below(chars.len().saturating_sub(2) as u64) as usize;
            if at + 1 < chars.len() {
                chars.swap(at, at + 1);
            }
            out.push(chars.into_iter().collect::<String>());
        } else {
            out.push((*w).to_owned());
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[&[&str]] = &[
        ORSANE_POSITIVE,
        ORSANE_NEUTRAL,
        ORSANE_NEGATIVE,
        ORSANE_ENGLISH,
        ORSANE_PROMO,
        KALIA_CHATTER,
        UNRELATED,
        BRAND_POSTS,
    ];

    #[test]
    fn every_slot_of_every_template_is_known() {
        let mut rng = Rng::new(5, 5);
        for table in ALL {
            for t in *table {
                let text = render(&mut rng, t);
                assert!(!text.contains('{') && !text.contains('}'), "{t} -> {text}");
            }
        }
        let answer = fill(SERVICE_ANSWERS[0], |n| (n == "h").then(|| "lea".to_owned()));
        assert!(answer.starts_with("@lea Bonjour"));
    }

    #[test]
    fn brand_texts_name_the_brand_and_others_do_not() {
        let mut rng = Rng::new(6, 6);
        for table in [
            ORSANE_POSITIVE,
            ORSANE_NEUTRAL,
            ORSANE_NEGATIVE,
            ORSANE_ENGLISH,
            ORSANE_PROMO,
            BRAND_POSTS,
        ] {
            for t in table {
                for _ in 0..20 {
                    let raw = render(&mut rng, t);
                    let text = vary(&mut rng, &raw, Mood::Happy);
                    assert!(text.to_lowercase().contains("orsane"), "{text}");
                }
            }
        }
        for t in KALIA_CHATTER {
            assert!(render(&mut rng, t).to_lowercase().contains("kalia"));
        }
        for t in UNRELATED {
            let text = render(&mut rng, t).to_lowercase();
            assert!(
                !text.contains("orsane") && !text.contains("kalia"),
                "{text}"
            );
        }
    }

    #[test]
    fn fill_keeps_unknown_and_unclosed_slots() {
        assert_eq!(fill("a {x} b {y", |_| None), "a {x} b {y");
        assert_eq!(fill("{x}{x}", |_| Some("1".into())), "11");
        assert_eq!(fill("", |_| Some("1".into())), "");
    }

    #[test]
    fn variations_change_the_form_not_the_brand() {
        let mut rng = Rng::new(8, 8);
        let base = "Scandaleux comportement du barista chez Orsane, vraiment honteux.";
        let variants: std::collections::BTreeSet<String> = (0..200)
            .map(|_| vary(&mut rng, base, Mood::Angry))
            .collect();
        assert!(variants.len() > 5, "{variants:?}");
        assert!(variants.iter().all(|v| v.to_lowercase().contains("orsane")));
        assert!(variants.contains(base));
        assert_eq!(strip_accents("dégoûtée à"), "degoutee a");
    }
}
