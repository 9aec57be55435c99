//! Scenarios (playbooks): the model, the TOML loader with validation, and the matcher that
//! proposes scenarios for an incident.
//!
//! A scenario is one TOML file (see `docs/scenarios.md` and the library in `scenarios/`).
//! Every human text exists in French and English ([`Localized`]); holding statements are
//! templates per language and channel; tasks have an owner role and a deadline in minutes
//! after activation.

use crate::error::{RespondError, RespondResult};
use crate::policy::Channel;
use crate::template::placeholders;
use serde::{Deserialize, Serialize};
use std::path::Path;
use vigie_model::CrisisLevel;

/// A text in French and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

impl Localized {
    /// The text in `lang` (`fr` or `en`; anything else gets English).
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        }
    }
}

/// A language of the scenarios and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// `fr` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// Parses `fr` or `en`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

/// The kind of crisis a scenario prepares for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrisisKind {
    /// A defective or dangerous product, possibly recalled.
    ProductDefect,
    /// The service is down or degraded.
    ServiceOutage,
    /// An employee's post causes outrage.
    EmployeePost,
    /// An executive's statement causes outrage.
    ExecutiveStatement,
    /// Personal data leaked.
    DataLeak,
    /// A customer was treated badly.
    CustomerMistreatment,
    /// A call to boycott the brand.
    BoycottCall,
    /// False information about the brand spreads.
    FakeNews,
    /// Anything else.
    Other,
}

/// The recommended communication posture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostureKind {
    /// Apologize, repair, recall.
    Acknowledge,
    /// Present the facts, point at external causes.
    CounterWithFacts,
    /// Say little, watch closely.
    HoldAndMonitor,
}

/// The posture with why and what it risks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posture {
    /// The recommended posture.
    pub recommended: PostureKind,
    /// Why this posture fits.
    pub rationale: Localized,
    /// What it risks.
    pub risks: Localized,
}

/// When a scenario should be proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// Terms that suggest this kind of crisis (matched in the incident's top terms, hashtags
    /// and sample posts, accent- and case-insensitively; a trailing `*` matches a prefix).
    #[serde(default)]
    pub terms: Vec<String>,
    /// Watches it applies to (empty: every watch).
    #[serde(default)]
    pub watches: Vec<String>,
    /// Lowest crisis level at which it is proposed (`vigilance`, `alert`, `crisis`).
    #[serde(default = "default_min_level")]
    pub min_level: CrisisLevel,
}

fn default_min_level() -> CrisisLevel {
    CrisisLevel::Alert
}

/// Who speaks, per crisis level (roles, not people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spokesperson {
    /// At level 1 (vigilance).
    pub level1: String,
    /// At level 2 (alert).
    pub level2: String,
    /// At level 3 (crisis).
    pub level3: String,
}

impl Spokesperson {
    /// The role that speaks at `level` (calm counts as level 1).
    pub fn at(&self, level: CrisisLevel) -> &str {
        match level {
            CrisisLevel::Calm | CrisisLevel::Vigilance => &self.level1,
            CrisisLevel::Alert => &self.level2,
            CrisisLevel::Crisis => &self.level3,
        }
    }
}

/// A pre-approved holding statement for one language and channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Language.
    pub lang: Lang,
    /// Channel (decides the length limit).
    pub channel: Channel,
    /// Template with `{{variables}}`.
    pub text: String,
}

/// A checklist task created at activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskTemplate {
    /// What to do.
    pub title: Localized,
    /// The role that owns it.
    pub role: String,
    /// Deadline in minutes after activation.
    pub due_minutes: u32,
}

/// A prepared response for one kind of crisis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Slug (`product-recall`), unique in a library.
    pub id: String,
    /// Name.
    pub name: Localized,
    /// Kind of crisis.
    pub kind: CrisisKind,
    /// Severity from 1 (benign) to 3 (extreme).
    pub severity: u8,
    /// What situation it is for.
    pub description: Localized,
    /// When to propose it.
    #[serde(default)]
    pub triggers: Triggers,
    /// Recommended posture.
    pub posture: Posture,
    /// Who speaks at each level.
    pub spokesperson: Spokesperson,
    /// Roles whose approval a draft of this scenario needs (any one of them approves).
    pub approvers: Vec<String>,
    /// Variables the statements use, with a description (filled at activation).
    #[serde(default)]
    pub variables: std::collections::BTreeMap<String, String>,
    /// Holding statements.
    pub statements: Vec<Statement>,
    /// Message to the staff.
    pub internal_message: Localized,
    /// Checklist.
    pub tasks: Vec<TaskTemplate>,
}

