//! `mpcw dapp new`: register a Dapp. It makes the Dapp's API secret, prints it once, and prints
//! the configuration entry, which holds only the secret's SHA-256.

use mpcw_host::auth::dapps::{new_secret, DappConfig, Dapps};

/// Options of `mpcw dapp`.
#[derive(clap::Args)]
pub struct DappArgs {
    #[command(subcommand)]
    command: DappCommand,
}

#[derive(clap::Subcommand)]
enum DappCommand {
    /// Make a Dapp's API secret and its `[[dapps]]` configuration entry.
    New {
        /// Short id: lower-case letters, digits and '-'.
        #[arg(long)]
        id: String,
        /// Display name shown to users.
        #[arg(long)]
        name: String,
        /// A browser origin allowed to log users in for the Dapp (repeatable).
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Where the bridge posts the Dapp's results.
        #[arg(long)]
        callback: Option<String>,
    },
}

/// TOML's basic string of `s` (JSON's escapes are TOML's).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// Run `mpcw dapp …`.
pub fn run(args: DappArgs) -> anyhow::Result<()> {
    let DappCommand::New {
        id,
        name,
        origins,
        callback,
    } = args.command;
    let (secret, hash) = new_secret();
    let entry = DappConfig {
        id,
        name,
        allowed_origins: origins,
        callback_url: callback,
        api_secret_sha256: hash,
    };
    // The same checks the server makes when it starts.
    Dapps::new(std::slice::from_ref(&entry))?;
    println!(
        "API secret of {} (shown only now; give it to the Dapp's server):",
        entry.id
    );
    println!("  {}", secret.as_str());
    println!();
    println!("Add this to the server's configuration:");
    println!();
    println!("[[dapps]]");
    println!("id = {}", quoted(&entry.id));
    println!("name = {}", quoted(&entry.name));
    let origins: Vec<String> = entry.allowed_origins.iter().map(|o| quoted(o)).collect();
    println!("allowed_origins = [{}]", origins.join(", "));
    if let Some(c) = &entry.callback_url {
        println!("callback_url = {}", quoted(c));
    }
    println!("api_secret_sha256 = {}", quoted(&entry.api_secret_sha256));
    Ok(())
}
