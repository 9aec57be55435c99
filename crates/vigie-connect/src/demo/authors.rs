//! Who speaks: a pool of generated French (and some English-speaking) accounts, plus the
//! story's named characters (the brand, the customer, the influencer, the press).
//!
//! Every domain ends in `.example` (reserved by RFC 2606): no real account or site is named.

use super::rng::Rng;
use std::collections::BTreeSet;
use vigie_model::Author;

/// A social network or feed, as the `source` field names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Network {
    /// Mastodon (statuses with snowflake ids).
    #[default]
    Mastodon,
    /// Bluesky (AT URIs).
    Bluesky,
    /// Reddit (comments `t1_`, posts `t3_`).
    Reddit,
    /// News feeds.
    Rss,
}

impl Network {
    /// The `source` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Mastodon => "mastodon",
            Self::Bluesky => "bluesky",
            Self::Reddit => "reddit",
            Self::Rss => "rss",
        }
    }
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Persona {
    /// Where it posts.
    pub network: Network,
    /// The handle as the source delivers it (`lea_martin@piaille.example`, `lea-martin.bsky.example`).
    pub handle: String,
    /// How others cite it in a text, without `@` (`lea_martin`).
    pub short: String,
    /// Display name.
    pub name: Option<String>,
    /// Audience.
    pub followers: u64,
    /// Verified or notable.
    pub verified: bool,
    /// Mastodon instance or news site domain; the DID for Bluesky.
    pub home: String,
    /// Writes in English.
    pub english: bool,
}

impl Persona {
    /// The model's author.
    pub(crate) fn author(&self) -> Author {
        Author {
            handle: self.handle.clone(),
            name: self.name.clone(),
            followers: Some(self.followers),
            verified: self.verified,
        }
    }

    /// A named character of the story on one network.
    pub(crate) fn named(
        network: Network,
        local: &str,
        name: &str,
        followers: u64,
        verified: bool,
    ) -> Self {
        let mut p = shape(network, local, MASTODON_INSTANCES[0], 0);
        p.name = Some(name.to_owned());
        p.followers = followers;
        p.verified = verified;
        p
    }

    /// One of the organization's own accounts: the bare handle, exactly as the watches list
    /// it (`orsane`, `orsane_service`), on any network.
    pub(crate) fn own(network: Network, handle: &str, name: &str, followers: u64) -> Self {
        Self {
            network,
            handle: handle.to_owned(),
            short: handle.to_owned(),
            name: Some(name.to_owned()),
            followers,
            verified: true,
            home: home_of(network, MASTODON_INSTANCES[0], handle),
            english: false,
        }
    }

    /// A news outlet (source `rss`).
    pub(crate) fn outlet(slug: &str, name: &str, domain: &str, audience: u64) -> Self {
        Self {
            network: Network::Rss,
            handle: slug.to_owned(),
            short: slug.to_owned(),
            name: Some(name.to_owned()),
            followers: audience,
            verified: true,
            home: domain.to_owned(),
            english: false,
        }
    }
}

const MASTODON_INSTANCES: &[&str] = &[
    "mastodon.example",
    "piaille.example",
    "toot-fr.example",
    "framasoc.example",
    "masto-bdx.example",
];

const FIRST_NAMES: &[&str] = &[
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Jade",
    "Louise",
    "Emma",
    "Sarah",
    "Julie",
    "Claire",
    "Anaïs",
    "Pauline",
    "Mathilde",
    "Élodie",
    "Nadia",
    "Yasmine",
    "Fatou",
    "Aurélie",
    "Margaux",
    "Lucas",
    "Hugo",
    "Théo",
    "Nathan",
    "Louis",
    "Jules",
    "Maxime",
    "Antoine",
    "Thomas",
    "Julien",
    "Nicolas",
    "Karim",
    "Mehdi",
    "Yanis",
    "Bastien",
    "Romain",
    "Quentin",
    "Florian",
    "Kevin",
    "Sébastien",
    "Olivier",
    "Pierre",
    "Baptiste",
    "Adrien",
    "Samuel",
    "Gaëlle",
    "Sophie",
    "Céline",
    "Amandine",
    "Lina",
];

