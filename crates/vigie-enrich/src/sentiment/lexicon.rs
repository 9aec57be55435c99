//! The embedded VADER lexicons, parsed once per language on first use.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use vigie_query::text::{TokenKind, fold, tokenize};

/// A language's word lists, with folded keys.
#[derive(Debug, Default)]
pub(crate) struct Lexicon {
    /// Word (or emoticon) → valence in [-4, 4].
    pub words: HashMap<String, f32>,
    /// First word → `(second word, valence)` for two-word entries (`en colere`, `fed up`).
    pub bigrams: HashMap<String, Vec<(String, f32)>>,
    /// Intensifiers (+0.293) and dampeners (−0.293).
    pub boosters: HashMap<String, f32>,
    /// Words that negate the three words after them.
    pub negations: HashSet<String>,
    /// Words never negated.
    pub no_negate: HashSet<String>,
    /// Emoji → valence of its description.
    pub emojis: HashMap<String, f32>,
    /// The contrastive conjunction (`but`, `mais`).
    pub contrast: &'static str,
    /// English-only VADER rules (`no`, `least`, `never so`, `n't`).
    pub english_rules: bool,
}

impl Lexicon {
    /// The valence of a word, if the lexicon has it.
    pub fn valence(&self, word: &str) -> Option<f32> {
        self.words.get(word).copied()
    }

    /// The valence of the two-word entry `first second`, if any.
    pub fn bigram(&self, first: &str, second: &str) -> Option<f32> {
        self.bigrams
            .get(first)?
            .iter()
            .find(|(w, _)| w == second)
            .map(|(_, v)| *v)
    }

    /// Whether `word` negates what follows.
    pub fn is_negation(&self, word: &str) -> bool {
        self.negations.contains(word) || (self.english_rules && word.contains("n't"))
    }

    fn insert_entry(&mut self, key: &str, valence: f32) {
        let tokens = tokenize(key);
        match tokens.as_slice() {
            [one] => {
                self.words.entry(one.text.clone()).or_insert(valence);
            }
            [a, b] if a.kind == TokenKind::Word && b.kind == TokenKind::Word => {
                let list = self.bigrams.entry(a.text.clone()).or_default();
                if !list.iter().any(|(w, _)| *w == b.text) {
                    list.push((b.text.clone(), valence));
                }
            }
            _ if !key.contains(char::is_whitespace) => {
                // Emoticons made of punctuation only (`$:`, `%)`) never become tokens; keep them
                // folded for direct lookups anyway.
                self.words.entry(fold(key)).or_insert(valence);
            }
            _ => {}
        }
    }

    /// Sums the lexicon valences of an emoji's description words.
    fn description_valence(&self, description: &str) -> f32 {
        let tokens = tokenize(description);
        let mut sum = 0.0;
        let mut negate = false;
        for t in &tokens {
            if self.is_negation(&t.text) {
                negate = true;
                continue;
            }
            if let Some(v) = self.valence(&t.text) {
                sum += if negate { v * super::N_SCALAR } else { v };
            }
        }
        sum
    }
}

const EN_LEXICON: &str = include_str!("../../lexicons/en/vader_lexicon.txt");
const EN_EMOJIS: &str = include_str!("../../lexicons/en/emoji_utf8_lexicon.txt");
const EN_BOOSTERS: &str = include_str!("../../lexicons/en/boosters_en.tsv");
const EN_NEGATIONS: &str = include_str!("../../lexicons/en/negations_en.txt");
const FR_LEXICON: &str = include_str!("../../lexicons/fr/fr_lexicon.txt");
const FR_EMOJIS: &str = include_str!("../../lexicons/fr/emojis_fr.txt");
const FR_BOOSTERS: &str = include_str!("../../lexicons/fr/boosters_fr.tsv");
const FR_NEGATIONS: &str = include_str!("../../lexicons/fr/negations_fr.txt");
const FR_NO_NEGATE: &str = include_str!("../../lexicons/fr/no_negate.txt");

/// French idioms whose meaning is not the sum of their words (`pas terrible` is mediocre,
/// although `terrible` alone is mildly negative and would flip to positive under negation).
const FR_IDIOMS: [(&str, f32); 6] = [
    ("pas terrible", -1.5),
    ("pas top", -1.5),
    ("pas fou", -1.2),
    ("pas mal", 1.2),
    ("trop bien", 2.5),
    ("a chier", -2.5),
];

/// English idioms of VADER's `SPECIAL_CASES` that fit two tokens.
const EN_IDIOMS: [(&str, f32); 4] = [
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("yeah right", -2.0),
];

/// Common emojis whose VADER description carries no lexicon word (`pouting face`), scored by
/// hand on the lexicon's scale; they take precedence over the descriptions.
const EMOJI_OVERRIDES: [(&str, f32); 12] = [
    ("😡", -2.5),
    ("🤬", -3.0),
    ("😤", -1.5),
    ("🤮", -2.5),
    ("🤢", -2.0),
    ("👎", -2.0),
    ("💩", -1.5),
    ("🙄", -1.0),
    ("😒", -1.5),
    ("👏", 1.5),
    ("🙏", 1.0),
    ("🔥", 1.0),
];

