//! `mpcw device …`: the user's device as a party, from a terminal.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Subcommand;
use mpcw_engine::vault::KdfParams;
use mpcw_engine::Scheme;
use mpcw_host::chains::Registry;
use mpcw_host::device::{self, Client, DeviceFile, LocalShare};
use mpcw_host::plugin::{Limits, Runtime};
use serde::{Deserialize, Serialize};

/// Options of `mpcw device`.
#[derive(clap::Args)]
pub struct DeviceArgs {
    /// Directory for the login and the sealed shares.
    #[arg(
        long,
        env = "MPCW_DEVICE_HOME",
        default_value = "mpcw-device",
        global = true
    )]
    home: PathBuf,
    /// The server.
    #[arg(
        long,
        env = "MPCW_SERVER",
        default_value = "http://127.0.0.1:8420",
        global = true
    )]
    server: String,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Log in (development login: any subject; the server must allow it).
    Login {
        /// Who to be.
        #[arg(long)]
        subject: String,
    },
    /// Create a wallet by distributed key generation with the server. This device holds party
    /// 0, the server party 1, and every other party is a recovery share written to its own
    /// file sealed under the recovery password.
    CreateWallet {
        /// ecdsa (secp256k1), ed25519 or schnorr (BIP-340).
        #[arg(long, default_value = "ecdsa")]
        scheme: String,
        /// Parties needed to sign.
        #[arg(long, default_value_t = 2)]
        threshold: u16,
        /// Parties holding shares.
        #[arg(long, default_value_t = 3)]
        parties: u16,
        /// A name for the wallet.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        passwords: Passwords,
    },
    /// List this login's wallets.
    Wallets,
    /// Show a wallet's addresses on every network of its scheme.
    Addresses {
        /// Wallet id.
        #[arg(long)]
        wallet: String,
    },
    /// Recover after losing the device: the recovery share and the server reshare the key to
    /// this device (new identity keys), keeping the key and every address; the old device's
    /// share stops working. Writes a new device share and a new recovery share.
    Recover {
        /// Wallet id.
        #[arg(long)]
        wallet: String,
        #[command(flatten)]
        passwords: Passwords,
    },
    /// Refresh the shares: device, server and recovery share get new shares of the same key
    /// (old shares stop working).
    Refresh {
        /// Wallet id.
        #[arg(long)]
        wallet: String,
        #[command(flatten)]
        passwords: Passwords,
    },
    /// Sign a chain request (JSON file as the network's plugin documents it) with the server.
    Sign {
        /// Wallet id.
        #[arg(long)]
        wallet: String,
        /// Network id (see `mpcw plugins`).
        #[arg(long)]
        chain: String,
        /// The request file.
        #[arg(long)]
        request: PathBuf,
        /// Password of this device's share.
        #[arg(long, env = "MPCW_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// The two passwords: the device share's and the recovery shares'.
#[derive(clap::Args)]
struct Passwords {
    /// Password sealing this device's share.
    #[arg(long, env = "MPCW_PASSWORD", hide_env_values = true)]
    password: String,
    /// Password sealing the recovery shares.
    #[arg(long, env = "MPCW_RECOVERY_PASSWORD", hide_env_values = true)]
    recovery_password: String,
}

#[derive(Serialize, Deserialize)]
struct Login {
    server: String,
    subject: String,
    access_token: String,
    expires_at: i64,
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}

fn logged_in(args: &DeviceArgs) -> anyhow::Result<Client> {
    let path = args.home.join("login.json");
    let login: Login = serde_json::from_slice(
        &std::fs::read(&path).context("not logged in: run `mpcw device login` first")?,
    )?;
    Ok(Client::new(login.server).with_token(login.access_token))
}

fn share_path(home: &Path, wallet: &str, what: &str) -> PathBuf {
    home.join(format!("{wallet}.{what}.json"))
}

/// Seal each share in its file: party 0 under the device password, the others (recovery
/// shares) under the recovery password.
fn save_shares(
    args: &DeviceArgs,
    client: &Client,
    wallet: &mpcw_host::api::WalletView,
    shares: Vec<device::NewShare>,
    password: &str,
    recovery_password: &str,
) -> anyhow::Result<()> {
    save_shares_as(
        args,
        client,
        wallet,
        shares,
        (password, recovery_password),
        "",
    )
}

/// [`save_shares`] with `suffix` after each file's share name (`.pending` for shares the server
/// has not confirmed).
fn save_shares_as(
    args: &DeviceArgs,
    client: &Client,
    wallet: &mpcw_host::api::WalletView,
    shares: Vec<device::NewShare>,
    (password, recovery_password): (&str, &str),
    suffix: &str,
) -> anyhow::Result<()> {
    for s in shares {
        let (what, pw) = if s.index == 0 {
            (format!("device{suffix}"), password)
        } else {
            (format!("recovery-{}{suffix}", s.index), recovery_password)
        };
        let local = LocalShare {
            index: s.index,
            keys: s.keys,
            share: s.share,
        };
        let file = DeviceFile::seal(
            client.base(),
            wallet,
            &local,
            pw.as_bytes(),
            KdfParams::default(),
        )?;
        let path = share_path(&args.home, &wallet.id, &what);
        file.write(&path)?;
        println!("• party {} share sealed in {}", s.index, path.display());
    }
    Ok(())
}

/// A resharing's result, or, if the server did not confirm it, the new shares kept as
/// `.pending` files beside the current ones (with the public shares they make in their wallet
/// record) and an error saying so; [`settle_pending`] later keeps whichever the server holds.
fn reshared_or_pending(
    args: &DeviceArgs,
    client: &Client,
    current: &mpcw_host::api::WalletView,
    result: Result<(mpcw_host::api::WalletView, Vec<device::NewShare>), device::DeviceError>,
    passwords: (&str, &str),
) -> anyhow::Result<(mpcw_host::api::WalletView, Vec<device::NewShare>)> {
    match result {
        Ok(done) => Ok(done),
        Err(device::DeviceError::Unconfirmed { shares, reason, .. }) => {
            let mut expected = current.clone();
            if let (Some(info), Some(first)) = (expected.public_key.as_mut(), shares.first()) {
                info.public_shares = first.share.public_info().public_shares;
            }
            save_shares_as(args, client, &expected, shares, passwords, ".pending")?;
            bail!(
                "the server did not confirm the new shares ({reason}); they are kept beside the \
                 current ones, and the next command on this wallet keeps whichever the server holds"
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Settle `.pending` shares of `wallet` (from a resharing the server did not confirm): those the
/// server now holds replace the current files; the others are removed.
async fn settle_pending(args: &DeviceArgs, client: &Client, wallet: &str) -> anyhow::Result<()> {
    let pending: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&args.home)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let what = name
                .strip_prefix(&format!("{wallet}."))?
                .strip_suffix(".pending.json")?
                .to_owned();
            Some((p, share_path(&args.home, wallet, &what)))
        })
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let now = client.wallet(wallet).await?;
    let held = |file: &DeviceFile| {
        file.wallet.public_key.as_ref().map(|k| &k.public_shares)
            == now.public_key.as_ref().map(|k| &k.public_shares)
    };
    for (pending, current) in pending {
        if held(&DeviceFile::read(&pending)?) {
            std::fs::rename(&pending, &current)?;
            println!(
                "• the server holds the new share: {} is now in use",
                current.display()
            );
        } else {
            std::fs::remove_file(&pending)?;
        }
    }
    Ok(())
}

/// Say that a wallet has new shares of the same key.
fn print_reshared(view: &mpcw_host::api::WalletView) {
    println!(
        "wallet {} has new shares; its key (and every address) is unchanged: {}",
        view.id,
        view.public_key
            .as_ref()
            .map(|k| k.public_key.as_str())
            .unwrap_or_default()
    );
}

/// Run a device subcommand.
pub fn run(args: DeviceArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.home)
        .with_context(|| format!("creating {}", args.home.display()))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(run_async(args))
}

async fn run_async(args: DeviceArgs) -> anyhow::Result<()> {
    let say = |s: &str| println!("• {s}");
    match &args.command {
        DeviceCommand::Login { subject } => {
            let client = Client::new(args.server.clone());
            let token = client.dev_login(subject).await?;
            let login = Login {
                server: args.server.clone(),
                subject: token.subject.clone(),
                access_token: token.access_token,
                expires_at: token.expires_at,
            };
            write_private(
                &args.home.join("login.json"),
                &serde_json::to_vec_pretty(&login)?,
            )?;
            println!("logged in to {} as {}", args.server, login.subject);
        }
        DeviceCommand::CreateWallet {
            scheme,
            threshold,
            parties,
            label,
            passwords:
                Passwords {
                    password,
                    recovery_password,
                },
        } => {
            let client = logged_in(&args)?;
            let scheme: Scheme = scheme.parse()?;
            let local: Vec<u16> = (0..*parties).filter(|i| *i != 1).collect();
            let started = std::time::Instant::now();
            let spec = device::WalletSpec {
                scheme,
                threshold: *threshold,
                parties: *parties,
                local,
                label: label.clone(),
            };
            let (wallet, shares) = device::create_wallet(&client, &spec, say).await?;
            save_shares(&args, &client, &wallet, shares, password, recovery_password)?;
            println!(
                "wallet {} ({} {}-of-{}) created in {:.1} s; group key {}",
                wallet.id,
                wallet.scheme,
                wallet.threshold,
                wallet.parties,
                started.elapsed().as_secs_f64(),
                wallet.public_key.map(|k| k.public_key).unwrap_or_default()
            );
        }
        DeviceCommand::Wallets => {
            let client = logged_in(&args)?;
            for w in client.wallets().await? {
                println!(
                    "{}  {:<16} {:<16} {}-of-{}  {:?}",
                    w.id, w.label, w.scheme, w.threshold, w.parties, w.status
                );
            }
        }
        DeviceCommand::Addresses { wallet } => {
            let client = logged_in(&args)?;
            for n in client.addresses(wallet).await? {
                for a in n.addresses {
                    println!("{:<24} {:<10} {}", n.network, a.kind, a.value);
                }
            }
        }
        DeviceCommand::Recover {
            wallet,
            passwords:
                Passwords {
                    password,
                    recovery_password,
                },
        } => {
            let client = logged_in(&args)?;
            settle_pending(&args, &client, wallet).await?;
            let recovery = DeviceFile::read(&share_path(&args.home, wallet, "recovery-2"))?
                .open(recovery_password.as_bytes())
                .context("opening the recovery share")?;
            let current = client.wallet(wallet).await?;
            // Announce the recovery (the server may hold it back for a delay, during which a
            // device holding a share can cancel it); a waiting one is carried out when due.
            let waiting = client
                .recoveries()
                .await?
                .into_iter()
                .find(|r| r.wallet == *wallet && r.kind == "recovery" && r.status == "waiting");
            let announced = match waiting {
                Some(r) => r,
                None => client.announce_recovery(wallet).await?,
            };
            if let Some(at) = announced
                .not_before
                .filter(|at| *at > mpcw_host::state::now())
            {
                anyhow::bail!(
                    "the server holds recoveries back: recovery {} may start at Unix time {at}, \
                     unless a device of the wallet cancels it; run this again then",
                    announced.id
                );
            }
            let result = device::recover_announced(
                &client,
                &current,
                0,
                &recovery,
                Some(&announced.id),
                say,
            )
            .await;
            let passwords = (password.as_str(), recovery_password.as_str());
            let (view, shares) = reshared_or_pending(&args, &client, &current, result, passwords)?;
            save_shares(&args, &client, &view, shares, password, recovery_password)?;
            print_reshared(&view);
        }
        DeviceCommand::Refresh {
            wallet,
            passwords:
                Passwords {
                    password,
                    recovery_password,
                },
        } => {
            let client = logged_in(&args)?;
            settle_pending(&args, &client, wallet).await?;
            let mut locals = Vec::new();
            for (what, pw) in [("device", password), ("recovery-2", recovery_password)] {
                let local = DeviceFile::read(&share_path(&args.home, wallet, what))?
                    .open(pw.as_bytes())
                    .with_context(|| format!("opening the {what} share"))?;
                locals.push(local);
            }
            let current = client.wallet(wallet).await?;
            let refs: Vec<&LocalShare> = locals.iter().collect();
            let result = device::refresh(&client, &current, &refs, say).await;
            let passwords = (password.as_str(), recovery_password.as_str());
            let (view, shares) = reshared_or_pending(&args, &client, &current, result, passwords)?;
            save_shares(&args, &client, &view, shares, password, recovery_password)?;
            print_reshared(&view);
        }
        DeviceCommand::Sign {
            wallet,
            chain,
            request,
            password,
        } => {
            let client = logged_in(&args)?;
            settle_pending(&args, &client, wallet).await?;
            let file = DeviceFile::read(&share_path(&args.home, wallet, "device"))?;
            let local = file
                .open(password.as_bytes())
                .context("opening this device's share")?;
            if file.wallet.threshold != 2 {
                bail!("this command signs 2-of-n wallets (device and server); this one needs {} parties", file.wallet.threshold);
            }
            let registry = Registry::builtin()?;
            let network = registry
                .get(chain)
                .with_context(|| format!("no network {chain:?}"))?
                .clone();
            let body: serde_json::Value = serde_json::from_slice(
                &std::fs::read(request)
                    .with_context(|| format!("reading {}", request.display()))?,
            )
            .context("the request file is not JSON")?;
            let runtime = Runtime::new(Limits::default(), Some(args.home.join("plugin-cache")))?;
            runtime.load_builtin()?;
            let spec = device::SignSpec {
                network,
                request: body,
                signers: vec![0, 1],
                bridge: None,
            };
            let signed =
                device::sign(&client, &file.wallet, &local, &spec, Some(&runtime), say).await;
            let view = match signed {
                Err(device::DeviceError::Engine(mpcw_engine::Error::OtAbort { party, reason })) => {
                    // The co-signer attacked the pairwise state: this share no longer signs with
                    // it until the wallet is refreshed.
                    let mut local = local;
                    local.share.suspend(party, reason.clone());
                    let file = DeviceFile::seal(
                        client.base(),
                        &file.wallet,
                        &local,
                        password.as_bytes(),
                        KdfParams::default(),
                    )?;
                    file.write(&share_path(&args.home, wallet, "device"))?;
                    bail!("party {party} failed a check of the pairwise multiplication ({reason}); this device no longer signs with it until the wallet is refreshed");
                }
                other => other?,
            };
            let result = view.result.context("no result")?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "id": result.id,
                    "encoding": result.encoding,
                    "signed": result.encoded,
                }))?
            );
        }
    }
    Ok(())
}
