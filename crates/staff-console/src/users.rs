//! `create-user`: an account from the command line, its password from the terminal (asked
//! twice) or from standard input's first line, never from an argument.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use store::staff::Saved;

use crate::config::CreateUserArgs;
use crate::password;

/// Creates the account, or gives an existing one the new password and role; prints what
/// it did.
pub async fn create_user(args: CreateUserArgs) -> anyhow::Result<()> {
    let email = args.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        bail!("--email {email:?} is not an e-mail address");
    }
    let password = read_password()?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&password)).await??;
    let pool = store::build_pool(args.db.database_url.expose(), &args.db.pool_settings("staff-console"))?;
    store::migrations::refuse_if_behind(&pool).await.context("database is not ready for this version")?;
    let (id, saved) = store::staff::save_user(&pool, None, &email, &hash, args.role.into()).await?;
    let role = store::StaffRole::from(args.role);
    match saved {
        Saved::Created => println!("created {role} account {id} for {email}"),
        Saved::Updated => println!("account {id} for {email} now has the new password and is {role}"),
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}
