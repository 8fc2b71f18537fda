//! `fila-central`: the headquarters aggregator. Arguments, tracing, then the app; no more.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use fila_central::settings::Settings;
use fila_central::{auth, demo, App};

#[derive(Parser)]
#[command(name = "fila-central", version, about = "fila headquarters aggregator")]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Run the built-in demo: offices `centro` and `norte`, the edge demo's branch token.
    Demo {
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
        #[arg(long, default_value = "./fila-central-data")]
        data: PathBuf,
        /// Allow a --listen address other machines can reach. The demo's tokens are published
        /// in README.md, so anyone on the network could act as an office or read HQ data.
        #[arg(long)]
        allow_remote: bool,
        /// Send booking codes and confirmations by e-mail through an SMTP server at host:port
        /// (plain, no login), e.g. a local aiosmtpd; without it booking cannot send its codes.
        #[arg(long)]
        smtp: Option<String>,
        /// Keep the data in this PostgreSQL database instead of sled under --data (its schema
        /// is brought up to date first), so that several demo centrals serve as replicas.
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Run the headquarters described by a configuration file.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration file and report every problem in it.
    CheckConfig { file: PathBuf },
    /// Create or bring up to date the schema of the PostgreSQL database in [server] postgres.
    Migrate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Make a random branch or analyst token and print it with the hash for the configuration.
    Token,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Mode::CheckConfig { file } => check_config(&file),
        Mode::Migrate { config } => migrate(&config),
        Mode::Token => {
            let token = auth::random_token();
            println!("token        = \"{token}\"\ntoken_sha256 = \"{}\"", auth::sha256_hex(&token));
            ExitCode::SUCCESS
        }
        Mode::Demo { listen, allow_remote: false, .. } if !listen.ip().is_loopback() => {
            eprintln!(
                "fila-central: the demo's tokens are published in README.md, so it listens only on a \
                 loopback address (127.0.0.1); add --allow-remote to listen on {listen} anyway"
            );
            ExitCode::from(2)
        }
        Mode::Demo { listen, data, smtp, postgres, .. } => serve(|| {
            println!("fila demo headquarters on http://{listen}");
            println!("  edges sync at ws://{listen}/api/v1/sync with a branch token:");
            for (id, _, token) in demo::OFFICES {
                println!("    {id}: {token}");
            }
            println!("  HQ API: curl -H 'Authorization: Bearer {}' http://{listen}/api/v1/offices", demo::HQ_TOKEN);
            let mut settings = demo::settings(listen, data);
            settings.seed_configs = demo::office_configs();
            if let Some(address) = smtp {
                settings.smtp = Some(demo::smtp(&address)?);
            }
            if let Some(url) = postgres {
                fila_store::PgStore::migrate(&url).context("cannot prepare the PostgreSQL database")?;
                settings.postgres = Some(url);
            }
            println!("  citizens book at http://{listen}/citas");
            Ok(settings)
        }),
        Mode::Run { config } => serve(|| load(&config)),
    }
}

fn load(file: &Path) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Settings::parse(&text).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!("{} has problems:\n{}", file.display(), list.join("\n"))
    })
}

fn check_config(file: &Path) -> ExitCode {
    match load(file) {
        Ok(settings) => {
            println!(
                "{} is valid: {} offices, {} analysts, listening on {}",
                file.display(),
                settings.offices.len(),
                settings.analysts.len(),
                settings.listen
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(1)
        }
    }
}

fn migrate(file: &Path) -> ExitCode {
    let migrated = load(file).and_then(|settings| {
        let url = settings.postgres.context("[server] postgres is not set: central keeps its data in sled")?;
        Ok(fila_store::PgStore::migrate(&url)?)
    });
    match migrated {
        Ok(applied) if applied.is_empty() => {
            println!("the database is up to date (schema {})", fila_store::PG_SCHEMA_VERSION);
            ExitCode::SUCCESS
        }
        Ok(applied) => {
            let applied: Vec<String> = applied.iter().map(i32::to_string).collect();
            println!("applied schema versions {}", applied.join(", "));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("fila-central: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn serve(settings: impl FnOnce() -> anyhow::Result<Settings>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sled=warn".into()),
        )
        // Colour codes are for a person at a terminal; journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let result = settings().and_then(|settings| {
        actix_web::rt::System::new().block_on(async move { App::build(settings)?.run_until_stopped().await })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("fila-central: {error:#}");
            ExitCode::from(1)
        }
    }
}
