//! `wangge user add|list|disable|enable|password|token`: accounts from the
//! command line, for the operator who runs the server (the first admin is
//! made by `serve`; these make the rest, or recover a locked-out admin).
//! Every change is recorded in the audit trail as made by `cli`.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::model::account::{Capability, Role, Scope, UserDraft};
use crate::services::accounts::{Accounts, Actor, UserChange};

/// `wangge user …`.
#[derive(Debug, Args)]
pub(super) struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input (one line),
    /// or made up and printed when --generate-password is given.
    Add {
        /// The login name.
        login: String,
        /// admin, planner, dispatcher, grid_leader, grid_member, department or viewer.
        #[arg(long)]
        role: String,
        /// county, grid:ID or department:NAME.
        #[arg(long, default_value = "county")]
        scope: String,
        /// The name shown to others (defaults to the login).
        #[arg(long, default_value = "")]
        name: String,
        /// Make up a password and print it once.
        #[arg(long)]
        generate_password: bool,
    },
    /// List the users.
    List,
    /// Disable a user: they cannot log in, and their sessions and tokens stop.
    Disable {
        /// The login name.
        login: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The login name.
        login: String,
    },
    /// Set a user's password (read from standard input); ends their sessions.
    Password {
        /// The login name.
        login: String,
    },
    /// Issue a bearer token (for an integration; Open311 clients send it as
    /// api_key) and print it once.
    Token {
        /// The login name.
        login: String,
        /// How many days it lasts.
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// What it is for.
        #[arg(long, default_value = "")]
        label: String,
        /// Limit it to these capabilities (repeat, or comma-separate), e.g.
        /// report; all the role allows when not given.
        #[arg(long, value_delimiter = ',')]
        capability: Vec<String>,
    },
}

/// Run a `user` command against the database.
pub(super) async fn run(database: &str, args: UserArgs) -> anyhow::Result<()> {
    let store = super::open_store(database).await?;
    let accounts = Accounts::new(store);
    let actor = Actor {
        login: "cli".into(),
        source: String::new(),
    };
    match args.command {
        UserCommand::Add {
            login,
            role,
            scope,
            name,
            generate_password,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "{role:?} is not a role; one of {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })?;
            let scope = Scope::decode(&scope).with_context(|| {
                format!("{scope:?} is not a scope: county, grid:ID or department:NAME")
            })?;
            if let Scope::Grid(id) = &scope {
                let store = super::open_store(database).await?;
                if store.grid(id).await?.is_none() {
                    bail!("there is no grid {id}");
                }
            }
            let password = if generate_password {
                let made = crate::services::accounts::one_time_password();
                println!("password for {login}: {made}");
                made
            } else {
                read_password()?
            };
            let draft = UserDraft {
                login,
                display_name: name,
                role,
                scope,
            };
            let user = accounts.create_user(draft, &password, &actor).await?;
            println!(
                "created user {} ({}) as {} in {}",
                user.id, user.login, user.role, user.scope
            );
        }
        UserCommand::List => {
            println!("id\tlogin\trole\tscope\tdisabled\tname");
            for u in accounts.users().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.id, u.login, u.role, u.scope, u.disabled, u.display_name
                );
            }
        }
        UserCommand::Disable { login } => {
            set_disabled(&accounts, &login, true, &actor).await?;
            println!("disabled {login}; their sessions and tokens no longer work");
        }
        UserCommand::Enable { login } => {
            set_disabled(&accounts, &login, false, &actor).await?;
            println!("enabled {login}");
        }
        UserCommand::Password { login } => {
            let user = find(&accounts, &login).await?;
            let password = read_password()?;
            accounts
                .change_user(
                    user.id,
                    UserChange {
                        password: Some(password),
                        ..UserChange::default()
                    },
                    user.version,
                    &actor,
                )
                .await?;
            println!("password of {login} set; their sessions and tokens were ended");
        }
        UserCommand::Token {
            login,
            days,
            label,
            capability,
        } => {
            let user = find(&accounts, &login).await?;
            let capabilities = capability
                .iter()
                .map(|name| {
                    Capability::parse(name).with_context(|| format!("{name:?} is not a capability"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (secret, token) = accounts
                .issue_token(user.id, &label, days, &capabilities, &actor)
                .await?;
            println!("{secret}");
            eprintln!(
                "token {} for {login}, valid until {} (shown only now)",
                token.id, token.expires_at
            );
        }
    }
    Ok(())
}

async fn find(accounts: &Accounts, login: &str) -> anyhow::Result<crate::model::account::User> {
    accounts
        .user_by_login(login)
        .await?
        .with_context(|| format!("there is no user {login:?}"))
}

async fn set_disabled(
    accounts: &Accounts,
    login: &str,
    disabled: bool,
    actor: &Actor,
) -> anyhow::Result<()> {
    let user = find(accounts, login).await?;
    accounts
        .change_user(
            user.id,
            UserChange {
                disabled: Some(disabled),
                ..UserChange::default()
            },
            user.version,
            actor,
        )
        .await?;
    Ok(())
}

/// One line of standard input, without its line end.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password (at least 10 characters): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input (or use --generate-password)");
    }
    Ok(password)
}
