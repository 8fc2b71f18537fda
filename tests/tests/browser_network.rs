//! The network view in the headquarters dashboard, in a real headless Chromium: two offices
//! synced this morning; the analyst sorts the table by what needs attention, sees the order
//! follow the figures live, narrows to a region, and puts the table on the operations room's
//! wall screen. Also in English, and on a laptop's screen without scrolling sideways.
//!
//! With `FILA_SCREENSHOTS` set, the test leaves headquarters-network-*.png.

mod browsers;
#[path = "../../central/tests/common/mod.rs"]
mod central;

use std::time::Duration;

use browsers::{click, keep_screenshot, text_when, type_into};
use central::morning::{centro, minutes_before_now, norte};
use central::{CENTRO, HQ, NORTE};
use fantoccini::Client;
use fila_protocol::office::Priority;
use serde_json::{json, Value};

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

/// The offices in the table, top to bottom, once `accept` likes them.
async fn rows_when(hq: &Client, what: &str, accept: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = hq
            .execute(
                "return [...document.querySelectorAll('#offices tbody tr')].map((row) => row.dataset.office);",
                vec![],
            )
            .await
            .expect("the page runs scripts");
        let rows: Vec<String> = serde_json::from_value(rows).unwrap_or_default();
        if accept(&rows) {
            return rows;
        }
        assert!(std::time::Instant::now() < deadline, "the table never showed {what}; last: {rows:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One office's row, cell by cell, keyed by its column's sort name.
async fn cells(hq: &Client, office: &str) -> Value {
    hq.execute(
        "const keys = [...document.querySelectorAll('#offices thead th')].map((th) => th.dataset.sort || '');
         const row = document.querySelector(`#offices tbody tr[data-office='${arguments[0]}']`);
         return Object.fromEntries([...row.cells].map((cell, i) => [keys[i], cell.textContent.trim()]));",
        vec![json!(office)],
    )
    .await
    .expect("the row is there")
}

/// Whether the offices' table is wider than its card (the page would scroll sideways).
async fn overflows(hq: &Client) -> Value {
    hq.execute(
        "const box = document.querySelector('#offices-card .scroll');
         return { table: box.scrollWidth, card: box.clientWidth, font: parseFloat(getComputedStyle(document.getElementById('offices')).fontSize) };",
        vec![],
    )
    .await
    .expect("the page runs scripts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analyst_sorts_and_filters_the_live_network_and_puts_it_on_the_wall() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn(dir.path()).await;
    // Both offices stay connected: their figures move while the analyst looks.
    let (mut centro, mut norte) = (centro(), norte());
    let mut centro_ws = central.connect(CENTRO).await;
    centro.sync(&mut centro_ws).await;
    let mut norte_ws = central.connect(NORTE).await;
    norte.sync(&mut norte_ws).await;

    let base = central.base.clone();
    let outcome = browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        hq.set_window_size(1366, 768).await.expect("a laptop's screen");
        hq.goto(&format!("{base}/dashboard")).await.expect("the dashboard loads");
        type_into(&hq, "#token", HQ).await;
        click(&hq, "#login-form button[type=submit]").await;
        text_when(&hq, "#offices", "both offices' figures", |t| t.contains("Oficina Norte") && t.contains("25 min")).await;

        // Every figure of the issue's list is in the row.
        let row = cells(&hq, "norte").await;
        assert_eq!(row["online"], "En línea", "{row}");
        assert!(row["sync_lag"].as_str().is_some_and(|lag| [" ms", " s", " min", " h"].iter().any(|unit| lag.ends_with(unit))), "{row}");
        assert_eq!((&row["waiting"], &row["longest"], &row["open"]), (&json!("4"), &json!("25 min"), &json!("1")));
        assert_eq!((&row["served"], &row["out_of_order"]), (&json!("1"), &json!("1")), "{row}");
        assert!(row["within"].as_str().is_some_and(|s| s.starts_with("100")), "{row}");
        assert!(row["legal"].as_str().is_some_and(|s| s.starts_with('0')), "the mother waited past the law: {row}");
        let centro_row = cells(&hq, "centro").await;
        assert!(centro_row["satisfaction"].as_str().is_some_and(|s| s.starts_with("4.0 / 5")), "{centro_row}");

        // By name first; then the most waiting first, and the other way round.
        rows_when(&hq, "offices by name", |rows| rows == ["centro", "norte"]).await;
        click(&hq, "#offices th[data-sort=waiting] button").await;
        rows_when(&hq, "norte (4 waiting) above centro (2)", |rows| rows == ["norte", "centro"]).await;
        let sorted = hq.execute("return document.querySelector('#offices th[data-sort=waiting]').getAttribute('aria-sort');", vec![]);
        assert_eq!(sorted.await.expect("aria-sort"), "descending");
        click(&hq, "#offices th[data-sort=waiting] button").await;
        rows_when(&hq, "the fewest waiting first", |rows| rows == ["centro", "norte"]).await;
        click(&hq, "#offices th[data-sort=waiting] button").await;
        rows_when(&hq, "the most waiting first again", |rows| rows == ["norte", "centro"]).await;

        // Centro gets busy: the order follows without a reload.
        for minutes in [3, 2, 1] {
            centro.issue(minutes_before_now(minutes), Priority::Normal);
        }
        centro.sync(&mut centro_ws).await;
        rows_when(&hq, "centro (5 waiting) rising above norte (4), live", |rows| rows == ["centro", "norte"]).await;

        // One region.
        hq.execute(
            "const tag = document.getElementById('offices-tag'); tag.value = 'interior'; tag.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .expect("the region is picked");
        rows_when(&hq, "only norte, in the interior", |rows| rows == ["norte"]).await;
        text_when(&hq, "#offices-summary", "one office of the region", |t| t == "1 de 1 en línea").await;
        hq.execute(
            "const tag = document.getElementById('offices-tag'); tag.value = ''; tag.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .expect("every region");

        // A laptop's screen shows every column without scrolling sideways.
        keep_screenshot(&hq, "headquarters-network-laptop").await;
        let laptop = overflows(&hq).await;
        assert!(laptop["table"].as_f64() <= laptop["card"].as_f64(), "the table is wider than a laptop's screen: {laptop}");

        // The wall screen: the alerts and the table alone, larger, and it stays so on a reload.
        hq.set_window_size(1920, 1080).await.expect("a wall screen");
        click(&hq, "#wall").await;
        rows_when(&hq, "both offices on the wall", |rows| rows.len() == 2).await;
        let wall = overflows(&hq).await;
        assert!(wall["table"].as_f64() <= wall["card"].as_f64(), "the wall table scrolls sideways: {wall}");
        assert!(wall["font"].as_f64() > laptop["font"].as_f64().map(|f| f * 1.3), "larger on the wall: {wall} vs {laptop}");
        let shown = hq.execute("return document.getElementById('filters').checkVisibility();", vec![]);
        assert_eq!(shown.await.expect("visibility"), false, "the KPI filters are not on the wall");
        assert!(hq.current_url().await.expect("url").as_str().contains("wall=1"));
        hq.refresh().await.expect("reload");
        rows_when(&hq, "the wall after a reload", |rows| rows.len() == 2).await;
        let still = hq.execute("return document.body.classList.contains('wall');", vec![]).await.expect("class");
        assert_eq!(still, true, "a wall screen's browser reopens the wall");
        keep_screenshot(&hq, "headquarters-network-wall").await;

        // In English.
        hq.goto(&format!("{base}/dashboard?lang=en")).await.expect("the English dashboard");
        let heads = text_when(&hq, "#offices thead", "the English heads", |t| t.contains("Sync lag")).await;
        assert!(heads.contains("Preferential within legal maximum") && heads.contains("Waiting"), "{heads}");
        text_when(&hq, "#offices-summary", "the summary in English", |t| t == "2 of 2 online").await;
        centro_ws.close().await;
        norte_ws.close().await;
    })
    .await;
    central.stop().await;
    outcome.rethrow();
}
