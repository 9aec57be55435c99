//! French and English strings of the pages. Each user chooses a language in the settings;
//! before signing in, the browser's `Accept-Language` decides.

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
}

impl Lang {
    /// `fr` gives French, anything else English.
    pub fn from_code(code: &str) -> Self {
        if code.eq_ignore_ascii_case("fr") || code.to_ascii_lowercase().starts_with("fr-") {
            Self::Fr
        } else {
            Self::En
        }
    }
    /// The first supported language of an `Accept-Language` header (English otherwise).
    pub fn from_accept_language(header: Option<&str>) -> Self {
        header
            .unwrap_or_default()
            .split(',')
            .map(|part| part.split(';').next().unwrap_or_default().trim())
            .find_map(|code| {
                let c = code.to_ascii_lowercase();
                if c.starts_with("fr") {
                    Some(Self::Fr)
                } else if c.starts_with("en") {
                    Some(Self::En)
                } else {
                    None
                }
            })
            .unwrap_or(Self::En)
    }
    /// `en` or `fr`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }
}

/// The strings of one language, used in templates as `tr.s("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; `?key?` for a key missing from the table (a test checks that every
    /// key used in the templates exists in both languages).
    pub fn s(&self, key: &str) -> &'static str {
        STRINGS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("??", |(_, en, fr)| match self.0 {
                Lang::En => en,
                Lang::Fr => fr,
            })
    }
    /// The language code for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    /// The name of a crisis level 0–3.
    pub fn level(&self, level: impl std::borrow::Borrow<u8>) -> &'static str {
        self.s(match *level.borrow() {
            0 => "level0",
            1 => "level1",
            2 => "level2",
            _ => "level3",
        })
    }
}

