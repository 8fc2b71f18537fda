//! Tidy tests, in the spirit of rust-analyzer's: rules of the architecture that the compiler does
//! not hold, checked by reading the source text.
//!
//! - The edge's layers point one way: nothing under `edge/src/devices` names the HTTP layer, and
//!   `edge/src/settings` (a leaf) names no other edge module.
//! - `protocol` does no I/O: no clock, files, sockets, threads, processes, environment, tokio or
//!   global randomness.
//!
//! Comments, strings and character literals are blanked before checking, so a doc comment may
//! say "never reads `SystemTime`". The checks are textual, not a resolver: a `super::` chain that
//! climbs to the crate root or past it (an inline `mod tests` adds a level) counts as naming a
//! module of the crate root, so tests in these files should write `crate::` paths.

use std::path::{Path, PathBuf};

#[test]
fn devices_never_import_the_http_layer() {
    let found = violations("edge/src/devices", |source| {
        source
            .crate_modules()
            .into_iter()
            .filter(|module| module == "http")
            .map(|_| "names crate::http".into())
            .collect()
    });
    assert!(found.is_empty(), "the edge's devices are below its HTTP layer:\n{}", found.join("\n"));
}

#[test]
fn edge_settings_are_a_leaf() {
    let mut found = violations("edge/src/settings", settings_rule);
    found.extend(violations("edge/src/settings.rs", settings_rule));
    assert!(found.is_empty(), "settings import no other edge module:\n{}", found.join("\n"));
}

#[test]
fn protocol_reads_no_clock_and_does_no_io() {
    let found = violations("protocol/src", io_rule);
    assert!(found.is_empty(), "protocol is the pure core; time comes in as a parameter:\n{}", found.join("\n"));
}

/// The checks themselves must be able to fail: each meets the code it exists to refuse.
#[test]
fn each_rule_refuses_what_it_is_for() {
    let devices = |text: &str| Source::parse("edge/src/devices/printers.rs", text).crate_modules();
    assert_eq!(devices("use crate::http::dto::TicketDto;"), ["http"]);
    assert_eq!(devices("use crate::{http::render, office_loop::Clock};"), ["http", "office_loop"]);
    assert_eq!(devices("fn f() { super::super::http::render::event(); }"), ["http"]);
    assert_eq!(devices("use super::health::HealthBoard; // crate::http"), Vec::<String>::new());
    assert_eq!(devices(r#"const NOTE: &str = "crate::http";"#), Vec::<String>::new());
    let in_mod_rs = Source::parse("edge/src/devices/mod.rs", "use super::http::dto;").crate_modules();
    assert_eq!(in_mod_rs, ["http"], "from devices/mod.rs, super is the crate root");

    let settings = |path: &str, text: &str| settings_rule(&Source::parse(path, text));
    assert_eq!(settings("edge/src/settings.rs", "use crate::auth::Role;").len(), 1);
    assert_eq!(settings("edge/src/settings.rs", "use crate::{settings::Role, sync_client::X};").len(), 1);
    assert_eq!(settings("edge/src/settings/devices.rs", "use super::super::devices::Devices;").len(), 1);
    assert!(settings("edge/src/settings/devices.rs", "use crate::settings::Settings; use super::Role;").is_empty());

    let io = |text: &str| io_rule(&Source::parse("protocol/src/office/mod.rs", text)).len();
    assert_eq!(io("let now = std::time::SystemTime::now();"), 1);
    assert_eq!(io("let began = Instant::now();"), 1);
    assert_eq!(io("let today = jiff::Zoned::now();"), 1);
    assert_eq!(io("use std::{collections::HashMap, fs};"), 1);
    assert_eq!(io("std::net::TcpStream::connect(address)"), 1);
    assert_eq!(io("tokio::spawn(async {});"), 1);
    assert_eq!(io("std::thread::sleep(wait);"), 1);
    assert_eq!(io("let n: u8 = rand::thread_rng().gen();"), 1);
    assert_eq!(io("let at = Timestamp::from_ms(now); // never SystemTime::now()"), 0);
    assert_eq!(io("use std::collections::HashMap; let s = 'x'; let t = \"tokio\";"), 0);
}

/// `settings` may name only itself among the crate's modules.
fn settings_rule(source: &Source) -> Vec<String> {
    let modules = source.crate_modules().into_iter().filter(|module| module != "settings");
    modules.map(|module| format!("names crate::{module}")).collect()
}

/// What protocol must not name: the clock, files, sockets, threads, processes, environment,
/// tokio, global randomness.
fn io_rule(source: &Source) -> Vec<String> {
    const IDENTS: [&str; 4] = ["SystemTime", "tokio", "thread_rng", "OsRng"];
    const CALLS: [[&str; 2]; 4] = [["Instant", "now"], ["Timestamp", "now"], ["Zoned", "now"], ["TimeZone", "system"]];
    const STD: [&str; 5] = ["fs", "net", "thread", "process", "env"];
    let tokens = &source.tokens;
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if IDENTS.contains(&token.as_str()) {
            found.push(format!("names {token}"));
        }
        let call = tokens.get(i..i + 3).filter(|t| t[1] == "::");
        if let Some(call) = call.filter(|t| CALLS.iter().any(|c| t[0] == c[0] && t[2] == c[1])) {
            found.push(format!("calls {}::{}", call[0], call[2]));
        }
        if token == "std" && !follows_path(tokens, i) {
            let modules = first_segments(tokens, i + 1);
            found.extend(modules.into_iter().filter(|m| STD.contains(&m.as_str())).map(|m| format!("names std::{m}")));
        }
    }
    found
}

/// Every problem `rule` finds in the `.rs` files at `path` (a file or a directory), relative to
/// the workspace, as "file: problem".
fn violations(path: &str, rule: impl Fn(&Source) -> Vec<String>) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf();
    let files = rust_files(&root.join(path));
    assert!(!files.is_empty(), "no Rust files at {path}: a moved tree must move its rule too");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let relative = file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().into_owned();
        let source = Source::parse(&relative, &text);
        found.extend(rule(&source).into_iter().map(|problem| format!("{relative}: {problem}")));
    }
    found
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(path) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A source file as tokens (identifiers, `::`, single punctuation), without comments or the
/// contents of literals, and how deep its module sits below the crate root.
struct Source {
    tokens: Vec<String>,
    depth: usize,
}

