//! Texts of the drills: Brevia, a fictional French telecom operator, its customers, its
//! crises and its good days. Templates have `{city}`, `{hours}` and `{n}` slots.

use crate::rng::Rng;

/// The brand's main account.
pub const BRAND_ACCOUNT: &str = "brevia";
/// The brand's customer-service account.
pub const SERVICE_ACCOUNT: &str = "brevia_service";
/// The watch's query.
pub const WATCH_QUERY: &str = "brevia OR @brevia OR @brevia_service OR #brevia";

const CITIES: &[&str] = &[
    "Lyon",
    "Lille",
    "Nantes",
    "Marseille",
    "Toulouse",
    "Rennes",
    "Bordeaux",
    "Strasbourg",
    "Grenoble",
    "Dijon",
    "Paris",
    "Montpellier",
];

/// Ordinary neutral chatter.
pub const NEUTRAL: &[&str] = &[
    "Quelqu'un sait si la boutique Brevia de {city} est ouverte dimanche ?",
    "Je viens de passer chez Brevia pour changer de forfait",
    "Brevia annonce la fibre à {city} pour l'an prochain",
    "Comparatif des forfaits mobiles de la rentrée : Brevia, Orange, Free et SFR",
    "Nouveau téléphone reçu, activation de la carte SIM Brevia en cours",
    "Le service client Brevia change ses horaires à partir de lundi",
    "Brevia ou Bouygues pour la fibre à {city} ? Vos avis ?",
    "Rendez-vous technicien Brevia demain matin pour la box",
    "Anyone using Brevia in {city}? How is the coverage?",
    "Brevia publie ses résultats trimestriels jeudi",
];

/// Ordinary praise.
pub const POSITIVE: &[&str] = &[
    "Super accueil à la boutique Brevia de {city}, merci !",
    "La 5G Brevia à {city} est vraiment rapide 👍",
    "Service client Brevia au top, problème réglé en cinq minutes",
    "Très content de mon forfait Brevia, rien à redire",
    "Merci Brevia, le technicien était ponctuel et très aimable",
    "Great support from Brevia today, thanks!",
];

/// Ordinary complaints: every brand has them, every day.
pub const NEGATIVE: &[&str] = &[
    "Encore une coupure internet chez Brevia à {city}, pénible",
    "Ça fait {hours} heures que j'attends le service client Brevia 😤",
    "Facture Brevia incompréhensible ce mois-ci, déçu",
    "Réseau Brevia nul dans le métro à {city}, vraiment nul",
    "Ma box Brevia redémarre toute seule, c'est insupportable",
    "Brevia support is useless, still no internet after {hours} hours",
];

/// The brand's own posts.
pub const BRAND_POSTS: &[&str] = &[
    "Découvrez nos nouvelles offres fibre sur brevia.fr #Brevia",
    "Nos boutiques de {city} vous accueillent aussi le dimanche #Brevia",
    "Travaux réseau cette nuit à {city} : merci de votre patience #Brevia",
];

/// The service account's answers.
pub const SERVICE_ANSWERS: &[&str] = &[
    "Bonjour, désolés pour la gêne, pouvez-vous nous écrire en message privé ? ^Julie",
    "Bonjour, nous regardons cela tout de suite, pouvez-vous nous donner votre numéro de dossier ? ^Marc",
];

/// One crisis story: the trigger, the crowd's reactions, the hashtag, the press.
#[derive(Debug, Clone, Copy)]
pub struct CrisisStory {
    /// A short name.
    pub name: &'static str,
    /// The trigger post.
    pub trigger: &'static str,
    /// What happened, as the crowd says it.
    pub issue: &'static [&'static str],
    /// The hashtag, without `#`.
    pub hashtag: &'static str,
    /// A press headline.
    pub headline: &'static str,
}

/// The crisis stories.
pub const CRISES: &[CrisisStory] = &[
    CrisisStory {
        name: "data leak",
        trigger: "Brevia a laissé fuiter les données de ses clients : noms, adresses et IBAN en accès libre. Scandale !",
        issue: &[
            "Brevia a laissé fuiter nos données bancaires",
            "Mes données personnelles en accès libre à cause de Brevia",
            "La fuite de données chez Brevia est énorme",
            "Brevia leaked the bank details of its customers",
        ],
        hashtag: "BreviaLeak",
        headline: "Fuite de données massive chez Brevia",
    },
    CrisisStory {
        name: "double billing",
        trigger: "Brevia a prélevé deux fois tous ses clients ce mois-ci et refuse de rembourser. Honteux !",
        issue: &[
            "Brevia m'a prélevé deux fois et refuse de rembourser",
            "Double prélèvement Brevia, compte à découvert",
            "Brevia vole ses clients avec ce double prélèvement",
            "Brevia charged me twice and refuses a refund",
        ],
        hashtag: "BreviaRembourse",
        headline: "Double prélèvement : Brevia sous le feu des critiques",
    },
    CrisisStory {
        name: "insulting video",
        trigger: "Vidéo : un vendeur Brevia insulte et humilie un client handicapé en boutique. Inadmissible !",
        issue: &[
            "Un vendeur Brevia humilie un client handicapé",
            "Cette vidéo du vendeur Brevia est révoltante",
            "Brevia doit sanctionner ce vendeur qui insulte un client handicapé",
            "A Brevia salesman humiliating a disabled customer, disgusting",
        ],
        hashtag: "BoycottBrevia",
        headline: "Un vendeur Brevia filmé en train d'humilier un client",
    },
    CrisisStory {
        name: "outage and contempt",
        trigger: "Panne géante Brevia depuis ce matin et le PDG se moque des clients à la radio. Lamentable.",
        issue: &[
            "Le PDG de Brevia se moque des clients privés de réseau",
            "Panne Brevia et mépris total de la direction",
            "Toujours aucun réseau Brevia et aucune excuse",
            "Brevia outage and their CEO mocks customers",
        ],
        hashtag: "BreviaPanne",
        headline: "Panne Brevia : les propos du PDG provoquent la colère",
    },
];