/// `(key, English, French)`.
pub const STRINGS: &[(&str, &str, &str)] = &[
    (
        "app_tagline",
        "Social-media crisis lookout",
        "Vigie de crise sur les réseaux sociaux",
    ),
    ("skip", "Skip to content", "Aller au contenu"),
    ("sign_in", "Sign in", "Se connecter"),
    ("sign_out", "Sign out", "Se déconnecter"),
    ("login", "Login", "Identifiant"),
    ("password", "Password", "Mot de passe"),
    (
        "totp_code",
        "Authentication code (if enabled)",
        "Code d'authentification (si activé)",
    ),
    (
        "session_expired",
        "Your session has expired. Please sign in again.",
        "Votre session a expiré. Reconnectez-vous.",
    ),
    (
        "bad_login",
        "Wrong login, password or code.",
        "Identifiant, mot de passe ou code incorrect.",
    ),
    (
        "throttled",
        "Too many failed attempts. Try again in a few minutes.",
        "Trop d'échecs. Réessayez dans quelques minutes.",
    ),
    (
        "plain_http_warning",
        "This address is plain HTTP: your browser will not keep the session cookie, so signing in cannot work. Open Vigie through HTTPS (a reverse proxy), on localhost, or set server.secure_cookies = \"never\" on a trusted network.",
        "Cette adresse est en HTTP simple : le navigateur ne gardera pas le cookie de session et la connexion ne peut pas aboutir. Ouvrez Vigie en HTTPS (derrière un proxy), sur localhost, ou réglez server.secure_cookies = \"never\" sur un réseau de confiance.",
    ),
    (
        "csrf_login",
        "The form expired. Please try again.",
        "Le formulaire a expiré. Réessayez.",
    ),
    ("dashboard", "Dashboard", "Tableau de bord"),
    ("mentions", "Mentions", "Mentions"),
    ("settings", "Settings", "Réglages"),
    ("workspace_settings", "Workspace", "Espace"),
    ("watches", "Watches", "Veilles"),
    ("level", "Level", "Niveau"),
    ("since", "since", "depuis"),
    ("level0", "Calm", "Calme"),
    ("level1", "Vigilance", "Vigilance"),
    ("level2", "Alert", "Alerte"),
    ("level3", "Crisis", "Crise"),
    (
        "volume_sentiment",
        "Volume and sentiment over time",
        "Volume et tonalité dans le temps",
    ),
    (
        "chart_help",
        "Bars of mentions per period; red line: negative mentions; dashed lines: level changes.",
        "Mentions par période ; ligne rouge : mentions négatives ; traits pointillés : changements de niveau.",
    ),
    ("level_changes", "Level changes", "Changements de niveau"),
    ("top_terms", "Top terms", "Termes principaux"),
    ("top_hashtags", "Top hashtags", "Hashtags principaux"),
    (
        "top_authors",
        "Top authors by reach",
        "Auteurs principaux par audience",
    ),
    ("share_of_voice", "Share of voice", "Part de voix"),
    ("total", "Total", "Total"),
    ("negative", "Negative", "Négatif"),
    ("neutral", "Neutral", "Neutre"),
    ("positive", "Positive", "Positif"),
    ("any", "Any", "Tous"),
    ("live", "Live", "En direct"),
    (
        "no_data",
        "No mentions yet.",
        "Aucune mention pour l'instant.",
    ),
    ("query", "Query", "Requête"),
    (
        "query_help",
        "Boolean query: AND, OR, NOT, \"phrases\", NEAR/n, wildcards*, author:, lang:, followers:>N",
        "Requête booléenne : AND, OR, NOT, \"phrases\", NEAR/n, jokers*, author:, lang:, followers:>N",
    ),
    ("watch", "Watch", "Veille"),
    ("sentiment", "Sentiment", "Tonalité"),
    ("language", "Language", "Langue"),
    ("search", "Search", "Rechercher"),
    ("next_page", "Older mentions", "Mentions plus anciennes"),
    (
        "why_sentiment",
        "Why this sentiment",
        "Pourquoi cette tonalité",
    ),
    (
        "words_counted",
        "Words that weigh, per the sentiment lexicon (the label above comes from the trained model)",
        "Mots qui pèsent, selon le lexique de sentiment (l'étiquette ci-dessus vient du modèle entraîné)",
    ),
    ("rules_fired", "Rules", "Règles"),
    ("score", "score", "score"),
    ("confidence", "confidence", "confiance"),
    ("reach", "reach", "audience"),
    ("followers", "followers", "abonnés"),
    ("open_source", "Open the original", "Ouvrir l'original"),
    ("matched_watches", "Watches", "Veilles"),
    ("edit_watch", "Edit watch", "Modifier la veille"),
    ("name", "Name", "Nom"),
    (
        "languages",
        "Languages (comma-separated codes)",
        "Langues (codes séparés par des virgules)",
    ),
    ("save", "Save", "Enregistrer"),
    ("saved", "Saved.", "Enregistré."),
    (
        "preview",
        "Preview of matches",
        "Aperçu des correspondances",
    ),
    (
        "preview_count",
        "matches among the most recent mentions",
        "correspondances parmi les mentions récentes",
    ),
    ("query_ok", "Valid query", "Requête valide"),
    ("query_error", "Error", "Erreur"),
    (
        "watch_restart_note",
        "Saved watches are stored; the running pipeline applies a changed query after a restart, and a watch defined in the configuration file takes that file's value again at the next start.",
        "Les veilles enregistrées sont conservées ; le pipeline en cours applique une requête modifiée après un redémarrage, et une veille définie dans le fichier de configuration reprend la valeur du fichier au prochain démarrage.",
    ),
    ("preferences", "Preferences", "Préférences"),
    (
        "time_zone",
        "Time zone (e.g. Europe/Paris)",
        "Fuseau horaire (ex. Europe/Paris)",
    ),
    (
        "change_password",
        "Change password",
        "Changer le mot de passe",
    ),
    (
        "current_password",
        "Current password",
        "Mot de passe actuel",
    ),
    (
        "new_password",
        "New password (10 characters or more)",
        "Nouveau mot de passe (10 caractères ou plus)",
    ),
    (
        "two_factor",
        "Two-factor authentication (TOTP)",
        "Double authentification (TOTP)",
    ),
    ("totp_on", "Enabled.", "Activée."),
    ("totp_off", "Not enabled.", "Non activée."),
    ("totp_enable", "Enable", "Activer"),
    ("totp_disable", "Disable", "Désactiver"),
    (
        "totp_setup",
        "Add this secret to your authenticator app, then type the code it shows.",
        "Ajoutez ce secret à votre application d'authentification, puis saisissez le code affiché.",
    ),
    ("api_tokens", "API tokens", "Jetons d'API"),
    ("token_name", "Token name", "Nom du jeton"),
    ("scope", "Scope", "Portée"),
    ("create", "Create", "Créer"),
    ("revoke", "Revoke", "Révoquer"),
    ("revoked", "revoked", "révoqué"),
    (
        "token_once",
        "Copy this token now: it will not be shown again.",
        "Copiez ce jeton maintenant : il ne sera plus affiché.",
    ),
    ("members", "Members and roles", "Membres et rôles"),
    ("role", "Role", "Rôle"),
    (
        "add_member",
        "Add or change a member",
        "Ajouter ou modifier un membre",
    ),
    ("remove", "Remove", "Retirer"),
    ("sources", "Sources", "Sources"),
    (
        "notifiers",
        "Notification channels",
        "Canaux de notification",
    ),
    ("none", "None.", "Aucun."),
    ("created", "created", "créé"),
    ("last_used", "last used", "dernière utilisation"),
    ("never", "never", "jamais"),
    (
        "read_only_role",
        "Only admins can change members.",
        "Seuls les admins peuvent modifier les membres.",
    ),
    ("menu", "Menu", "Menu"),
    (
        "mentions_scanned",
        "mentions in the window",
        "mentions dans la période",
    ),
    ("activate", "Activate", "Activer"),
    ("add_note", "Add note", "Ajouter la note"),
    ("all", "All", "Tous"),
    ("approve", "Approve", "Valider"),
    ("assign", "Assign", "Attribuer"),
    ("assignee", "Assignee", "Responsable"),
    (
        "close_room",
        "Close the crisis room",
        "Fermer la cellule de crise",
    ),
    ("closed", "closed", "fermé"),
    ("closing", "Closing", "Clôture"),
    ("closing_note", "Closing note", "Note de clôture"),
    ("comment", "Comment", "Commentaire"),
    ("crisis_room", "Crisis room", "Cellule de crise"),
    ("decisions", "Decisions", "Décisions"),
    ("drafts", "Drafts", "Brouillons"),
    ("due", "due", "échéance"),
    ("filter", "Filter", "Filtrer"),
    ("inbox", "Inbox", "Boîte de réception"),
    (
        "inbox_empty",
        "Nothing waits for an answer.",
        "Rien n'attend de réponse.",
    ),
    ("incident", "Incident", "Incident"),
    ("incidents", "Incidents", "Incidents"),
    ("late", "late", "en retard"),
    ("live_figures", "Live figures", "Chiffres en direct"),
    ("mark_done", "Done", "Fait"),
    (
        "mark_sent",
        "Mark as sent by hand",
        "Marquer comme envoyé à la main",
    ),
    ("new_decision", "New decision", "Nouvelle décision"),
    (
        "no_incidents",
        "No incident so far.",
        "Aucun incident pour l'instant.",
    ),
    ("note", "Internal note", "Note interne"),
    (
        "open_room",
        "Open the crisis room",
        "Ouvrir la cellule de crise",
    ),
    ("opened", "opened", "ouverte"),
    ("peak", "peak", "pic"),
    ("policy", "policy", "charte"),
    ("posture", "Posture", "Posture"),
    ("priority", "priority", "priorité"),
    ("priority_formula", "Priority", "Priorité"),
    (
        "proposed_scenarios",
        "Proposed scenarios",
        "Scénarios proposés",
    ),
    ("published", "Published", "Publié"),
    ("reason", "Reason (to ignore)", "Motif (pour ignorer)"),
    ("record", "Record", "Consigner"),
    ("reopen", "Reopen", "Rouvrir"),
    ("return", "Return with comment", "Renvoyer avec commentaire"),
    ("reviews", "Reviews", "Relectures"),
    ("room_open", "open", "ouverte"),
    ("scenario", "Scenario", "Scénario"),
    (
        "sent_link",
        "Link of the post sent by hand",
        "Lien du message envoyé à la main",
    ),
    ("spokesperson", "Spokesperson", "Porte-parole"),
    ("status", "Status", "Statut"),
    (
        "submit_for_approval",
        "Check and submit for approval",
        "Vérifier et soumettre à validation",
    ),
    ("task", "Task", "Tâche"),
    ("tasks", "Tasks", "Tâches"),
    ("text", "Text", "Texte"),
    ("timeline", "Timeline", "Chronologie"),
    (
        "room_activated",
        "The scenario is activated: tasks, drafts and the inbox are ready, and the people holding its roles are notified.",
        "Le scénario est activé : tâches, brouillons et boîte de réception sont prêts, et les personnes qui en tiennent les rôles sont prévenues.",
    ),
    (
        "draft_blocked",
        "The policy blocks this draft: see the findings, correct it and submit again.",
        "La charte bloque ce brouillon : voyez les points relevés, corrigez-le et soumettez-le à nouveau.",
    ),
    (
        "room_mentions",
        "Mentions since the incident opened",
        "Mentions depuis l'ouverture de l'incident",
    ),
    ("room_negative", "of which negative", "dont négatives"),
    (
        "room_open_items",
        "Open inbox items",
        "Éléments ouverts dans la boîte",
    ),
    ("room_late_items", "past their due time", "hors délai"),
    ("room_tasks", "Tasks done", "Tâches faites"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_chosen() {
        assert_eq!(Lang::from_code("fr"), Lang::Fr);
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("de-DE,fr;q=0.8,en;q=0.5")),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language(Some("en-GB")), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
    }

    #[test]
    fn every_key_is_unique_and_translated() {
        for (i, (k, en, fr)) in STRINGS.iter().enumerate() {
            assert!(!en.is_empty() && !fr.is_empty(), "{k}");
            assert!(
                STRINGS[i + 1..].iter().all(|(k2, _, _)| k2 != k),
                "duplicate {k}"
            );
        }
    }

    #[test]
    fn every_key_used_in_templates_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text.split("tr.s(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                assert!(
                    STRINGS.iter().any(|(k, _, _)| *k == key),
                    "{key} in {}",
                    entry.path().display()
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} keys found");
    }
}
