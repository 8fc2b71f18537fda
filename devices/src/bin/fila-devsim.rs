//! `fila-devsim`: the office's devices without hardware, for installers and newcomers.
//! A ticket printer on a TCP port (what it prints appears as text), Modbus RTU counter displays
//! on a pseudo-terminal, MQTT displays, a kiosk button, and a GSM modem on a pseudo-terminal
//! that prints the SMS it is given. Point an edge's `[devices]` (and its SMS channel) at them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fila_devices::escpos::{self, PrinterProfile, PrinterStatus};
use fila_devices::modbus::{self, EmulatedDisplay, RegisterMap, TextEncoding};
use fila_devices::mqtt::{self, MqttSettings};
use fila_notify::modem::{self as gsm, EmulatedSim};

#[derive(Parser)]
#[command(name = "fila-devsim", version, about = "fila's device emulators")]
struct Cli {
    #[command(subcommand)]
    device: Device,
}

#[derive(Subcommand)]
enum Device {
    /// An ESC/POS ticket printer on a raw TCP port, like a network printer's port 9100.
    Printer {
        #[arg(long, default_value = "127.0.0.1:9100")]
        listen: String,
        /// Where each printed ticket is also written as text.
        #[arg(long)]
        out: Option<PathBuf>,
        /// What it answers to status queries: ok, near_end, out, cover_open, offline or unknown.
        #[arg(long, default_value = "ok")]
        status: String,
    },
    /// Modbus RTU counter displays (8 ASCII characters at register 0x80) on one emulated RS-485
    /// line: a pseudo-terminal linked at `--link`, to use as the bus `path`.
    Modbus {
        #[arg(long, default_value = "/tmp/fila-rs485")]
        link: PathBuf,
        /// Unit addresses, each a display; the counter shown in logs is the same number.
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        units: Vec<u8>,
    },
    /// A GSM modem answering AT commands in PDU mode on a pseudo-terminal linked at `--link`,
    /// to use as the modem's serial port. Each SMS it is given is printed with its number.
    Modem {
        #[arg(long, default_value = "/tmp/fila-modem")]
        link: PathBuf,
        /// A file, or a directory to hold `sms.txt`, where each SMS is also written as a line.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The SIM slot is empty: every send fails with "no SIM".
        #[arg(long)]
        no_sim: bool,
        /// Signal strength as `AT+CSQ` says it: 0 to 31, or 99 for none.
        #[arg(long, default_value_t = 20, value_parser = parse_signal)]
        signal: u8,
        /// The network refuses this many messages first, each with `+CMS ERROR: <--cms-error>`,
        /// to see an office's retries and alerts.
        #[arg(long, default_value_t = 0)]
        refuse: usize,
        /// The code of those refusals: 38 is "network out of order".
        #[arg(long, default_value_t = 38)]
        cms_error: u16,
    },
    /// MQTT counter displays, one connection (and last will) each.
    MqttDisplay {
        #[arg(long, default_value = "centro")]
        office: String,
        #[arg(long, value_delimiter = ',', default_value = "1")]
        counters: Vec<String>,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 1883)]
        port: u16,
    },
    /// Press a hardware kiosk button: ask the edge for a ticket of a service over MQTT.
    Button {
        #[arg(long, default_value = "centro")]
        office: String,
        #[arg(long, default_value = "entrada")]
        kiosk: String,
        service: String,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 1883)]
        port: u16,
    },
}

fn parse_signal(value: &str) -> Result<u8, String> {
    match value.parse::<u8>() {
        Ok(signal @ (0..=31 | 99)) => Ok(signal),
        _ => Err(format!("{value:?} is not 0 to 31, or 99 for no signal")),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fila-devsim: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Cli::parse().device)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fila-devsim: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(device: Device) -> anyhow::Result<()> {
    match device {
        Device::Printer { listen, out, status } => {
            let status: PrinterStatus = serde_json::from_value(serde_json::Value::String(status.clone()))
                .map_err(|_| anyhow::anyhow!("{status:?} is not ok, near_end, out, cover_open, offline or unknown"))?;
            let (_keep, status) = tokio::sync::watch::channel(status);
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!("printer listening on {listen}");
            let options = escpos::EmulatorOptions { profile: PrinterProfile::default(), out_dir: out, status };
            escpos::serve_tcp(listener, options).await?;
        }
        Device::Modbus { link, units } => {
            let map = RegisterMap {
                text_register: 0x0080,
                text_chars: 8,
                encoding: TextEncoding::Ascii,
                blink_register: Some(0x0010),
                brightness_register: None,
            };
            let displays = units
                .iter()
                .map(|&unit| EmulatedDisplay { unit, counter: unit.to_string(), map: map.clone() })
                .collect();
            println!("Modbus displays {units:?} on {}", link.display());
            modbus::Emulator::new(displays).serve_pty(&link).await?;
        }
        Device::Modem { link, out, no_sim, signal, refuse, cms_error } => {
            let mut emulator = gsm::Emulator::new();
            if let Some(out) = out {
                emulator = emulator.with_output(out);
            }
            if no_sim {
                emulator.set_sim(EmulatedSim::Absent);
            }
            emulator.set_signal((signal != 99).then_some(signal));
            emulator.fail_next_sends(refuse, cms_error);
            println!("GSM modem on {}", link.display());
            emulator.serve_pty(&link).await?;
        }
        Device::MqttDisplay { office, counters, host, port } => {
            let settings = MqttSettings { host, port, ..Default::default() };
            let mut displays = tokio::task::JoinSet::new();
            for counter in counters {
                let (settings, office) = (settings.clone(), office.clone());
                let (shown, _) = tokio::sync::watch::channel(None);
                displays.spawn(async move { mqtt::run_display(&settings, &office, &counter, shown).await });
            }
            while let Some(done) = displays.join_next().await {
                done?.map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        Device::Button { office, kiosk, service, host, port } => {
            let settings = MqttSettings { host, port, ..Default::default() };
            match mqtt::press_button(&settings, &office, &kiosk, &service).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                Some(reply) => println!("{}", serde_json::to_string(&reply)?),
                None => anyhow::bail!("the edge did not answer (is it running with [devices.mqtt]?)"),
            }
        }
    }
    Ok(())
}
