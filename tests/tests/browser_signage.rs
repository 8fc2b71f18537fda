//! The waiting-room screen with signage, in a real headless Chromium: headquarters schedules an
//! image for the office; the box fetches it and the display shows it beside the calls; a call
//! arrives and shows over it, at 1920×1080 and at 1080×1920; an urgent message from
//! headquarters takes the signage area within seconds.

mod browsers;
mod in_process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use browsers::{keep_screenshot, shown, text_when, Browsers, POLL};
use in_process::{central_link, fixture, upload};
use serde_json::{json, Value};

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_shows_the_scheduled_image_beside_the_calls_in_both_profiles_and_an_urgent_message_takes_over() {
    if !browsers::browser_installed() {
        return;
    }
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut settings = fila_central::demo::settings("127.0.0.1:0".parse().expect("addr"), central_dir.path().into());
    settings.seed_configs = fila_central::demo::office_configs();
    let central = fila_central::App::build(settings).expect("central starts");
    let (central_base, central_port) = (format!("http://127.0.0.1:{}", central.port()), central.port());
    let central_stop = central.stop_handle();
    let central_run = tokio::spawn(central.run_until_stopped());

    let mut edge = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    edge.central = Some(central_link(central_port));
    let edge = fila_edge::App::build(edge).expect("edge starts");
    let edge_base = format!("http://127.0.0.1:{}", edge.port());
    let edge_stop = edge.handle();
    let edge_run = tokio::spawn(edge.run_until_stopped());

    let outcome = browsers::run(SCENARIO_LIMIT, move |browsers| scenario(central_base, edge_base, browsers)).await;
    edge_stop.stop(true).await;
    central_stop.stop().await;
    let _ = (edge_run.await, central_run.await);
    outcome.rethrow();
}

/// Headquarters sets the office's signage.
async fn set_signage(http: &reqwest::Client, central: &str, signage: Value) {
    let mut config = serde_json::to_value(fila_central::demo::office_configs().remove(0)).expect("json");
    config["signage"] = signage;
    let put = http
        .put(format!("{central}/api/v1/offices/centro/config"))
        .bearer_auth(fila_central::demo::HQ_ADMIN_TOKEN)
        .json(&config)
        .send()
        .await
        .expect("configured");
    assert_eq!(put.status(), 200, "{:?}", put.text().await);
}

/// Whether `css` is on screen: shown, with a size, inside the window.
async fn on_screen(client: &fantoccini::Client, css: &str) -> bool {
    let script = "const e = document.querySelector(arguments[0]); if (!e) return false; \
                  const r = e.getBoundingClientRect(); \
                  return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && \
                         r.bottom <= window.innerHeight + 1 && r.right <= window.innerWidth + 1 && \
                         !e.closest('[hidden]');";
    client.execute(script, vec![css.into()]).await.expect("the page runs scripts").as_bool() == Some(true)
}

async fn until_on_screen(client: &fantoccini::Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !on_screen(client, css).await {
        assert!(Instant::now() < deadline, "{css} never showed");
        tokio::time::sleep(POLL).await;
    }
}