impl Source {
    /// `path` is relative to the workspace, like `edge/src/devices/mod.rs`.
    fn parse(path: &str, text: &str) -> Source {
        let inside = path.split_once("/src/").map_or(path, |(_, inside)| inside);
        let parts: Vec<&str> = inside.split('/').collect();
        let file = parts.last().copied().unwrap_or_default();
        let depth = match file {
            "lib.rs" | "main.rs" if parts.len() == 1 => 0,
            "mod.rs" => parts.len() - 1,
            _ => parts.len(),
        };
        Source { tokens: tokenize(&blank_comments_and_literals(text)), depth }
    }

    /// The modules of the crate root this file names: `x` in `crate::x`, `crate::{x, ..}`, and
    /// in `super::..::x` when the chain of `super` reaches the root.
    fn crate_modules(&self) -> Vec<String> {
        let tokens = &self.tokens;
        let mut modules = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            if tokens[i] == "crate" && !follows_path(tokens, i) {
                modules.extend(first_segments(tokens, i + 1));
            } else if tokens[i] == "super" && !follows_path(tokens, i) {
                let mut climbed = 1;
                while tokens.get(i + 2 * climbed - 1).is_some_and(|t| t == "::")
                    && tokens.get(i + 2 * climbed).is_some_and(|t| t == "super")
                {
                    climbed += 1;
                }
                if climbed >= self.depth {
                    modules.extend(first_segments(tokens, i + 2 * climbed - 1));
                }
                i += 2 * climbed - 1;
                continue;
            }
            i += 1;
        }
        modules
    }
}

/// Whether the token at `i` is a later segment of a path (`a::crate` is not a root).
fn follows_path(tokens: &[String], i: usize) -> bool {
    i > 0 && tokens[i - 1] == "::"
}

/// After `::` at `at`: the next segment, or the first segment of each item of a `{ .. }` group.
fn first_segments(tokens: &[String], at: usize) -> Vec<String> {
    if tokens.get(at).is_none_or(|t| t != "::") {
        return Vec::new();
    }
    match tokens.get(at + 1).map(String::as_str) {
        Some("{") => {
            let (mut depth, mut expect_item, mut items) = (0, true, Vec::new());
            for token in &tokens[at + 1..] {
                match token.as_str() {
                    "{" => {
                        depth += 1;
                        expect_item = depth == 1;
                    }
                    "}" if depth == 1 => break,
                    "}" => depth -= 1,
                    "," if depth == 1 => expect_item = true,
                    ident if expect_item && is_ident(ident) => {
                        items.push(ident.to_string());
                        expect_item = false;
                    }
                    _ => expect_item = false,
                }
            }
            items
        }
        Some(ident) if is_ident(ident) => vec![ident.to_string()],
        _ => Vec::new(),
    }
}

fn is_ident(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_')
}

fn tokenize(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".into());
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
        i += 1;
    }
    tokens
}

/// The code with comments removed and string and character literals emptied (`""`, `' '`);
/// lifetimes are kept.
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize, s: &str| s.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c));
    while i < chars.len() {
        let ident_at = |k: usize| chars[k].is_alphanumeric() || chars[k] == '_';
        // `br".."` is a raw string too: the `b` is its prefix, not an identifier before it.
        let byte_prefix = i > 0 && chars[i - 1] == 'b' && (i < 2 || !ident_at(i - 2));
        let previous_is_ident = i > 0 && ident_at(i - 1) && !byte_prefix;
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if chars[i] == 'r' && !previous_is_ident && matches!(chars.get(i + 1), Some('"' | '#')) {
            // A raw string: r"..", r#".."#, with as many hashes closing as opening.
            let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            i += 2 + hashes;
            while i < chars.len() && !at(i, &closing) {
                i += 1;
            }
            i += closing.len();
            out.push_str("\"\"");
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if chars[i] == '\'' && chars.get(i + 1) == Some(&'\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if chars[i] == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}
