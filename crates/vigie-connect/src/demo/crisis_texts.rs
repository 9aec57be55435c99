//! Texts of the crisis: the key posts, word for word, and the templates of the crowd.
//!
//! Outrage at a discrimination incident, written for this project: strong words
//! (honte, scandaleux, inadmissible, boycott…), no slurs. Every template names the brand
//! (`{brand}`, `@orsane`, `#BoycottOrsane` or the word Orsane), which the tests check.

/// The customer's video post that starts everything.
pub(crate) const TRIGGER: &str = "Ce soir au café Orsane des Chartrons à Bordeaux, le barista a refusé de servir un monsieur en fauteuil roulant (« on n'a pas la place pour ça ici »), puis s'est moqué de lui devant toute la salle pendant qu'il repartait. J'ai filmé la scène, vidéo ci-dessous. Je suis choquée. @orsane c'est ça, votre accueil ? 🎥";
/// The customer's follow-up, about 40 minutes later.
pub(crate) const TRIGGER_UPDATE: &str = "Merci pour tous vos messages. Le monsieur s'appelle Bernard, il va bien mais il est blessé. Aucune nouvelle de @orsane pour l'instant. Partagez, c'est la seule façon d'être entendus.";
/// The first use of the hashtag.
pub(crate) const HASHTAG_LAUNCH: &str = "Je ne mettrai plus les pieds chez Orsane tant qu'ils ne se seront pas expliqués. Refuser un client handicapé et s'en moquer, c'est de la discrimination. #BoycottOrsane";
/// The influencer, about 50 minutes in.
pub(crate) const INFLUENCER: &str = "Je suis rarement en colère comme ce soir. Un client en fauteuil roulant refusé puis moqué dans un café Orsane à Bordeaux. C'est de la discrimination, point. Tant que @orsane ne s'explique pas : #BoycottOrsane";
/// The disability-rights association.
pub(crate) const ASSOCIATION: &str = "Refuser de servir une personne en raison de son handicap est une discrimination, punie par la loi (articles 225-1 et 225-2 du Code pénal). Nous avons contacté la personne concernée et l'enseigne @orsane. Nous demandons des excuses publiques et la formation de tout le personnel à l'accueil des personnes handicapées. #BoycottOrsane";
/// The Reddit thread's title and text.
pub(crate) const REDDIT_TITLE: &str =
    "Un café Orsane à Bordeaux refuse de servir un homme en fauteuil roulant (vidéo)";
/// The Reddit thread's text.
pub(crate) const REDDIT_TEXT: &str = "La vidéo tourne depuis ce soir : le barista d'un café Orsane (Chartrons) refuse un client en fauteuil et se moque de lui. Quelqu'un sait si l'enseigne a réagi ? C'est quand même dingue de nos jours.";
/// `@orsane`'s apology (long form, Mastodon).
pub(crate) const APOLOGY: &str = "Nous avons vu la vidéo tournée ce soir dans notre café Orsane de Bordeaux-Chartrons. Ce qui s'est passé est inacceptable et contraire à nos valeurs. Nous présentons nos excuses les plus sincères à M. Bernard, que nous avons contacté pour le rencontrer. Le salarié est suspendu à titre conservatoire dès ce soir et une enquête interne est ouverte. Tous nos cafés suivront une formation à l'accueil des personnes en situation de handicap. La direction de Cafés Orsane";
/// `@orsane`'s apology (short form, Bluesky).
pub(crate) const APOLOGY_SHORT: &str = "Ce qui s'est passé ce soir dans notre café de Bordeaux est inacceptable. Nous présentons nos excuses sincères à M. Bernard, que nous avons contacté. Le salarié est suspendu, une enquête interne est ouverte, et tous les cafés Orsane seront formés à l'accueil des personnes handicapées.";
/// The association's reaction to the apology.
pub(crate) const ASSOCIATION_AFTER: &str = "Nous prenons acte des excuses de @orsane et de la suspension du salarié. Nous serons attentifs à la formation annoncée et proposons notre aide à l'enseigne. La vigilance reste de mise.";