/// Variables filled in by Vigie itself at activation.
pub const AUTOMATIC_VARIABLES: &[&str] = &["brand", "watch", "activated_at", "incident_id"];

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Scenario {
    /// Parses and validates one TOML document; `origin` names it in errors.
    pub fn from_toml(src: &str, origin: &str) -> RespondResult<Self> {
        let scenario: Scenario = toml::from_str(src).map_err(|e| RespondError::Scenario {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        scenario.validate(origin)?;
        Ok(scenario)
    }

    /// Checks what serde cannot: slugs, severity, both languages present, deadlines, every
    /// template variable declared. Collects every mistake.
    pub fn validate(&self, origin: &str) -> RespondResult<()> {
        let mut errors = Vec::new();
        if !is_slug(&self.id) {
            errors.push(format!(
                "id {:?} must be a slug (a-z, 0-9, '-', '_'; at most 64)",
                self.id
            ));
        }
        if !(1..=3).contains(&self.severity) {
            errors.push(format!("severity must be 1, 2 or 3, not {}", self.severity));
        }
        for (field, text) in [
            ("name", &self.name),
            ("description", &self.description),
            ("internal_message", &self.internal_message),
            ("posture.rationale", &self.posture.rationale),
            ("posture.risks", &self.posture.risks),
        ] {
            if text.fr.trim().is_empty() || text.en.trim().is_empty() {
                errors.push(format!("{field} needs a French and an English text"));
            }
        }
        if self.approvers.is_empty() {
            errors.push("approvers must name at least one role".into());
        }
        for role in self
            .approvers
            .iter()
            .chain([
                &self.spokesperson.level1,
                &self.spokesperson.level2,
                &self.spokesperson.level3,
            ])
            .chain(self.tasks.iter().map(|t| &t.role))
        {
            if !is_slug(role) {
                errors.push(format!("role {role:?} must be a slug"));
            }
        }
        for lang in [Lang::Fr, Lang::En] {
            if !self.statements.iter().any(|s| s.lang == lang) {
                errors.push(format!(
                    "statements: no holding statement in {}",
                    lang.as_str()
                ));
            }
        }
        for (i, s) in self.statements.iter().enumerate() {
            if s.text.trim().is_empty() {
                errors.push(format!("statements[{i}]: empty text"));
            }
            if self
                .statements
                .iter()
                .take(i)
                .any(|o| o.lang == s.lang && o.channel == s.channel)
            {
                errors.push(format!(
                    "statements[{i}]: a second statement for {} on {}",
                    s.lang.as_str(),
                    s.channel.as_str()
                ));
            }
        }
        let templates = self.statements.iter().map(|s| s.text.as_str()).chain([
            self.internal_message.fr.as_str(),
            self.internal_message.en.as_str(),
        ]);
        for text in templates {
            for p in placeholders(text) {
                if !self.variables.contains_key(&p.name)
                    && !AUTOMATIC_VARIABLES.contains(&p.name.as_str())
                {
                    errors.push(format!(
                        "variable {{{{{}}}}} is used but not declared in [variables]",
                        p.name
                    ));
                }
            }
        }
        if self.tasks.is_empty() {
            errors.push("tasks: at least one task".into());
        }
        for (i, t) in self.tasks.iter().enumerate() {
            if t.title.fr.trim().is_empty() || t.title.en.trim().is_empty() {
                errors.push(format!("tasks[{i}].title needs French and English"));
            }
            if t.due_minutes == 0 || t.due_minutes > 60 * 24 * 30 {
                errors.push(format!(
                    "tasks[{i}].due_minutes must be from 1 to 43200, not {}",
                    t.due_minutes
                ));
            }
        }
        if self.triggers.min_level == CrisisLevel::Calm {
            errors.push("triggers.min_level cannot be calm".into());
        }
        errors.dedup();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RespondError::Scenario {
                origin: origin.to_owned(),
                message: errors.join("; "),
            })
        }
    }

    /// The holding statement for exactly this language and channel; `None` when the
    /// scenario has none (a statement written for another channel has another length and
    /// tone: callers decide, visibly, what to use instead).
    pub fn statement(&self, lang: Lang, channel: Channel) -> Option<&Statement> {
        self.statements
            .iter()
            .find(|s| s.lang == lang && s.channel == channel)
    }
}

