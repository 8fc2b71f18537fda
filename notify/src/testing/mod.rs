//! For tests of this crate and of the daemons (the `testing` feature): a real SMTP server
//! (aiosmtpd, a python program) on loopback that writes what it accepts as JSON files.
//!
//! A test that needs aiosmtpd fails on a CI run, where `.ci/run` installs it, and is skipped
//! with a notice elsewhere (`CI` set to anything but empty, `0` or `false` makes a CI run).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use fila_tls::testing::TestPki;
use serde_json::Value;

pub mod sms_gateway;

const SCRIPT: &str = include_str!("smtp_server.py");

/// Whether this is a CI run.
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// A python that can import aiosmtpd: Debian's package serves /usr/bin/python3, which another
/// python3 earlier on the PATH (pyenv, a virtualenv) does not see.
pub fn python() -> Option<&'static str> {
    static FOUND: OnceLock<Option<&'static str>> = OnceLock::new();
    *FOUND.get_or_init(|| {
        ["python3", "/usr/bin/python3"].into_iter().find(|python| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Starttls,
    Tls,
}

/// The server's login, when it asks for one.
pub const USER: &str = "avisos";
pub const PASSWORD: &str = "clave-correcta";

/// aiosmtpd on a free loopback port; killed when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    pub ca_file: PathBuf,
}

impl SmtpServer {
    /// The server, refusing `refused` as a recipient with 550; `None` (after a notice) where
    /// aiosmtpd is missing and this is not a CI run.
    pub fn start(mode: Mode, login: bool, refused: &str) -> Option<SmtpServer> {
        let Some(python) = python() else {
            assert!(!on_ci(), "python3-aiosmtpd is missing, and a CI run must not skip what needs it");
            eprintln!("SKIPPED: python3-aiosmtpd is missing (apt-get install python3-aiosmtpd)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = TestPki::new(dir.path());
        pki.issue();
        let mail = dir.path().join("mail");
        std::fs::create_dir(&mail).expect("mail dir");
        let script = dir.path().join("smtp_server.py");
        std::fs::write(&script, SCRIPT).expect("write the server's script");
        let mut command = Command::new(python);
        command.arg(script).arg("--dir").arg(&mail).arg("--reject").arg(refused);
        command.arg("--mode").arg(match mode {
            Mode::Plain => "plain",
            Mode::Starttls => "starttls",
            Mode::Tls => "tls",
        });
        let files = pki.cert_files();
        command.arg("--cert").arg(&files.cert).arg("--key").arg(&files.key);
        if login {
            command.args(["--user", USER, "--password", PASSWORD]);
        }
        let mut child = command.stdout(Stdio::piped()).spawn().expect("start smtp_server.py");
        // The script prints its port only once it accepts connections.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read the server's first line");
        let port = line.trim().strip_prefix("listening on ").and_then(|port| port.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            panic!("smtp_server.py did not start: {line:?}");
        };
        Some(SmtpServer { child, port, ca_file: pki.ca_file(), dir })
    }

    /// TOML of settings for this server, plus `extra` lines.
    pub fn settings_toml(&self, security: &str, extra: &str) -> String {
        format!(
            "host = \"localhost\"\nport = {}\nsecurity = \"{security}\"\n\
             from = \"Oficina Centro <avisos@example.org>\"\nca_file = {:?}\ntimeout_seconds = 5\n{extra}",
            self.port, self.ca_file
        )
    }

    /// Every message the server accepted, in order: `rcpt_tos`, `mail_from`, `subject`,
    /// `text`, `headers`, `tls`, `authenticated`...
    pub fn received(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .expect("mail dir")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
            .collect();
        paths.sort_by_key(|path| path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u32>().ok()));
        paths.iter().filter_map(|path| serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()).collect()
    }

    /// The `n`th message accepted (from 1), once it is there: a bench waits for one message
    /// without reading every earlier one again.
    pub fn message(&self, n: usize) -> Option<Value> {
        let text = std::fs::read_to_string(self.dir.path().join("mail").join(format!("{n}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Stops the server (a mail server that goes down).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