const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Lemoine",
    "Benali",
];

const NICKNAMES: &[&str] = &[
    "cafe_addict",
    "lectrice_du_dimanche",
    "le_bordelais",
    "paname_flaneur",
    "matinale",
    "tasse_de_the",
    "velotaf",
    "brunch_lover",
    "la_lyonnaise",
    "teletravailleur",
    "grain_de_sel",
    "petit_noir",
    "nuit_blanche",
    "rive_droite",
    "chartronnaise",
    "dev_en_pyjama",
    "maman_solo",
    "prof_de_maths",
    "etudiant_fatigue",
    "jardin_secret",
    "citoyenne_engagee",
    "le_gone",
    "marseillaise_13",
    "nantais_du_44",
    "rando_et_cafe",
    "mamie_geek",
    "crayon_rouge",
];

const EN_FIRST: &[&str] = &[
    "Emily", "Jack", "Olivia", "Harry", "Sophie", "James", "Chloe", "Daniel", "Grace", "Ryan",
    "Megan", "Liam", "Hannah", "Ethan", "Zoe", "Noah",
];

const EN_LAST: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Green",
    "Baker", "Clarke", "Hall", "Turner", "Cooper", "Reid",
];

/// ASCII lowercase for handles: French accents folded, anything else dropped.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let base = match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' => 'e',
            'î' | 'ï' | 'Î' => 'i',
            'ô' | 'ö' | 'Ô' => 'o',
            'ù' | 'û' | 'ü' | 'Û' => 'u',
            'ç' | 'Ç' => 'c',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            ' ' | '-' | '\'' => '_',
            '_' | '.' => c,
            _ => continue,
        };
        out.push(base);
    }
    out
}

fn home_of(network: Network, instance: &str, local: &str) -> String {
    match network {
        Network::Mastodon => instance.to_owned(),
        // A did:plc is 24 base32 characters; derive it from the handle so it is stable.
        Network::Bluesky => {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            let mut did = String::from("did:plc:");
            for round in 0..24u64 {
                for b in local.bytes().chain(round.to_le_bytes()) {
                    h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
                let i = (h >> 59) as usize;
                did.push(char::from(BASE32.get(i).copied().unwrap_or(b'a')));
            }
            did
        }
        Network::Reddit | Network::Rss => String::new(),
    }
}

/// The alphabet of Bluesky's sortable base32 (TIDs) and did:plc identifiers.
pub(crate) const BASE32: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// The first letter of a name.
fn initial(name: &str) -> String {
    name.chars().take(1).collect()
}

/// A persona named `local` on `network`.
fn shape(network: Network, local: &str, instance: &str, followers: u64) -> Persona {
    let (handle, short) = match network {
        Network::Mastodon => (format!("{local}@{instance}"), local.to_owned()),
        Network::Bluesky => {
            let dashed = local.replace(['_', '.'], "-");
            (
                format!("{dashed}.bsky.example"),
                format!("{dashed}.bsky.example"),
            )
        }
        Network::Reddit | Network::Rss => (local.to_owned(), local.to_owned()),
    };
    Persona {
        network,
        home: home_of(network, instance, local),
        handle,
        short,
        name: None,
        followers,
        verified: false,
        english: false,
    }
}

/// The crowd: generated accounts, split by language.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    /// French-speaking accounts.
    pub french: Vec<Persona>,
    /// English-speaking accounts.
    pub english: Vec<Persona>,
}