async fn scenario(central: String, edge: String, browsers: Arc<Browsers>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let photo = fixture("blue-64x48.jpg");
    let uploaded = upload(&http, &central, &photo).await;
    let sha = uploaded["sha256"].as_str().expect("hash").to_string();
    let signage = json!({
        "media": [{ "sha256": sha, "kind": "jpeg", "bytes": photo.len(), "width": 64, "height": 48 }],
        "playlists": [{ "id": "default", "name": "Institucional", "items": [{ "media": sha, "seconds": 30 }] }],
        "schedules": [{ "id": "always", "playlist": "default" }],
        "ticker": [{ "lang": "es", "text": "Turnos por **internet** en <b>fila</b>" }],
    });
    set_signage(&http, &central, signage.clone()).await;

    let display = browsers.open("display").await;
    display.set_window_size(1920, 1080).await.expect("landscape");
    display.goto(&format!("{edge}/display")).await.expect("the display loads");
    // The box fetches the image, then the screen switches to it.
    until_on_screen(&display, "#signage-stage img").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let loaded = display
            .execute(
                "const i = document.querySelector('#signage-stage img'); return i && i.complete && i.naturalWidth;",
                vec![],
            )
            .await
            .expect("the page runs scripts");
        if loaded.as_u64() == Some(64) {
            break;
        }
        assert!(Instant::now() < deadline, "the image never loaded: {loaded}");
        tokio::time::sleep(POLL).await;
    }
    // The ticker's bold is an element, its markup stays text.
    let bold = display
        .execute("const b = document.querySelector('#ticker strong'); return b && b.textContent;", vec![])
        .await
        .expect("script");
    assert_eq!(bold, json!("internet"));
    let ticker = text_when(&display, "#ticker", "the ticker", |t| t.contains("<b>fila</b>")).await;
    assert!(ticker.starts_with("Turnos por"), "{ticker}");
    keep_screenshot(&display, "display-signage-landscape").await;

    // A call arrives: it shows with the image still beside it.
    let post = |path: &str, token: String, body: Value| {
        let request = http.post(format!("{edge}{path}")).bearer_auth(token).json(&body);
        async move { request.send().await.expect("answered").json::<Value>().await.unwrap_or(Value::Null) }
    };
    let ticket = post("/api/v1/tickets", fila_edge::demo::KIOSK_TOKEN.into(), json!({ "service": "general" })).await;
    let number = ticket["number"].as_str().expect("a number").to_string();
    let login = post("/api/v1/login", String::new(), json!({ "username": "ana", "password": "1234" })).await;
    let ana = login["token"].as_str().expect("a session").to_string();
    post("/api/v1/counters/1/sign-in", ana.clone(), json!({})).await;
    post("/api/v1/counters/1/call-next", ana, json!({})).await;
    text_when(&display, "#current-calls .call-number", "the call", |t| t == number).await;
    for css in ["#current-calls .call-number", "#recent-calls li", "#signage-stage img"] {
        assert!(on_screen(&display, css).await, "{css} is on the 1920×1080 screen");
    }
    keep_screenshot(&display, "display-signage-call-landscape").await;

    display.set_window_size(1080, 1920).await.expect("portrait");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for css in ["#current-calls .call-number", "#recent-calls li", "#signage-stage img", "#ticker"] {
        assert!(on_screen(&display, css).await, "{css} is on the 1080×1920 screen");
    }
    keep_screenshot(&display, "display-signage-call-portrait").await;

    // Headquarters: "La oficina cierra a las 12 hoy", for the next hour.
    let now = jiff::Timestamp::now().as_millisecond();
    let mut urgent = signage;
    urgent["urgent"] = json!([{
        "id": "cierre", "texts": [{ "lang": "es", "text": "La oficina cierra a las 12 hoy" }],
        "from_ms": now - 1000, "until_ms": now + 3_600_000, "target": "office:centro", "by": "hq:demo",
    }]);
    let sent = Instant::now();
    set_signage(&http, &central, urgent).await;
    text_when(&display, "#signage-urgent", "the urgent message", |t| t.contains("cierra a las 12")).await;
    until_on_screen(&display, "#signage-urgent").await;
    eprintln!("urgent message on screen {:?} after headquarters sent it", sent.elapsed());
    keep_screenshot(&display, "display-signage-urgent").await;

    // The office's supervisor, at the console, puts up one of their own, then ends it.
    let console = browsers::supervising(&browsers, &edge).await;
    let media = text_when(&console, "#signage-media", "the screens' media", |t| t.contains("faltan 0")).await;
    assert!(media.starts_with("1 archivos"), "{media}");
    browsers::type_into(&console, "#urgent-text", "Sistema caído: solo atención general").await;
    browsers::click(&console, "#urgent-send").await;
    text_when(&display, "#signage-urgent", "the supervisor's message", |t| t.contains("Sistema caído")).await;
    text_when(&console, "#urgent-list", "the message listed with who put it", |t| t.contains("sara")).await;
    keep_screenshot(&console, "console-urgent").await;
    let script =
        "const li = [...document.querySelectorAll('#urgent-list li')].find((l) => l.textContent.includes('Sistema')); \
                  li.querySelector('button').click();";
    console.execute(script, vec![]).await.expect("ended");
    text_when(&display, "#signage-urgent", "headquarters' message again", |t| t.contains("cierra a las 12")).await;

    // A video plays, with sound; a call is spoken over it, and the video steps back meanwhile.
    let clip = fixture("clip-160x90-2s.webm");
    let uploaded = upload(&http, &central, &clip).await;
    let clip_sha = uploaded["sha256"].as_str().expect("hash").to_string();
    set_signage(
        &http,
        &central,
        json!({
            "media": [{ "sha256": clip_sha, "kind": "webm", "bytes": clip.len(), "width": 160, "height": 90, "duration_ms": 2000 }],
            "playlists": [{ "id": "video", "name": "Video", "items": [{ "media": clip_sha, "seconds": 0 }] }],
            "schedules": [{ "id": "always", "playlist": "video" }],
            "screens": [{ "id": "sala", "name": "Sala", "ticker": false }],
        }),
    )
    .await;
    until_on_screen(&display, "#signage-stage video").await;
    assert!(!on_screen(&display, "#ticker").await, "a screen without the ticker line hides it");
    browsers::click(&display, "#sound-toggle").await;
    let volume = "const v = document.querySelector('#signage-stage video'); return v ? v.volume : null;";
    assert_eq!(display.execute(volume, vec![]).await.expect("script").as_f64(), Some(1.0));
    let ticket = post("/api/v1/tickets", fila_edge::demo::KIOSK_TOKEN.into(), json!({ "service": "general" })).await;
    let login = post("/api/v1/login", String::new(), json!({ "username": "ana", "password": "1234" })).await;
    let ana = login["token"].as_str().expect("a session").to_string();
    post("/api/v1/counters/1/finish", ana.clone(), json!({ "outcome": "" })).await;
    post("/api/v1/counters/1/call-next", ana, json!({})).await;
    let number = ticket["number"].as_str().expect("number").to_string();
    text_when(&display, "#current-calls .call-number", "the second call", |t| t == number).await;
    let (mut ducked, deadline) = (false, Instant::now() + Duration::from_secs(15));
    while Instant::now() < deadline {
        let now = display.execute(volume, vec![]).await.expect("script").as_f64().unwrap_or(1.0);
        if now < 0.5 {
            ducked = true;
        } else if ducked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ducked, "the video's sound stepped back while the call was spoken");
    assert_eq!(display.execute(volume, vec![]).await.expect("script").as_f64(), Some(1.0), "and came back after");

    // Headquarters' dashboard counts what the screen showed: the poster, until the video came.
    let hq = browsers.open("headquarters").await;
    hq.goto(&format!("{central}/dashboard")).await.expect("the dashboard loads");
    browsers::type_into(&hq, "#token", fila_central::demo::HQ_TOKEN).await;
    browsers::click(&hq, "#login-form button[type=submit]").await;
    shown(&hq, "#office option").await;
    let poster = &sha[..12];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        hq.execute("document.getElementById('filters').requestSubmit();", vec![]).await.expect("reloaded");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let plays = hq
            .find(fantoccini::Locator::Css("#plays"))
            .await
            .expect("the plays table")
            .text()
            .await
            .unwrap_or_default();
        if plays.contains(poster) {
            break;
        }
        assert!(Instant::now() < deadline, "the poster's plays never reached the dashboard: {plays}");
    }
    keep_screenshot(&hq, "headquarters-signage-plays").await;

    // The offices' table is live: centro's counter open and its two served, from the stream.
    let script = "const keys = [...document.querySelectorAll('#offices thead th')].map((th) => th.dataset.sort); \
                  const row = document.querySelector(\"#offices tbody tr[data-office='centro']\"); \
                  return row ? [row.cells[keys.indexOf('open')].textContent, row.cells[keys.indexOf('served')].textContent] : null;";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cells = hq.execute(script, vec![]).await.expect("script");
        if cells == json!(["1", "1"]) || cells == json!(["1", "2"]) {
            break;
        }
        assert!(Instant::now() < deadline, "the network figures never showed: {cells}");
        tokio::time::sleep(POLL).await;
    }
}
