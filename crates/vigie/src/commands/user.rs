//! `vigie user add|list|role`: web users and their role in each workspace, from the command
//! line (the first admin is created this way).

use super::{load_config, open_store};
use crate::cli::ConfigArgs;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::process::ExitCode;
use vigie_model::{Clock, SystemClock, WorkspaceId};
use vigie_store::{NewUser, Role};

/// `vigie user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a user with a role in one or more workspaces. The password is read from
    /// `--password-stdin` or generated and printed once.
    Add(UserAddArgs),
    /// Lists users and their roles.
    List {
        /// Configuration and database.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Gives a user a role in a workspace (`--role none` removes them).
    Role {
        /// The user's login.
        login: String,
        /// Workspace id.
        #[arg(short, long)]
        workspace: String,
        /// admin, manager, responder, viewer or none.
        #[arg(long)]
        role: String,
        /// Configuration and database.
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// `vigie user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// Login (an e-mail address or a short name).
    pub login: String,
    /// Workspace(s) to join; repeat the option for several. Default: every configured one.
    #[arg(short, long)]
    pub workspace: Vec<String>,
    /// admin, manager, responder or viewer.
    #[arg(long, default_value = "admin")]
    pub role: String,
    /// Name shown in the UI (default: the login).
    #[arg(long)]
    pub name: Option<String>,
    /// fr or en.
    #[arg(long, default_value = "fr")]
    pub locale: String,
    /// IANA time zone.
    #[arg(long, default_value = "Europe/Paris")]
    pub time_zone: String,
    /// Read the password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
    /// Configuration and database.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Runs `vigie user …`.
pub async fn run(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add(args) => add(args).await,
        UserCommand::List { config } => {
            let cfg = load_config(&config)?;
            let store = open_store(&config, &cfg).await?;
            let accounts = store.accounts();
            for u in accounts.list_users().await? {
                let roles = accounts.roles_of(u.id).await?;
                let roles: Vec<String> = roles
                    .iter()
                    .map(|(w, r)| format!("{w}:{}", r.as_str()))
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    u.login,
                    u.display_name,
                    if u.totp_secret.is_some() { "totp" } else { "-" },
                    roles.join(",")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Role {
            login,
            workspace,
            role,
            config,
        } => {
            let cfg = load_config(&config)?;
            let store = open_store(&config, &cfg).await?;
            let ws = WorkspaceId::new(&workspace)
                .map_err(|e| anyhow::anyhow!("invalid workspace {workspace:?}: {e}"))?;
            let user = store
                .accounts()
                .user_by_login(&login)
                .await?
                .with_context(|| format!("no user {login:?}"))?;
            if role == "none" {
                store.accounts().remove_role(user.id, &ws).await?;
                println!("{login} removed from {ws}");
            } else {
                let r = parse_role(&role)?;
                store.accounts().set_role(user.id, &ws, r).await?;
                println!("{login} is {} of {ws}", r.as_str());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_role(s: &str) -> anyhow::Result<Role> {
    Role::parse(s).with_context(|| {
        format!("invalid role {s:?}: expected admin, manager, responder or viewer")
    })
}

/// Creates a user; returns the password when it was generated.
pub async fn create_user(
    store: &dyn vigie_store::Store,
    login: &str,
    display_name: &str,
    password: Option<String>,
    locale: &str,
    time_zone: &str,
    roles: &[(WorkspaceId, Role)],
) -> anyhow::Result<(i64, Option<String>)> {
    let login = login.trim();
    if login.is_empty() || login.chars().count() > 200 || login.chars().any(char::is_whitespace) {
        bail!("invalid login {login:?}: 1 to 200 characters, no spaces");
    }
    if !matches!(locale, "fr" | "en") {
        bail!("invalid locale {locale:?}: expected fr or en");
    }
    let (password, generated) = match password {
        Some(p) => (p, None),
        None => {
            let p = vigie_web::auth::random_secret()?;
            let short: String = p
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect();
            (short.clone(), Some(short))
        }
    };
    let hash = vigie_web::auth::hash_password(&password)?;
    let id = store
        .accounts()
        .create_user(
            &NewUser {
                login: login.to_owned(),
                display_name: display_name.to_owned(),
                password_hash: hash,
                locale: locale.to_owned(),
                time_zone: time_zone.to_owned(),
            },
            SystemClock.now(),
        )
        .await?;
    for (ws, role) in roles {
        store.accounts().set_role(id, ws, *role).await?;
    }
    Ok((id, generated))
}

async fn add(args: UserAddArgs) -> anyhow::Result<ExitCode> {
    let cfg = load_config(&args.config)?;
    let role = parse_role(&args.role)?;
    let workspaces: Vec<WorkspaceId> = if args.workspace.is_empty() {
        cfg.workspaces.iter().map(|w| w.id.clone()).collect()
    } else {
        args.workspace
            .iter()
            .map(|w| {
                WorkspaceId::new(w).map_err(|e| anyhow::anyhow!("invalid workspace {w:?}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    for ws in &workspaces {
        if cfg.workspace(ws).is_none() {
            bail!("workspace {ws} is not in the configuration");
        }
    }
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let store = open_store(&args.config, &cfg).await?;
    let roles: Vec<(WorkspaceId, Role)> = workspaces.iter().map(|w| (w.clone(), role)).collect();
    let name = args.name.clone().unwrap_or_else(|| args.login.clone());
    let (_, generated) = create_user(
        store.as_ref(),
        &args.login,
        &name,
        password,
        &args.locale,
        &args.time_zone,
        &roles,
    )
    .await?;
    let list: Vec<String> = workspaces.iter().map(ToString::to_string).collect();
    println!(
        "created user {} ({} of {})",
        args.login,
        role.as_str(),
        list.join(", ")
    );
    if let Some(p) = generated {
        println!("password: {p}");
        println!("(shown once; change it in Settings after signing in)");
    }
    Ok(ExitCode::SUCCESS)
}