/// A press article: outlet index in [`OUTLETS`], minutes after the onset, title, summary, section.
pub(crate) type Article = (usize, i64, &'static str, &'static str, &'static str);

/// Fictional news outlets: slug, name, domain, audience.
pub(crate) const OUTLETS: &[(&str, &str, &str, u64)] = &[
    (
        "courrier-bordeaux",
        "Le Courrier de Bordeaux",
        "courrier-bordeaux.example",
        120_000,
    ),
    ("actu-conso", "Actu Conso", "actuconso.example", 65_000),
    ("le-fil-info", "Le Fil Info", "lefilinfo.example", 310_000),
    (
        "gironde-matin",
        "Gironde Matin",
        "gironde-matin.example",
        48_000,
    ),
    (
        "retail-daily-europe",
        "Retail Daily Europe",
        "retaildaily.example",
        90_000,
    ),
];

/// The press coverage, in publication order.
pub(crate) const ARTICLES: &[Article] = &[
    (
        0,
        90,
        "Bordeaux : un client en fauteuil roulant refusé dans un café Orsane, la vidéo indigne les internautes",
        "Une vidéo tournée dans la soirée dans un café Orsane du quartier des Chartrons montre un barista refuser de servir un client en fauteuil roulant, puis se moquer de lui. Les appels au boycott se multiplient.",
        "faits-divers",
    ),
    (
        1,
        108,
        "#BoycottOrsane : la chaîne de cafés dans la tourmente après une vidéo de discrimination",
        "Le mot-dièse #BoycottOrsane s'est hissé en tête des tendances en moins d'une heure. Associations et clients dénoncent une discrimination envers une personne handicapée.",
        "consommation",
    ),
    (
        2,
        132,
        "Cafés Orsane sous le feu des critiques, la direction toujours silencieuse",
        "Plus de deux heures après la diffusion de la vidéo, l'enseigne Cafés Orsane n'a pas réagi. Une association de défense des droits des personnes handicapées rappelle que le refus de service est puni par la loi.",
        "economie",
    ),
    (
        4,
        128,
        "French coffee chain Orsane faces boycott calls after wheelchair user refused service",
        "A video filmed in an Orsane coffee shop in Bordeaux shows a barista refusing to serve a customer in a wheelchair and mocking him. Calls to boycott the chain are spreading on social media.",
        "news",
    ),
    (
        0,
        172,
        "Cafés Orsane présente ses excuses et suspend le barista filmé à Bordeaux",
        "Dans un communiqué publié dans la soirée, Cafés Orsane qualifie la scène d'« inacceptable », annonce la suspension du salarié et une formation de tout le personnel.",
        "faits-divers",
    ),
    (
        3,
        760,
        "Après la polémique, Orsane promet de former ses équipes à l'accueil des personnes handicapées",
        "Au lendemain de la vidéo qui a provoqué l'indignation, l'enseigne Orsane détaille ses engagements. Le client concerné a été reçu par la direction régionale.",
        "bordeaux",
    ),
    (
        1,
        820,
        "Boycott d'Orsane : quel impact pour l'enseigne ?",
        "Excuses rapides, salarié suspendu, formation annoncée : des spécialistes de la communication de crise analysent la réponse de Cafés Orsane.",
        "consommation",
    ),
    (
        4,
        900,
        "Orsane apologises after Bordeaux wheelchair incident",
        "The French coffee chain Orsane apologised and suspended the employee filmed refusing to serve a wheelchair user.",
        "news",
    ),
    (
        2,
        1500,
        "Affaire du café Orsane : le salarié convoqué, l'association Accès pour tous reçue au siège",
        "L'enseigne Cafés Orsane a reçu les représentants d'une association de personnes handicapées et s'engage sur un plan d'accessibilité.",
        "societe",
    ),
];

/// Negative adjectives of outrage.
pub(crate) const ADJ: &[&str] = &[
    "honteux",
    "scandaleux",
    "inadmissible",
    "dégoûtant",
    "révoltant",
    "indigne",
    "lamentable",
    "inacceptable",
    "écœurant",
];

/// Outrage in French.
pub(crate) const OUTRAGE: &[&str] = &[
    "{Adj}. Refuser de servir un homme en fauteuil roulant et se moquer de lui... {brand}, vous avez intérêt à réagir vite. {tags}",
    "Je viens de voir la vidéo du café {brand} à Bordeaux. C'est {adj}, une vraie honte. {tags}",
    "La discrimination envers les personnes handicapées n'est pas une opinion, c'est un délit. {brand} doit rendre des comptes. {tags}",
    "Plus jamais un café chez {brand}. {Adj}. {tags}",
    "Client fidèle depuis des années, j'ai supprimé l'appli {brand} ce soir. Dégoûté. {tags}",
    "Comment peut-on traiter quelqu'un comme ça ? Honte à {brand} {angry} {tags}",
    "Mon frère est en fauteuil, je n'imagine même pas sa réaction s'il voyait ça. {brand} c'est terminé pour nous. {tags}",
    "Accessibilité, respect, dignité : trois mots que {brand} ne connaît visiblement pas. {tags}",
    "Partagez la vidéo, que tout le monde sache comment {brand} traite ses clients handicapés. {tags}",
    "Je travaille dans un café et jamais on ne ferait ça. {Adj}, ce barista de chez {brand}. {tags}",
    "La vidéo du café {brand} me retourne le ventre. {Adj} {angry} {tags}",
    "Se moquer d'un client en fauteuil roulant. De nos jours. Chez {brand}. {Adj}. {tags}",
    "Honteux. Je ne remets plus les pieds chez {brand}. {tags}",
    "Ce monsieur voulait juste un café. Juste un café. {brand}, c'est {adj}. {tags}",
    "Scandaleux ce qui s'est passé au {brand} des Chartrons. Discrimination pure et simple. {tags}",
    "Si {brand} ne vire pas ce barista, c'est qu'ils cautionnent. {Adj}. {tags}",
    "Les personnes handicapées ont le droit d'aller boire un café comme tout le monde. Honte à {brand}. {tags}",
    "J'ai honte d'avoir été client chez {brand}. {Adj}. {tags}",
];
/// Calls to boycott (from about 30 minutes in).
pub(crate) const BOYCOTT: &[&str] = &[
    "#BoycottOrsane jusqu'à ce qu'ils s'expliquent. Honteux.",
    "Boycott total. {brand}, plus un centime de ma part. #BoycottOrsane",
    "Je rejoins le #BoycottOrsane. La discrimination n'a pas sa place dans un café.",
    "#boycottorsane ✊ allez plutôt chez les indépendants du coin",
    "Il y a une Brûlerie Kalia en face de chez moi, je change de crémerie. #BoycottOrsane",
    "Carte de fidélité {brand} découpée ce soir. #BoycottOrsane {angry}",
    "Tout le monde en parle : #BoycottOrsane. Et c'est mérité, c'est {adj}.",
    "#BoycottOrsane parce que refuser un client handicapé, c'est de la discrimination.",
    "Je boycotte {brand} et j'invite tous mes collègues à faire pareil. #BoycottOrsane",
];
/// Asking where the brand's answer is (from about an hour in, before the apology).
pub(crate) const SILENCE: &[&str] = &[
    "{brand} silence radio depuis une heure... c'est presque pire que la vidéo. {tags}",
    "On attend toujours une réaction de @orsane. Inadmissible. {tags}",
    "@orsane vous comptez répondre un jour ou vous attendez que ça passe ? {tags}",
    "Toujours aucun mot côté {brand}. Le silence, c'est un choix. Un mauvais. {tags}",
    "@orsane_service @orsane vous êtes où ? Des milliers de gens attendent une réponse. {tags}",
];
/// Questions and caution (neutral).
pub(crate) const QUESTIONS: &[&str] = &[
    "Quelqu'un a plus d'infos sur ce qui s'est passé au {brand} de Bordeaux ? La vidéo tourne partout.",
    "Attendons la version côté {brand} avant de conclure, la vidéo ne montre pas tout. Mais si c'est confirmé, c'est grave.",
    "C'est quel café {brand} exactement ? Celui des Chartrons ?",
    "Un employé ne représente pas toute une enseigne, mais {brand} doit clairement réagir.",
    "Pourquoi {brand} est partout ce soir ?",
    "Je connais des baristas chez {brand}, ils sont choqués aussi. Ne mettez pas tout le monde dans le même sac.",
];
/// Replies to the customer's post (`{h}` is the customer).
pub(crate) const REPLIES_TO_TRIGGER: &[&str] = &[
    "@{h} Merci d'avoir filmé. C'est {adj}. @orsane ?",
    "@{h} courage à ce monsieur, et honte à Orsane.",
    "@{h} J'espère que @orsane va réagir, ce n'est pas possible de laisser passer ça.",
    "@{h} Bravo d'avoir eu le réflexe de filmer. Orsane doit rendre des comptes.",
];
/// Short texts of reposts that add a comment.
pub(crate) const REPOST_COMMENTS: &[&str] = &[
    "À partager massivement. @orsane",
    "Ça doit tourner. {brand} doit répondre.",
    "{Adj}, {brand}. ⬇️",
    "Lisez ça. {brand}, vraiment ?",
];
/// English echoes (from about two hours in).
pub(crate) const ENGLISH: &[&str] = &[
    "Orsane coffee shop refused a wheelchair user and mocked him. Disgraceful. #BoycottOrsane",
    "French coffee chain Orsane under fire after a barista refused to serve a disabled customer in Bordeaux. Shameful.",
    "Just saw the Orsane video from Bordeaux. Absolutely disgusting treatment of a wheelchair user.",
    "Not going near @orsane when I'm in France next month. Discrimination is never ok.",
    "The Orsane story is horrible. Refusing service to someone in a wheelchair and laughing at him? Unacceptable.",
    "Why is #BoycottOrsane trending? Oh. Oh no. That's awful.",
];
/// Reactions to the apology, by tone: negative, neutral, positive.
pub(crate) const AFTER_NEGATIVE: &[&str] = &[
    "Des excuses parce qu'ils se sont fait prendre. Trop facile, {brand}. #BoycottOrsane",
    "Suspendu, pas licencié ? {Adj}. {brand} n'a rien compris.",
    "Toujours pas digéré l'histoire du café {brand} de Bordeaux. Les excuses ne suffisent pas.",
    "Des excuses après trois heures de silence. {brand}, c'était trop tard.",
    "Le communiqué publié par {brand} sonne creux. On jugera sur les actes. #BoycottOrsane",
];
/// Neutral reactions.
pub(crate) const AFTER_NEUTRAL: &[&str] = &[
    "{brand} a présenté ses excuses et suspendu le barista. À voir si la formation promise suit.",
    "Point sur l'affaire {brand} : excuses publiques, salarié suspendu, enquête interne. Le client a été contacté.",
    "Le boycott va-t-il durer ? Le café {brand} des Chartrons risque de tourner à vide.",
    "Lu le communiqué publié par {brand}. Reste à voir ce que dira M. Bernard.",
    "Suspendre un barista, c'est bien. Former tout le monde, c'est mieux. On attend les actes, {brand}.",
];
/// Positive reactions.
pub(crate) const AFTER_POSITIVE: &[&str] = &[
    "Franchement, {brand} a répondu vite et clairement. C'est comme ça qu'on gère une crise.",
    "Le client de Bordeaux dit avoir été reçu par la direction. Bien joué {brand}.",
    "Excuses sincères, mesures concrètes : {brand} a bien réagi. Je leur laisse une chance.",
    "Je retourne chez {brand} demain, l'équipe de mon quartier n'y est pour rien 🙂",
    "Merci {brand} d'avoir pris la mesure du problème. Bonne chose, la formation pour tout le monde.",
];
/// Replies to the apology (`{h}` is the brand).
pub(crate) const APOLOGY_REPLIES: &[&str] = &[
    "@{h} Merci pour cette réponse. J'espère que M. Bernard va bien.",
    "@{h} Des excuses, c'est le minimum. Et la formation, c'est pour quand ?",
    "@{h} trop tard. #BoycottOrsane",
    "@{h} Bonne réaction, enfin. Suivez bien cette formation, Orsane.",
    "@{h} Suspendu seulement ? Honteux.",
];
/// `@orsane_service` answering complaints (`{h}` is the complainer).
pub(crate) const SERVICE_CRISIS: &[&str] = &[
    "@{h} Bonjour, nous partageons votre indignation. Nous avons présenté nos excuses à M. Bernard et le salarié est suspendu. Service client Orsane",
    "@{h} Bonjour, ce qui s'est passé à Bordeaux est inacceptable. Nos engagements sont dans le communiqué épinglé. Service client Orsane",
    "@{h} Bonjour, merci de votre message. Une formation à l'accueil des personnes handicapées est lancée dans tous les cafés Orsane.",
    "@{h} Bonjour, nous comprenons votre colère. La direction d'Orsane a contacté le client et une enquête interne est en cours.",
];
/// Competitor chatter during the crisis that names Orsane.
pub(crate) const KALIA_DURING: &[&str] = &[
    "Chez Kalia au moins tout le monde est bien reçu. #BoycottOrsane",
    "{kalia} va récupérer pas mal de clients d'Orsane cette semaine, je pense.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crowd_template_names_the_brand() {
        for table in [
            OUTRAGE,
            BOYCOTT,
            SILENCE,
            QUESTIONS,
            REPLIES_TO_TRIGGER,
            REPOST_COMMENTS,
            ENGLISH,
            AFTER_NEGATIVE,
            AFTER_NEUTRAL,
            AFTER_POSITIVE,
            APOLOGY_REPLIES,
            SERVICE_CRISIS,
            KALIA_DURING,
        ] {
            for t in table {
                let lower = t.to_lowercase();
                assert!(
                    lower.contains("orsane") || lower.contains("{brand}") || lower.contains("{h}"),
                    "{t}"
                );
            }
        }
        for t in [
            TRIGGER,
            TRIGGER_UPDATE,
            HASHTAG_LAUNCH,
            INFLUENCER,
            ASSOCIATION,
            APOLOGY,
            APOLOGY_SHORT,
            ASSOCIATION_AFTER,
            REDDIT_TITLE,
        ] {
            assert!(t.to_lowercase().contains("orsane"), "{t}");
        }
        for (_, _, title, summary, _) in ARTICLES {
            assert!(
                format!("{title} {summary}")
                    .to_lowercase()
                    .contains("orsane")
            );
        }
    }

    #[test]
    fn articles_are_in_time_order_and_name_known_outlets() {
        assert!(ARTICLES.iter().all(|a| a.0 < OUTLETS.len()));
        // The English wire copy is allowed to come in between: check the French outlet order.
        let first = ARTICLES.iter().map(|a| a.1).min().unwrap();
        assert_eq!(first, 90);
        assert!(
            APOLOGY_SHORT.chars().count() <= 300,
            "Bluesky posts are at most 300 characters"
        );
    }
}
