//! `vigie token create|list|revoke`: API tokens for a user. The secret is printed once and
//! only its SHA-256 digest is stored.

use super::{load_config, open_store};
use crate::cli::ConfigArgs;
use anyhow::Context;
use clap::Subcommand;
use std::process::ExitCode;
use vigie_model::{Clock, SystemClock};
use vigie_store::{ApiTokenRecord, TokenScope};

/// `vigie token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token for a user and prints it once.
    Create {
        /// The user's login.
        #[arg(long)]
        user: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
        /// read (GET only) or write.
        #[arg(long, default_value = "read")]
        scope: String,
        /// Configuration and database.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Lists a user's tokens (never their secrets).
    List {
        /// The user's login.
        #[arg(long)]
        user: String,
        /// Configuration and database.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Revokes a token by id.
    Revoke {
        /// The user's login.
        #[arg(long)]
        user: String,
        /// Token id (from `vigie token list`).
        id: i64,
        /// Configuration and database.
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs `vigie token …`.
pub async fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let (user, config) = match &cmd {
        TokenCommand::Create { user, config, .. }
        | TokenCommand::List { user, config }
        | TokenCommand::Revoke { user, config, .. } => (user.clone(), config.clone()),
    };
    let cfg = load_config(&config)?;
    let store = open_store(&config, &cfg).await?;
    let accounts = store.accounts();
    let u = accounts
        .user_by_login(&user)
        .await?
        .with_context(|| format!("no user {user:?} (create one with `vigie user add`)"))?;
    match cmd {
        TokenCommand::Create { name, scope, .. } => {
            let scope = TokenScope::parse(&scope)
                .with_context(|| format!("invalid scope {scope:?}: expected read or write"))?;
            let (secret, hash) = vigie_web::auth::new_api_token()?;
            let id = accounts
                .create_api_token(&ApiTokenRecord {
                    id: 0,
                    token_hash: hash,
                    user_id: u.id,
                    name: name.clone(),
                    scope,
                    created_at: SystemClock.now(),
                    last_used_at: None,
                    revoked_at: None,
                })
                .await?;
            eprintln!(
                "created token {id} ({name}, {}) for {user}; it is shown once:",
                scope.as_str()
            );
            println!("{secret}");
        }
        TokenCommand::List { .. } => {
            for t in accounts.list_api_tokens(u.id).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.scope.as_str(),
                    t.created_at,
                    t.revoked_at
                        .map_or_else(|| "active".to_owned(), |r| format!("revoked {r}"))
                );
            }
        }
        TokenCommand::Revoke { id, .. } => {
            if accounts
                .revoke_api_token(u.id, id, SystemClock.now())
                .await?
            {
                println!("revoked token {id}");
            } else {
                anyhow::bail!("{user} has no active token {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
