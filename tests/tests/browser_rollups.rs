//! The network roll-up in the headquarters dashboard, in a real headless Chromium: two offices
//! synced their November days; the analyst sees them ranked with the network's total, narrows to
//! a tag, and opens one office to see its queue and its out-of-order calls with the tickets
//! skipped and the agent.
//!
//! With `FILA_SCREENSHOTS` set, the test leaves headquarters-rollups.png.

mod browsers;
#[path = "../../central/tests/common/mod.rs"]
mod central;

use std::time::Duration;

use browsers::{click, keep_screenshot, text_when, type_into};
use central::docs_edge::Edge;
use central::{CENTRO, HQ, NORTE, T0};
use fila_protocol::office::{Actor, Priority};
use fila_protocol::{AgentId, Command, CounterId, OfficeConfig, Timestamp};

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

fn config(id: &str, name: &str, tag: &str) -> OfficeConfig {
    central::regional_office(id, name, tag, "")
}

fn agent(name: &str) -> Actor {
    Actor { agent: AgentId::new(name), supervisor: false }
}

fn counter() -> CounterId {
    CounterId::new("1")
}

/// `days_before` central's date (Sunday 29 November, 10:00 in Buenos Aires), plus `minutes`.
fn at(days_before: i64, minutes: i64) -> Timestamp {
    Timestamp(T0.0 - days_before * DAY_MS + minutes * MINUTE_MS)
}

/// Centro (capital), 27 November: four citizens served in turn.
fn centro() -> Edge {
    let mut edge = Edge::new(config("centro", "Oficina Centro", "capital"), at(2, 0));
    edge.add_config();
    edge.run(at(2, 0), Command::SignIn { counter: counter(), by: agent("ana") });
    for n in 0..4 {
        edge.issue(at(2, n * 30), Priority::Normal);
        edge.run(at(2, n * 30 + 5), Command::CallNext { counter: counter(), by: agent("ana") });
        edge.run(at(2, n * 30 + 10), Command::Finish { counter: counter(), by: agent("ana"), outcome: String::new() });
    }
    edge
}

/// Norte (interior), 28 November: beto calls A-003 ahead of, then those two.
fn norte() -> Edge {
    let mut edge = Edge::new(config("norte", "Oficina Norte", "interior"), at(1, 0));
    edge.add_config();
    edge.run(at(1, 0), Command::SignIn { counter: counter(), by: agent("beto") });
    let numbers: Vec<_> = (0..3).map(|minute| edge.issue(at(1, minute), Priority::Normal)).collect();
    let reason = "Turno con cita previa".to_string();
    edge.run(at(1, 5), Command::CallSpecific { counter: counter(), by: agent("beto"), number: numbers[2], reason });
    for minute in [8, 12] {
        edge.run(at(1, minute), Command::Finish { counter: counter(), by: agent("beto"), outcome: String::new() });
        edge.run(at(1, minute + 1), Command::CallNext { counter: counter(), by: agent("beto") });
    }
    edge.run(at(1, 16), Command::Finish { counter: counter(), by: agent("beto"), outcome: String::new() });
    edge
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analyst_ranks_the_network_and_opens_an_offices_deviations() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn(dir.path()).await;
    for (mut edge, token) in [(centro(), CENTRO), (norte(), NORTE)] {
        let mut ws = central.connect(token).await;
        edge.sync(&mut ws).await;
        ws.close().await;
    }

    let base = central.base.clone();
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        hq.goto(&format!("{base}/dashboard")).await.expect("the dashboard loads");
        type_into(&hq, "#token", HQ).await;
        click(&hq, "#login-form button[type=submit]").await;
        text_when(&hq, "#offices", "the offices", |t| t.contains("Oficina Centro")).await;
        // The browser's clock is not the scenario's: the analyst picks November.
        hq.execute(
            "document.getElementById('from').value = '2026-11-01'; \
             document.getElementById('to').value = '2026-11-29'; \
             document.getElementById('rollups-period').dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .expect("the range is picked");
        let table = text_when(&hq, "#rollups", "both offices and the total", |t| {
            t.contains("Oficina Centro") && t.contains("Oficina Norte") && t.contains("Total") && !t.contains("2026-12")
        })
        .await;
        let lines: Vec<&str> = table.lines().collect();
        let centro = lines.iter().position(|l| l.contains("Oficina Centro")).expect("centro's row");
        let norte = lines.iter().position(|l| l.contains("Oficina Norte")).expect("norte's row");
        assert!(centro < norte, "the most served first: {table}");
        assert!(lines.iter().any(|l| l.contains("Total") && l.contains('7')), "7 served in all: {table}");

        // Only the interior.
        hq.execute(
            "const tag = document.getElementById('rollups-tag'); tag.value = 'interior'; \
             tag.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .expect("the tag is picked");
        text_when(&hq, "#rollups", "only Norte", |t| t.contains("Oficina Norte") && !t.contains("Oficina Centro"))
            .await;
        assert!(text_when(&hq, "#rollups-note", "one office", |t| t.starts_with("Oficinas: 1."))
            .await
            .contains("01/11/2026"));

        // Norte's drill-down: its queue (its latest day) and the call that skipped two tickets.
        click(&hq, "#rollups button[data-office=norte]").await;
        text_when(&hq, "#drill-title", "Norte's title", |t| t.contains("Oficina Norte")).await;
        let calls = text_when(&hq, "#drill-deviations", "the out-of-order call", |t| t.contains("A-003")).await;
        assert!(calls.contains("2: A-001, A-002"), "{calls}");
        assert!(calls.contains("beto") && calls.contains("Turno con cita previa"), "{calls}");
        text_when(&hq, "#drill-queue-note", "the queue", |t| t.contains("0 esperan ahora (28/11/2026)")).await;
        keep_screenshot(&hq, "headquarters-rollups").await;
    })
    .await
    .rethrow();
    central.stop().await;
}