impl Pool {
    /// `french` + `english` distinct accounts with heavy-tailed audiences.
    pub(crate) fn generate(rng: &mut Rng, french: usize, english: usize) -> Self {
        let mut taken = BTreeSet::new();
        let mut make = |rng: &mut Rng, english: bool| {
            let (first, last) = if english {
                (rng.pick(EN_FIRST), rng.pick(EN_LAST))
            } else {
                (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
            };
            let mut local = match rng.below(6) {
                0 | 1 => format!("{}_{}", fold(first), fold(last)),
                2 => format!("{}{}{}", fold(first), fold(last), rng.range(1, 99)),
                3 => format!("{}.{}", fold(first), fold(&initial(last))),
                4 => format!("{}{}", rng.pick(NICKNAMES), rng.range(1, 999)),
                _ => format!("{}_{}", fold(&initial(first)), fold(last)),
            };
            while !taken.insert(local.clone()) {
                local = format!("{local}{}", rng.range(0, 10));
            }
            let network = match rng.weighted(&[0.45, 0.40, 0.15]) {
                0 => Network::Mastodon,
                1 => Network::Bluesky,
                _ => Network::Reddit,
            };
            let followers = rng.log_normal(140.0, 1.5).clamp(0.0, 400_000.0) as u64;
            let mut p = shape(network, &local, rng.pick(MASTODON_INSTANCES), followers);
            p.english = english;
            p.verified = followers > 5_000 && rng.chance(0.5);
            if network != Network::Reddit && rng.chance(0.8) {
                p.name = Some(if rng.chance(0.15) {
                    first.to_owned()
                } else {
                    format!("{first} {last}")
                });
            }
            p
        };
        let french = (0..french).map(|_| make(rng, false)).collect();
        let english = (0..english).map(|_| make(rng, true)).collect();
        Self { french, english }
    }

    /// A random French-speaking account.
    pub(crate) fn any_french(&self, rng: &mut Rng) -> Option<&Persona> {
        self.french
            .get(rng.below(self.french.len() as u64) as usize)
    }

    /// A random English-speaking account.
    pub(crate) fn any_english(&self, rng: &mut Rng) -> Option<&Persona> {
        self.english
            .get(rng.below(self.english.len() as u64) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_unique_and_shaped_per_network() {
        let mut rng = Rng::new(42, 1);
        let pool = Pool::generate(&mut rng, 3000, 300);
        let handles: BTreeSet<&str> = pool
            .french
            .iter()
            .chain(&pool.english)
            .map(|p| p.handle.as_str())
            .collect();
        assert_eq!(handles.len(), 3300);
        for p in pool.french.iter().chain(&pool.english) {
            match p.network {
                Network::Mastodon => {
                    assert!(p.handle.ends_with(&format!("@{}", p.home)), "{}", p.handle)
                }
                Network::Bluesky => {
                    assert!(p.handle.ends_with(".bsky.example"));
                    assert!(p.home.starts_with("did:plc:") && p.home.len() == 32);
                }
                Network::Reddit | Network::Rss => assert!(!p.handle.contains('@')),
            }
            assert!(
                p.handle.is_ascii() && !p.handle.contains(' '),
                "{}",
                p.handle
            );
        }
    }

    #[test]
    fn audiences_are_heavy_tailed() {
        let mut rng = Rng::new(42, 1);
        let pool = Pool::generate(&mut rng, 3000, 0);
        let mut f: Vec<u64> = pool.french.iter().map(|p| p.followers).collect();
        f.sort_unstable();
        let median = f[f.len() / 2];
        let max = f[f.len() - 1];
        assert!((80..250).contains(&median), "median {median}");
        assert!(max > 20 * median, "max {max}");
        assert!(pool.french.iter().any(|p| p.verified));
    }

    #[test]
    fn folds_french_names_into_handles() {
        assert_eq!(fold("Élodie Lefèvre"), "elodie_lefevre");
        assert_eq!(fold("Gaëlle"), "gaelle");
        let own = Persona::own(Network::Bluesky, "orsane", "Cafés Orsane", 48_000);
        assert_eq!(own.handle, "orsane");
        assert!(own.author().verified);
    }
}