/// The English lexicon.
pub(crate) fn english() -> &'static Lexicon {
    static EN: OnceLock<Lexicon> = OnceLock::new();
    EN.get_or_init(|| {
        let mut lex = Lexicon {
            contrast: "but",
            english_rules: true,
            ..Lexicon::default()
        };
        for line in EN_LEXICON.lines() {
            let mut cols = line.split('\t');
            if let (Some(key), Some(Ok(v))) = (cols.next(), cols.next().map(str::parse::<f32>)) {
                lex.insert_entry(key, v);
            }
        }
        for (k, v) in EN_IDIOMS {
            lex.insert_entry(k, v);
        }
        load_rule_lists(&mut lex, EN_BOOSTERS, EN_NEGATIONS, "");
        load_emojis(&mut lex, EN_EMOJIS, None);
        lex
    })
}

/// The French lexicon. Emojis whose French description scores zero take the English score.
pub(crate) fn french() -> &'static Lexicon {
    static FR: OnceLock<Lexicon> = OnceLock::new();
    FR.get_or_init(|| {
        let mut lex = Lexicon {
            contrast: "mais",
            english_rules: false,
            ..Lexicon::default()
        };
        // Idioms first: `or_insert` keeps the first value for a key.
        for (k, v) in FR_IDIOMS {
            lex.insert_entry(k, v);
        }
        for line in FR_LEXICON.lines() {
            if let Some((key, v)) = line.rsplit_once("->")
                && let Ok(v) = v.trim().parse::<f32>()
            {
                lex.insert_entry(key, v);
            }
        }
        add_inflections(&mut lex);
        load_rule_lists(&mut lex, FR_BOOSTERS, FR_NEGATIONS, FR_NO_NEGATE);
        // `plus` negates only after `ne`/`n'` (`ne … plus`), which already negates; alone it
        // means "more". `ne` and the elided `n'` (split by the tokenizer) mark negation before
        // the verb (`je n'aime pas`).
        lex.negations.remove("plus");
        lex.negations.insert("ne".to_owned());
        lex.negations.insert("n".to_owned());
        load_emojis(&mut lex, FR_EMOJIS, Some(english()));
        lex
    })
}

/// The translated lexicon lists some inflections only (`contente` but not `content`): add the
/// masculine of feminine forms ending in `-ée` and `-ente`, with the same valence. Words
/// already present keep their own valence. (Adding every gender and plural form lowered
/// macro-F1 on the train split from 0.595 to 0.541, so the rule stays this narrow.)
fn add_inflections(lex: &mut Lexicon) {
    let mut extra: Vec<(String, f32)> = Vec::new();
    for (w, v) in &lex.words {
        if w.chars().count() < 4 || !w.chars().all(char::is_alphabetic) {
            continue;
        }
        if let Some(stem) = w.strip_suffix("ee") {
            extra.push((format!("{stem}e"), *v));
        } else if let Some(stem) = w.strip_suffix("ente") {
            extra.push((format!("{stem}ent"), *v));
        }
    }
    extra.sort_by(|a, b| a.0.cmp(&b.0));
    for (w, v) in extra {
        lex.words.entry(w).or_insert(v);
    }
}

fn load_rule_lists(lex: &mut Lexicon, boosters: &str, negations: &str, no_negate: &str) {
    for line in boosters.lines().skip(1) {
        if let Some((w, v)) = line.split_once('\t')
            && let Ok(v) = v.trim().parse::<f32>()
            && !w.contains(' ')
        {
            lex.boosters.insert(fold(w.trim()), v);
        }
    }
    lex.negations.extend(
        negations
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(fold),
    );
    lex.no_negate.extend(
        no_negate
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(fold),
    );
}

fn load_emojis(lex: &mut Lexicon, table: &str, fallback: Option<&Lexicon>) {
    for (emoji, v) in EMOJI_OVERRIDES {
        lex.emojis.insert(emoji.to_owned(), v);
    }
    for line in table.lines() {
        let Some((emoji, description)) = line.split_once('\t') else {
            continue;
        };
        let mut v = lex.description_valence(description);
        if v == 0.0
            && let Some(fb) = fallback
        {
            v = fb.emojis.get(emoji).copied().unwrap_or(0.0);
        }
        lex.emojis.entry(emoji.to_owned()).or_insert(v);
    }
    if let Some(fb) = fallback {
        for (emoji, v) in &fb.emojis {
            lex.emojis.entry(emoji.clone()).or_insert(*v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_lexicon_loads() {
        let en = english();
        assert!(en.words.len() > 7000, "{}", en.words.len());
        assert_eq!(en.valence("good"), Some(1.9));
        assert_eq!(en.bigram("fed", "up"), Some(-1.8));
        assert_eq!(en.boosters.get("very"), Some(&0.293));
        assert!(en.is_negation("not") && en.is_negation("shouldn't"));
        assert!(en.emojis.get("😡").is_some_and(|v| *v < 0.0));
        assert!(en.valence(":)").is_some_and(|v| v > 0.0));
    }

    #[test]
    fn french_lexicon_loads_with_folded_keys() {
        let fr = french();
        assert!(fr.words.len() > 7000, "{}", fr.words.len());
        assert_eq!(fr.valence("decu"), Some(-0.7));
        assert_eq!(fr.valence("merci"), Some(1.5));
        assert_eq!(fr.bigram("en", "colere"), Some(-2.2));
        assert_eq!(fr.bigram("pas", "terrible"), Some(-1.5));
        assert!(fr.boosters.contains_key("tres"));
        assert!(fr.is_negation("pas") && fr.is_negation("n") && !fr.is_negation("plus"));
        assert!(fr.no_negate.contains("serieux"));
        assert!(fr.emojis.get("😂").is_some_and(|v| *v != 0.0));
        assert!(
            fr.emojis.get("😡").is_some_and(|v| *v < 0.0),
            "falls back to English"
        );
    }
}
