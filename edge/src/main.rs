//! `fila-edge`: the branch office daemon. Arguments, tracing, then the app; no more.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use fila_edge::settings::Settings;
use fila_edge::{auth, demo, App};

#[derive(Parser)]
#[command(name = "fila-edge", version, about = "fila branch office daemon")]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Run the built-in demo office (see README.md for its users and kiosk token).
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "./fila-data")]
        data: PathBuf,
        /// Sync with a central aggregator, e.g. ws://127.0.0.1:9090/api/v1/sync (`fila-central demo`).
        /// Given again, the next replicas of central, tried in turn when one cannot be reached.
        #[arg(long)]
        central: Vec<String>,
        /// The office's branch token at central.
        #[arg(long, default_value = "demo-branch-token")]
        central_token: String,
        /// Run without the emulated printer, displays and GSM modem.
        #[arg(long)]
        no_devices: bool,
        /// Send the e-mail notices to an SMTP server, host:port (plain, no login), e.g. a local
        /// aiosmtpd or MailHog; the kiosk then offers e-mail besides SMS.
        #[arg(long)]
        smtp: Option<String>,
        /// Send survey invitations this many seconds after the visit ends (at most 3600), as
        /// `[notices] survey_delay_seconds` does.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=3600))]
        survey_delay: u32,
        /// Allow a --listen address other machines can reach. The demo's PINs and kiosk token
        /// are published in README.md, so anyone on the network could log in at a counter.
        #[arg(long)]
        allow_remote: bool,
    },
    /// Run the office described by a configuration file.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration file and report every problem in it.
    CheckConfig { file: PathBuf },
    /// Read a password or PIN on standard input and print its argon2 hash for [[users]].
    HashPassword,
    /// Make a random kiosk device token and print it with the hash for [[kiosks]].
    KioskToken,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Mode::CheckConfig { file } => check_config(&file),
        Mode::HashPassword => {
            let mut password = String::new();
            if std::io::stdin().read_line(&mut password).is_err() || password.trim().is_empty() {
                eprintln!("type the password or PIN on standard input");
                return ExitCode::from(2);
            }
            println!("{}", auth::hash_password(password.trim_end_matches(['\r', '\n'])));
            ExitCode::SUCCESS
        }
        Mode::KioskToken => {
            let token = auth::random_token();
            println!("token        = \"{token}\"\ntoken_sha256 = \"{}\"", auth::sha256_hex(&token));
            ExitCode::SUCCESS
        }
        Mode::Demo { listen, allow_remote: false, .. } if !listen.ip().is_loopback() => {
            eprintln!(
                "fila-edge: the demo's PINs and kiosk token are published in README.md, so it listens only \
                 on a loopback address (127.0.0.1); add --allow-remote to listen on {listen} anyway"
            );
            ExitCode::from(2)
        }
        Mode::Demo { listen, data, central, central_token, no_devices, smtp, survey_delay, .. } => {
            serve(!no_devices, || {
                let mut settings = demo::settings(listen, data);
                if let Some(smtp) = smtp {
                    demo::smtp_notices(&mut settings, &smtp)?;
                }
                if survey_delay > 0 {
                    settings.notices.get_or_insert_with(demo::notice_defaults).survey_delay_seconds = survey_delay;
                }
                let mut centrals = central.into_iter();
                settings.central = centrals.next().map(|url| fila_edge::sync_client::CentralSettings {
                    url,
                    token: central_token,
                    ca_file: None,
                    citizen_url: None,
                    // `fila-central demo` signs passes with the published demo key.
                    booking_key: Some(demo::booking_key()),
                    fallback_urls: centrals.collect(),
                });
                println!("fila demo office \"{}\" on http://{listen}", settings.office.name);
                println!("  kiosk:    http://{listen}/kiosk?token={}", demo::KIOSK_TOKEN);
                println!("  counter:  http://{listen}/counter   (ana / 1234, beto / 1234; supervisor sara / 1234)");
                println!("  display:  http://{listen}/display");
                Ok(settings)
            })
        }
        Mode::Run { config } => serve(false, || load(&config)),
    }
}

fn load(file: &PathBuf) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Settings::parse(&text).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!("{} has problems:\n{}", file.display(), list.join("\n"))
    })
}

fn check_config(file: &PathBuf) -> ExitCode {
    match load(file) {
        Ok(settings) => {
            println!(
                "{} is valid: office {:?}, {} services, {} counters, {} users, {} kiosks",
                file.display(),
                settings.office.id,
                settings.office.services.len(),
                settings.office.counters.len(),
                settings.users.len(),
                settings.kiosks.len()
            );
            for note in settings.notes() {
                println!("note: {note}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(1)
        }
    }
}

/// Run the edge until it is stopped; `emulators` adds the demo's emulated devices.
fn serve(emulators: bool, settings: impl FnOnce() -> anyhow::Result<Settings>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sled=warn".into()),
        )
        // Colour codes are for a person at a terminal; journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let result = settings().and_then(|mut settings| {
        actix_web::rt::System::new().block_on(async move {
            let _devices = match emulators {
                true => Some(demo::emulated_devices(&mut settings).await?),
                false => None,
            };
            App::build(settings)?.run_until_stopped().await
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("fila-edge: {error:#}");
            ExitCode::from(1)
        }
    }
}