/// How the crowd reacts to an issue.
pub const OUTRAGE: &[&str] = &[
    "C'est une honte.",
    "Inadmissible !",
    "Je résilie mon abonnement.",
    "Scandaleux, j'exige des explications.",
    "Quel mépris pour les clients 😡",
    "Lamentable, vraiment lamentable.",
    "Disgraceful.",
];

/// Neutral questions during a crisis.
pub const CRISIS_QUESTIONS: &[&str] = &[
    "Quelqu'un a des infos sur ce qui se passe chez Brevia ?",
    "Brevia va communiquer sur cette affaire ?",
    "Je lis beaucoup de choses sur Brevia ce soir, c'est vrai ?",
];

/// An influencer joining a crisis.
pub const INFLUENCER: &str =
    "@brevia c'est inacceptable. {issue}. Je ne recommanderai plus jamais Brevia.";

/// The brand's apology.
pub const APOLOGY: &str = "Nous présentons nos excuses à nos clients. Nous prenons cette situation très au sérieux et reviendrons vers vous rapidement. #Brevia";

/// Positive viral campaign.
pub const CAMPAIGN_TRIGGER: &str = "Brevia offre un an de fibre gratuite aux soignants 👏 Bravo, magnifique initiative ! #MerciBrevia";
/// Reactions to the campaign.
pub const CAMPAIGN_REACTIONS: &[&str] = &[
    "Magnifique initiative de Brevia, bravo !",
    "Merci Brevia pour les soignants, super geste",
    "Brevia qui offre la fibre aux soignants, j'adore",
    "Great move by Brevia for health workers, well done",
];

/// Spam of a bot network.
pub const BOT_SPAM: &[&str] = &[
    "🎁 Gagnez un iPhone avec Brevia ! Participez ici http://promo-brevia.example/win #concours",
    "Brevia cadeau : 1000 smartphones à gagner, cliquez vite http://promo-brevia.example/win",
    "Concours Brevia : tentez votre chance maintenant http://promo-brevia.example/gift",
];

/// A lone complaint by a large account.
pub const LONE_COMPLAINTS: &[&str] = &[
    "Franchement déçu par Brevia, ma fibre est coupée depuis trois jours et personne ne répond.",
    "Troisième rendez-vous technicien Brevia annulé sans prévenir. Service client aux abonnés absents.",
];

/// Reactions to a lone complaint (sympathy, jokes, questions).
pub const LONE_REACTIONS: &[&str] = &[
    "Pareil chez moi avec Brevia, courage",
    "Brevia c'est souvent comme ça malheureusement",
    "Tu as essayé d'appeler le service client Brevia ?",
];

/// A product launch.
pub const LAUNCH_POSTS: &[&str] = &[
    "Découvrez la Brevia Box 6 : Wi-Fi 7, TV 4K et appels illimités #BreviaBox6",
    "La Brevia Box 6 arrive dans nos boutiques dès aujourd'hui #BreviaBox6",
];
/// Reactions to the launch.
pub const LAUNCH_REACTIONS: &[&str] = &[
    "La nouvelle Brevia Box 6 a l'air top #BreviaBox6",
    "Brevia Box 6 : quelqu'un l'a testée ? #BreviaBox6",
    "Le Wi-Fi 7 de la Brevia Box 6, enfin !",
    "Brevia Box 6 un peu chère quand même #BreviaBox6",
    "Unboxing de la Brevia Box 6 ce soir en live",
    "Comparatif : Brevia Box 6 contre la Freebox #BreviaBox6",
];
/// Launch press headline.
pub const LAUNCH_HEADLINE: &str = "Brevia lance sa Box 6 avec le Wi-Fi 7";

/// Fills `{city}`, `{hours}`, `{n}` and `{issue}`.
pub fn render(rng: &mut Rng, template: &str, issue: &str) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        match &after[1..close] {
            "city" => out.push_str(rng.pick(CITIES).copied().unwrap_or("Paris")),
            "hours" => out.push_str(&(2 + rng.below(7)).to_string()),
            "n" => out.push_str(&(2 + rng.below(30)).to_string()),
            "issue" => out.push_str(issue),
            other => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn renders_slots() {
        let mut rng = Rng::new(1, 1);
        let t = render(&mut rng, "A {city} B {hours} {issue} {x}", "I");
        assert!(!t.contains("{city}") && t.contains(" I {x}"), "{t}");
    }
}