/// Scenarios loaded from a directory, sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioLibrary {
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
}

impl ScenarioLibrary {
    /// Loads every `*.toml` file of `dir` (not recursive). Every invalid file is reported;
    /// ids must be unique.
    pub fn load_dir(dir: &Path) -> RespondResult<Self> {
        let io = |source| RespondError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut scenarios: Vec<Scenario> = Vec::new();
        let mut errors = Vec::new();
        for path in &paths {
            let origin = path.display().to_string();
            let src = std::fs::read_to_string(path).map_err(|source| RespondError::Io {
                path: origin.clone(),
                source,
            })?;
            match Scenario::from_toml(&src, &origin) {
                Ok(s) => {
                    if scenarios.iter().any(|o| o.id == s.id) {
                        errors.push(format!("{origin}: duplicate scenario id {:?}", s.id));
                    } else {
                        scenarios.push(s);
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(RespondError::Scenario {
                origin: dir.display().to_string(),
                message: errors.join("\n"),
            });
        }
        scenarios.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self { scenarios })
    }

    /// The scenario with this id.
    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// The library shipped with Vigie: the files of the repository's `scenarios/`, compiled
    /// into the binary, for a server started where no scenario directory is found (the
    /// demo in a temporary directory, an installed binary).
    pub fn shipped() -> RespondResult<Self> {
        const FILES: [(&str, &str); 8] = [
            (
                "boycott-call.toml",
                include_str!("../../../scenarios/boycott-call.toml"),
            ),
            (
                "customer-mistreatment.toml",
                include_str!("../../../scenarios/customer-mistreatment.toml"),
            ),
            (
                "data-leak.toml",
                include_str!("../../../scenarios/data-leak.toml"),
            ),
            (
                "employee-post.toml",
                include_str!("../../../scenarios/employee-post.toml"),
            ),
            (
                "executive-statement.toml",
                include_str!("../../../scenarios/executive-statement.toml"),
            ),
            (
                "fake-news.toml",
                include_str!("../../../scenarios/fake-news.toml"),
            ),
            (
                "product-recall.toml",
                include_str!("../../../scenarios/product-recall.toml"),
            ),
            (
                "service-outage.toml",
                include_str!("../../../scenarios/service-outage.toml"),
            ),
        ];
        let mut scenarios = FILES
            .iter()
            .map(|(name, src)| Scenario::from_toml(src, &format!("(shipped) scenarios/{name}")))
            .collect::<RespondResult<Vec<_>>>()?;
        scenarios.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self { scenarios })
    }
}

/// Folds a text for matching: lowercase, accents removed, one char per input char (so
/// offsets map back one to one).
pub(crate) fn fold_char(c: char) -> char {
    use unicode_normalization::UnicodeNormalization;
    let lower = c.to_lowercase().next().unwrap_or(c);
    let base = std::iter::once(lower).nfd().next().unwrap_or(lower);
    match base {
        '\u{2019}' | '\u{2018}' | '`' => '\'',
        other => other,
    }
}

/// Folds a whole string with [`fold_char`].
pub(crate) fn fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// Char ranges of whole-word occurrences of `term` in the folded chars `hay`.
pub(crate) fn find_term(hay: &[char], term: &str) -> Vec<(usize, usize)> {
    let (term, prefix) = match term.strip_suffix('*') {
        Some(t) => (t, true),
        None => (term, false),
    };
    let needle: Vec<char> = fold(term.trim()).chars().collect();
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return out;
    }
    let word = |c: char| c.is_alphanumeric();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if hay[i..i + needle.len()] == needle[..] && (i == 0 || !word(hay[i - 1])) {
            let mut end = i + needle.len();
            if prefix {
                while end < hay.len() && word(hay[end]) {
                    end += 1;
                }
            }
            if end == hay.len() || !word(hay[end]) {
                out.push((i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// A scenario proposed for an incident, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    /// Scenario id.
    pub scenario: String,
    /// Score (higher is better): matched terms weigh most, then severity fit.
    pub score: f64,
    /// Trigger terms found in the incident's evidence.
    pub matched_terms: Vec<String>,
}

/// What the matcher looks at: the incident's watch, level and evidence text.
#[derive(Debug, Clone, Default)]
pub struct IncidentEvidence {
    /// Watch id.
    pub watch: String,
    /// Highest level reached.
    pub level: CrisisLevel,
    /// Top terms, hashtags and sample posts of the level changes, joined.
    pub text: String,
}

/// Scenarios that fit an incident, best first. A scenario is proposed when the incident's
/// level reached its `min_level`, its watch list (if any) contains the watch, and at least one
/// trigger term occurs in the evidence (scenarios without trigger terms are proposed with a
/// low score so that a generic playbook is always offered).
pub fn propose(library: &[Scenario], evidence: &IncidentEvidence) -> Vec<Proposal> {
    let hay: Vec<char> = fold(&evidence.text).chars().collect();
    let mut out: Vec<Proposal> = library
        .iter()
        .filter(|s| evidence.level >= s.triggers.min_level)
        .filter(|s| s.triggers.watches.is_empty() || s.triggers.watches.contains(&evidence.watch))
        .filter_map(|s| {
            let matched: Vec<String> = s
                .triggers
                .terms
                .iter()
                .filter(|t| !find_term(&hay, t).is_empty())
                .cloned()
                .collect();
            if matched.is_empty() && !s.triggers.terms.is_empty() {
                return None;
            }
            let fit = 1.0 - f64::from(s.severity.abs_diff(evidence.level.as_u8())) / 3.0;
            let hits: usize = s
                .triggers
                .terms
                .iter()
                .map(|t| find_term(&hay, t).len())
                .sum();
            #[allow(clippy::cast_precision_loss)]
            let score = matched.len() as f64 * 10.0 + (hits as f64).ln_1p() + fit;
            Some(Proposal {
                scenario: s.id.clone(),
                score: (score * 100.0).round() / 100.0,
                matched_terms: matched,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.scenario.cmp(&b.scenario))
    });
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn shipped_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
    }

    #[test]
    fn every_shipped_scenario_parses_and_validates() {
        let lib = ScenarioLibrary::load_dir(&shipped_dir()).unwrap();
        assert!(lib.scenarios.len() >= 8, "{}", lib.scenarios.len());
        let kinds: std::collections::HashSet<_> = lib.scenarios.iter().map(|s| s.kind).collect();
        for kind in [
            CrisisKind::ProductDefect,
            CrisisKind::ServiceOutage,
            CrisisKind::EmployeePost,
            CrisisKind::ExecutiveStatement,
            CrisisKind::DataLeak,
            CrisisKind::CustomerMistreatment,
            CrisisKind::BoycottCall,
            CrisisKind::FakeNews,
        ] {
            assert!(kinds.contains(&kind), "no scenario for {kind:?}");
        }
        for s in &lib.scenarios {
            // A first public answer within 30 minutes, as the product promises.
            assert!(
                s.tasks.iter().any(|t| t.due_minutes <= 30),
                "{}: no task due within 30 minutes",
                s.id
            );
            assert_eq!(s.spokesperson.level3, "ceo", "{}", s.id);
            for lang in [Lang::Fr, Lang::En] {
                assert!(s.statement(lang, Channel::X).is_some(), "{}", s.id);
            }
        }
    }

    #[test]
    fn every_shipped_scenario_has_a_statement_per_language_and_channel() {
        // Issue 7: pre-approved holding statements in French and English, for each channel
        // (X/Bluesky length, Facebook, press); `statement()` returns only the exact pair.
        let lib = ScenarioLibrary::load_dir(&shipped_dir()).unwrap();
        for s in &lib.scenarios {
            for lang in [Lang::Fr, Lang::En] {
                for channel in [
                    Channel::X,
                    Channel::Bluesky,
                    Channel::Facebook,
                    Channel::Press,
                ] {
                    assert!(
                        s.statement(lang, channel)
                            .is_some_and(|st| st.lang == lang && st.channel == channel),
                        "{}: no {} statement on {}",
                        s.id,
                        lang.as_str(),
                        channel.as_str()
                    );
                }
            }
        }
    }

    #[test]
    fn shipped_statements_fit_their_channel_once_filled() {
        use crate::policy::{CheckContext, Policy, Rule, check};
        let lib = ScenarioLibrary::load_dir(&shipped_dir()).unwrap();
        for s in &lib.scenarios {
            // Realistic values: 25 characters per variable.
            let vars = s
                .variables
                .keys()
                .map(String::as_str)
                .chain(AUTOMATIC_VARIABLES.iter().copied())
                .map(|k| (k.to_owned(), "x".repeat(25)))
                .collect();
            for st in &s.statements {
                let text = crate::template::render(&st.text, &vars);
                let report = check(
                    &Policy::default(),
                    &text,
                    CheckContext {
                        channel: st.channel,
                        lang: st.lang,
                        crisis: true,
                    },
                );
                let blocking: Vec<_> = report
                    .findings
                    .iter()
                    .filter(|f| {
                        matches!(
                            f.rule,
                            Rule::TooLong
                                | Rule::UnresolvedVariable
                                | Rule::ForbiddenTerm
                                | Rule::MissingEmpathy
                                | Rule::BlamingTone
                        )
                    })
                    .collect();
                assert!(
                    blocking.is_empty(),
                    "{} {:?} {:?}: {blocking:?}",
                    s.id,
                    st.lang,
                    st.channel
                );
            }
        }
    }

    #[test]
    fn mistakes_are_all_reported() {
        let src = r#"
id = "Bad Id"
severity = 5
kind = "product_defect"
approvers = []
statements = [{ lang = "fr", channel = "x", text = "Bonjour {{who}}" }]
tasks = [{ title = { fr = "a", en = "b" }, role = "cm", due_minutes = 0 }]
[name]
fr = "n"
en = ""
[description]
fr = "d"
en = "d"
[posture]
recommended = "acknowledge"
rationale = { fr = "r", en = "r" }
risks = { fr = "r", en = "r" }
[spokesperson]
level1 = "cm"
level2 = "cm"
level3 = "ceo"
[internal_message]
fr = "m"
en = "m"
"#;
        let err = Scenario::from_toml(src, "bad.toml")
            .unwrap_err()
            .to_string();
        for part in [
            "bad.toml",
            "slug",
            "severity",
            "name needs",
            "approvers",
            "no holding statement in en",
            "{{who}}",
            "due_minutes",
        ] {
            assert!(err.contains(part), "{part:?} missing in {err}");
        }
        let err = Scenario::from_toml("id = 3", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.toml"), "{err}");
    }

    #[test]
    fn terms_match_whole_words_without_accents_or_case() {
        let hay: Vec<char> = fold("RAPPEL des yaourts, Intoxications à Lyon")
            .chars()
            .collect();
        assert_eq!(find_term(&hay, "rappel"), vec![(0, 6)]);
        assert_eq!(find_term(&hay, "intoxication*").len(), 1);
        assert!(find_term(&hay, "intoxication").is_empty());
        assert_eq!(find_term(&hay, "à lyon").len(), 1);
        assert!(find_term(&hay, "app").is_empty());
    }

    #[test]
    fn the_matcher_proposes_the_scenario_whose_terms_occur() {
        let lib = ScenarioLibrary::load_dir(&shipped_dir()).unwrap();
        let evidence = IncidentEvidence {
            watch: "brand".into(),
            level: CrisisLevel::Crisis,
            text: "rappel yaourt intoxication #rappelconso malades".into(),
        };
        let proposals = propose(&lib.scenarios, &evidence);
        assert_eq!(proposals[0].scenario, "product-recall", "{proposals:?}");
        assert!(proposals[0].matched_terms.iter().any(|t| t == "rappel"));
        let calm = IncidentEvidence {
            level: CrisisLevel::Vigilance,
            ..evidence
        };
        assert!(
            propose(&lib.scenarios, &calm)
                .iter()
                .all(|p| p.scenario != "product-recall")
        );
    }
}

#[cfg(test)]
mod shipped_tests {
    #![allow(clippy::unwrap_used)]
    use super::ScenarioLibrary;

    #[test]
    fn the_compiled_in_library_is_the_scenarios_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let on_disk = ScenarioLibrary::load_dir(&dir).unwrap();
        let shipped = ScenarioLibrary::shipped().unwrap();
        assert!(shipped.scenarios.len() >= 8);
        assert_eq!(
            shipped, on_disk,
            "a file of scenarios/ is missing from ScenarioLibrary::shipped"
        );
    }
}
