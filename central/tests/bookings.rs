//! Citizens book appointments at central: a slot is held, a code goes to their e-mail (a real
//! SMTP server on loopback, aiosmtpd), the code confirms it. Central alone writes bookings, so
//! however many race for the last places, each place goes once; and the limits against
//! hoarding refuse, clearly, what they are there to refuse.

mod common;

use std::time::Duration;

use common::{code_for, TestCentral};
use fila_notify::testing::{Mode, SmtpServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Monday after the scenario's date (central's clock is 2026-11-29, a Sunday).
const MONDAY: &str = "2026-11-30";

/// The demo office with opening hours and a service booked in 30-minute slots of `capacity`.
fn office_config(capacity: u32) -> Value {
    office_config_open(capacity, "08:00-12:00")
}

/// The same office open `hours` on Mondays and Tuesdays.
fn office_config_open(capacity: u32, hours: &str) -> Value {
    let text = format!(
        r#"
        [office]
        id = "centro"
        name = "Oficina Centro"
        time_zone = "America/Argentina/Buenos_Aires"
        [calendar.hours]
        mon = ["{hours}"]
        tue = ["{hours}"]
        [[services]]
        id = "documentos"
        prefix = "C"
        name = "DNI y pasaportes"
        expected_service_minutes = 10
        [services.booking]
        slot_minutes = 30
        capacity = {capacity}
        [[services.booking.requirements]]
        lang = "es"
        documents = ["DNI anterior", "Partida de nacimiento"]
        fees = ["$ 3.500 en caja"]
        [[services]]
        id = "general"
        prefix = "A"
        name = "Atención general"
        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["documentos", "general"]
        "#
    );
    let raw: fila_protocol::RawOfficeConfig = toml::from_str(&text).expect("a valid office");
    serde_json::to_value(raw).expect("json")
}

async fn central(
    dir: &std::path::Path,
    smtp: &SmtpServer,
    limits: impl FnOnce(&mut fila_central::settings::BookingLimits),
) -> TestCentral {
    let mut settings = common::settings(dir);
    settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
    limits(&mut settings.bookings);
    let central = common::spawn_with(settings).await;
    configure(&central, office_config(3)).await;
    central
}

/// Headquarters sets the office's configuration.
async fn configure(central: &TestCentral, config: Value) {
    let response = central
        .client
        .put(format!("{}/api/v1/offices/centro/config", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .json(&config)
        .send()
        .await
        .expect("configured");
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.text().await);
}

fn request(n: usize, start: &str) -> Value {
    json!({
        "office": "centro", "service": "documentos", "day": MONDAY, "start": start,
        "document_type": "dni", "document_number": format!("30.{:03}.{:03}", n / 1000, n % 1000 + 100),
        "contact": format!("vecino{n}@example.org"), "lang": "es",
        "note": "Renovación de DNI por vencimiento",
    })
}

async fn free_at(central: &TestCentral, start: &str) -> u64 {
    let (status, slots) =
        central.get(&format!("/api/v1/public/offices/centro/slots?service=documentos&day={MONDAY}"), None).await;
    assert_eq!(status, StatusCode::OK, "{slots}");
    let slot =
        slots["slots"].as_array().expect("slots").iter().find(|s| s["start"] == start).cloned().expect("the slot");
    slot["free"].as_u64().expect("free")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_citizens_race_for_the_last_three_places_and_three_get_them() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central(dir.path(), &smtp, |limits| limits.per_address_per_hour = 1_000).await;
    let (status, services) = central.get("/api/v1/public/offices/centro/services?lang=es", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(services["services"][0]["requirements"]["documents"][0], "DNI anterior", "{services}");
    assert_eq!(free_at(&central, "09:00").await, 3);
    let (status, refused) = central.get("/api/v1/public/offices/centro/slots?day=2026-11-30", None).await;
    assert_eq!((status, &refused["error"]), (StatusCode::BAD_REQUEST, &json!("bad_query")), "{refused}");

    let racers: Vec<_> = (0..200)
        .map(|n| {
            let (client, url, body) =
                (central.client.clone(), format!("{}/api/v1/public/bookings", central.base), request(n, "09:00"));
            tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.expect("answered");
                let status = response.status();
                (n, status, response.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut held = Vec::new();
    for racer in racers {
        let (n, status, body) = racer.await.expect("racer");
        match status {
            StatusCode::ACCEPTED => held.push((n, body["hold"].as_str().expect("hold").to_string())),
            StatusCode::CONFLICT => assert_eq!(body["error"], "slot_full", "{body}"),
            other => panic!("racer {n}: {other} {body}"),
        }
    }
    assert_eq!(held.len(), 3, "exactly the three places are held");
    assert_eq!(free_at(&central, "09:00").await, 0);

    let mut tokens = Vec::new();
    for (n, hold) in &held {
        let code = code_for(&smtp, &format!("vecino{n}@example.org")).await;
        let (status, confirmed) =
            central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": code })).await;
        assert_eq!(status, StatusCode::CREATED, "{confirmed}");
        assert!(confirmed["pass"].as_str().is_some_and(|p| p.starts_with("FILA1.centro.2026-11-30.")), "{confirmed}");
        assert_eq!(confirmed["short_code"].as_str().map(str::len), Some(9), "{confirmed}");
        tokens.push(confirmed["manage_token"].as_str().expect("token").to_string());
    }
    assert_eq!(free_at(&central, "09:00").await, 0, "confirmed bookings keep their places");
    // The office's own box, and only it, learns what its counters show: the document's last
    // four characters to compare, and the note.
    let details = format!("/api/v1/branch/bookings/{MONDAY}");
    let (status, shown) = central.get(&details, Some(common::CENTRO)).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let shown = shown.as_array().expect("a list");
    assert_eq!(shown.len(), 3);
    for detail in shown {
        assert_eq!(detail["note"], "Renovación de DNI por vencimiento", "{detail}");
        assert!(detail["last4"].as_str().is_some_and(|l| l.len() == 4), "{detail}");
        assert!(detail.get("contact").is_none(), "no contact: {detail}");
    }
    assert_eq!(central.get(&details, Some(common::NORTE)).await.1, json!([]), "another office sees nothing");
    assert_eq!(central.get(&details, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(central.get(&details, Some(common::HQ)).await.0, StatusCode::UNAUTHORIZED);
    let pass_key = central.get("/api/v1/booking-key", None).await.1;
    assert!(pass_key["public_key"].as_str().is_some_and(|k| k.starts_with("ed25519:")));

    // One citizen cancels by their private link: the place is free again, the booking says so.
    let (status, cancelled) = central.post(&format!("/api/v1/public/bookings/{}/cancel", tokens[0]), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(free_at(&central, "09:00").await, 1);
    let (status, seen) = central.get(&format!("/api/v1/public/bookings/{}", tokens[0]), None).await;
    assert_eq!((status, &seen["state"]), (StatusCode::OK, &json!("cancelled")), "{seen}");
    assert!(seen.get("contact").is_none() && !seen.to_string().contains("vecino"), "no personal data: {seen}");
    // Each booking waits for its reminder two hours before the slot (the day-before one had
    // passed when it was made); the cancelled booking's reminder will not go.
    assert_eq!(central.metric("fila_central_notices{state=\"queued\"}").await, 2);
    assert_eq!(central.metric("fila_central_notices{state=\"failed\"}").await, 1);
    // Headquarters counts them per day and service; only analysts see it.
    let path = format!("/api/v1/bookings/report?office=centro&from={MONDAY}");
    assert_eq!(central.get(&path, None).await.0, StatusCode::UNAUTHORIZED);
    let (status, report) = central.get(&path, Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let row = &report["rows"][0];
    assert_eq!(
        (&row["service"], &row["booked"], &row["cancelled"]),
        (&json!("documentos"), &json!(3), &json!(1)),
        "{report}"
    );
    let (status, csv) =
        central.get(&format!("/api/v1/bookings/report.csv?office=centro&from={MONDAY}"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.as_str().is_some_and(|c| c.starts_with("day,service,booked") && c.contains("2026-11-30,documentos,3")),
        "{csv}"
    );
    central.stop().await;

    // The appointments document holds the bookings and nothing personal, in its whole history.
    // sled lets go of its directory a moment after central stops.
    let store = (0..100)
        .find_map(|_| {
            fila_store::SledStore::open(&dir.path().join("store"), 8 << 20)
                .inspect_err(|_| std::thread::sleep(Duration::from_millis(50)))
                .ok()
        })
        .expect("the store opens");
    let doc_id = fila_protocol::doc::keys::appointments_doc_id(
        "centro",
        fila_protocol::BusinessDay::parse(MONDAY).expect("date"),
    );
    let chunks = fila_store::Store::chunks(&store, &doc_id).expect("chunks").concat();
    let history = automerge::Automerge::load(&chunks).expect("loads").save_nocompress();
    let (appointments, refused) =
        fila_protocol::doc::appointments::read(&automerge::AutoCommit::load(&chunks).expect("loads")).expect("reads");
    assert_eq!((appointments.bookings.len(), refused.len()), (3, 0));
    for (n, _) in &held {
        let number = format!("30{:03}{:03}", n / 1000, n % 1000 + 100);
        for needle in [number.as_str(), "vecino", "Renovación"] {
            assert!(!history.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} is in the document");
        }
    }
}

#[tokio::test]
async fn each_limit_against_hoarding_is_refused_with_its_reason() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central(dir.path(), &smtp, |limits| limits.per_address_per_hour = 5).await;
    let refused = |status: StatusCode, body: &Value, code: &str| {
        assert_eq!(body["error"], code, "{status} {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    };

    // Bad input changes nothing and says what is wrong.
    let mut bad = request(1, "09:00");
    bad["document_type"] = json!("carnet");
    let (status, body) = central.post("/api/v1/public/bookings", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(status, &body, "bad_request");
    let mut bad = request(1, "09:00");
    bad["note"] = json!("x".repeat(301));
    let (status, body) = central.post("/api/v1/public/bookings", bad).await;
    refused(status, &body, "bad_request");
    let (status, body) = central.post("/api/v1/public/bookings", request(1, "09:10")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(status, &body, "no_such_slot");

    // One person, one booking of a service: the same number written differently is the same.
    let (status, first) = central.post("/api/v1/public/bookings", request(1, "09:00")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let code = code_for(&smtp, "vecino1@example.org").await;
    let hold = first["hold"].as_str().expect("hold");
    // Wrong codes: refused, and the hold is dropped after the fifth.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) =
        central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": wrong })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(status, &body, "wrong_code");
    let (status, _) =
        central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": code })).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut again = request(1, "09:30");
    again["document_number"] = json!(" 30000101 ");
    again["contact"] = json!("otra@example.org");
    let (status, body) = central.post("/api/v1/public/bookings", again).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    refused(status, &body, "limit_reached");

    // One client address, a few requests an hour.
    for n in 2..=3 {
        let (status, body) = central.post("/api/v1/public/bookings", request(n, "10:00")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let (status, body) = central.post("/api/v1/public/bookings", request(4, "10:30")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    refused(status, &body, "limit_reached");
    central.stop().await;
}

/// Missed appointments are central's to mark, from the offices' days: after three in 90 days,
/// the same person (however they write their number) is suspended from booking for a while.
/// Central's bookings without its server, for scenarios that move the clock: the office
/// configured, messages queued (never sent: their sending is not what is tested).
struct Direct {
    store: std::sync::Arc<dyn fila_store::Store>,
    hub: std::sync::Arc<fila_central::hub::Hub>,
    bookings: fila_central::bookings::Bookings,
}

fn direct(dir: &std::path::Path, config: Value) -> Direct {
    use std::sync::Arc;
    let store: Arc<dyn fila_store::Store> = Arc::new(fila_store::SledStore::open(dir, 8 << 20).expect("store"));
    let mut settings = common::settings(dir);
    settings.smtp = Some(
        toml::from_str("host = \"localhost\"\nport = 1\nsecurity = \"none\"\nfrom = \"x <a@example.org>\"")
            .expect("smtp"),
    );
    let hub = Arc::new(fila_central::hub::Hub::open(store.clone(), &settings.offices).expect("hub"));
    let raw: fila_protocol::RawOfficeConfig = serde_json::from_value(config).expect("config");
    hub.set_config("centro", &raw, None).expect("configured");
    let outbox = fila_central::outbox::CentralOutbox::open(
        store.clone(),
        &settings,
        "http://127.0.0.1",
        fila_protocol::Timestamp(0),
    );
    let secrets = fila_central::bookings::secrets::Secrets::from_seed("test");
    let bookings = fila_central::bookings::Bookings::new(
        store.clone(),
        hub.clone(),
        Arc::new(outbox.expect("outbox")),
        secrets,
        settings.bookings.clone(),
        "http://central".into(),
    );
    Direct { store, hub, bookings }
}

/// Writes a booking straight into the office's appointments document, as central does.
fn put_booking(
    hub: &fila_central::hub::Hub,
    day: fila_protocol::BusinessDay,
    id: &str,
    start: &str,
    state: fila_protocol::booking::BookingState,
) {
    let booking = fila_protocol::booking::Booking {
        id: id.into(),
        service: fila_protocol::ServiceId("documentos".into()),
        start: fila_protocol::calendar::LocalTime::parse(start).expect("time"),
        minutes: 30,
        state,
        code_hash: "ab".repeat(32),
        booked_at: fila_protocol::Timestamp(0),
        updated_at: fila_protocol::Timestamp(0),
    };
    hub.write_appointments("centro", day, |writer, _| writer.put(&booking)).expect("written");
}

#[test]
fn three_missed_appointments_suspend_that_person_and_personal_data_goes_after_its_retention() {
    use fila_central::bookings::{records, BookingRequest, PersonForm, Refusal};
    use fila_protocol::booking::BookingState;
    use fila_protocol::calendar::LocalTime;
    use fila_protocol::{BusinessDay, Timestamp};

    let dir = tempfile::tempdir().expect("dir");
    let Direct { store, hub, bookings } = direct(dir.path(), office_config(3));
    let secrets = fila_central::bookings::secrets::Secrets::from_seed("test");
    let identity =
        fila_central::bookings::identity::identify(&secrets.identity, "dni", "30.111.222").expect("identity");

    // Three past Mondays' and Tuesdays' bookings of that person, never checked in.
    let days = ["2026-11-16", "2026-11-23", "2026-11-24"];
    for (n, day) in days.iter().enumerate() {
        let day = BusinessDay::parse(day).expect("date");
        let id = format!("MISSED{n}ABCDEFGHJ");
        put_booking(&hub, day, &id, "09:00", BookingState::Booked);
        let record = records::Record {
            id,
            office: "centro".into(),
            day,
            service: "documentos".into(),
            start: "09:00".into(),
            minutes: 30,
            person: records::Person {
                identity_hash: identity.hash.clone(),
                last4: identity.last4.clone(),
                contact: fila_notify::contact::Contact::email("a@example.org").expect("contact"),
                contact_fingerprint: "f".repeat(64),
                lang: "es".into(),
                note: None,
            },
            state: "booked".into(),
            created_at: 0,
            pass: String::new(),
            short_code: String::new(),
            manage_hash: String::new(),
        };
        records::put_record(store.as_ref(), &record).expect("record");
        // Central settles each day the evening after it.
        let evening = Timestamp(
            day.start(&jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").expect("zone")).0 + 20 * 3_600_000,
        );
        assert_eq!(bookings.settle(evening).expect("settled"), 1);
        assert_eq!(
            hub.appointments("centro", day).expect("read").bookings.values().next().map(|b| b.state),
            Some(BookingState::NoShow)
        );
    }
    assert_eq!(records::no_shows(store.as_ref(), &identity.hash).expect("no-shows").len(), 3);

    let request = BookingRequest {
        office: "centro".into(),
        service: "documentos".into(),
        day: BusinessDay::parse("2026-11-30").expect("date"),
        start: LocalTime::parse("10:00").expect("time"),
        person: PersonForm {
            document_type: "dni".into(),
            document_number: "30111222".into(),
            contact: "otro@example.org".into(),
            lang: "es".into(),
            note: None,
        },
    };
    let refused = bookings.request(request, "127.0.0.1".parse().expect("ip"), common::T0);
    assert!(matches!(&refused, Err(Refusal::Limit(m)) if m.contains("suspended")), "{refused:?}");

    // Thirty days after their day, the bookings' personal part is gone; the missed appointments
    // stay as hashes for the 90 days the limit looks at.
    let later = Timestamp(common::T0.0 + 45 * 86_400_000);
    assert_eq!(bookings.purge(later).expect("purged"), 3);
    assert!(store.scan_meta("booking/record/").expect("scan").is_empty());
    assert!(store.scan_meta(&format!("booking/by-identity/{}/", identity.hash)).expect("scan").is_empty());
    assert_eq!(records::no_shows(store.as_ref(), &identity.hash).expect("no-shows").len(), 3);
    assert_eq!(bookings.purge(Timestamp(common::T0.0 + 120 * 86_400_000)).expect("purged"), 0);
    assert!(records::no_shows(store.as_ref(), &identity.hash).expect("no-shows").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_without_e_mail_books_with_a_code_sent_by_sms_through_the_providers_gateway() {
    let stub = fila_notify::testing::sms_gateway::Stub::start(200).await;
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = common::settings(dir.path());
    let gateway = format!(
        "url = \"http://127.0.0.1:{}/v1/sms\"\nheaders = {{ Authorization = \"Bearer k\" }}\n\
         body = '{{\"to\": \"{{to}}\", \"text\": \"{{text}}\"}}'",
        stub.port
    );
    settings.sms_gateway = Some(toml::from_str(&gateway).expect("gateway settings"));
    let central = common::spawn_with(settings).await;
    configure(&central, office_config(3)).await;

    // The booking page asks for what central can send to: here a mobile number only.
    let (_, services) = central.get("/api/v1/public/offices/centro/services", None).await;
    assert_eq!(services["contact_by"], json!(["sms"]), "{services}");
    // A national number takes the deployment's country code (54 in the demo).
    let mut body = request(1, "09:30");
    body["contact"] = json!("011 15-2345-6789");
    let (status, held) = central.post("/api/v1/public/bookings", body).await;
    assert_eq!((status, &held["sent_by"]), (StatusCode::ACCEPTED, &json!("sms")), "{held}");
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    let sms = loop {
        if let Some(request) = stub.requests().into_iter().next() {
            break serde_json::from_slice::<Value>(&request.body).expect("the provider gets JSON");
        }
        assert!(tokio::time::Instant::now() < deadline, "no SMS reached the provider");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(sms["to"], "+54111523456789", "{sms}");
    let text = sms["text"].as_str().expect("text");
    let code: String = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a code").into();
    let hold = held["hold"].as_str().expect("hold");
    let (status, confirmed) =
        central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": code })).await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");

    // Garbage is refused by name, before anything is held.
    let mut body = request(2, "09:30");
    body["contact"] = json!("llámame");
    let (status, refused) = central.post("/api/v1/public/bookings", body).await;
    assert_eq!((status, &refused["error"]), (StatusCode::BAD_REQUEST, &json!("bad_request")), "{refused}");
    assert_eq!(free_at(&central, "09:30").await, 2);
    central.stop().await;
}

/// Books `start` on Monday for citizen `n` through the public API: request, code, confirm.
async fn book(central: &TestCentral, smtp: &SmtpServer, n: usize, start: &str) -> Value {
    let (status, held) = central.post("/api/v1/public/bookings", request(n, start)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{held}");
    let code = code_for(smtp, &format!("vecino{n}@example.org")).await;
    let hold = held["hold"].as_str().expect("hold");
    let (status, confirmed) =
        central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": code })).await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");
    confirmed
}

fn wait_request(n: usize, from: &str, until: &str) -> Value {
    let mut body = request(n, "08:00");
    let body = body.as_object_mut().expect("object");
    body.remove("day");
    body.remove("start");
    body.insert("from".into(), json!(from));
    body.insert("until".into(), json!(until));
    json!(body)
}

/// The hold and token of the offer that reached `address`, from the link in its message.
async fn offer_for(smtp: &SmtpServer, address: &str) -> (String, String) {
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        let text = smtp
            .received()
            .into_iter()
            .find(|m| m["rcpt_tos"][0] == json!(address) && m["subject"].as_str().is_some_and(|s| s.contains("libre")))
            .and_then(|m| m["text"].as_str().map(str::to_string));
        if let Some(text) = text {
            let link = text.split_whitespace().find(|w| w.contains("#offer=")).expect("the offer's link");
            let (hold, token) = link.split("#offer=").nth(1).expect("offer").split_once('.').expect("hold.token");
            return (hold.to_string(), token.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_string());
        }
        assert!(tokio::time::Instant::now() < deadline, "no offer reached {address}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_slot_goes_to_the_first_on_the_waiting_list_and_a_moved_booking_frees_its_old_one() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central(dir.path(), &smtp, |limits| limits.per_address_per_hour = 1_000).await;
    // Monday and Tuesday have two slots of one place each.
    configure(&central, office_config_open(1, "08:00-09:00")).await;
    let first = book(&central, &smtp, 1, "08:00").await;
    let second = book(&central, &smtp, 2, "08:30").await;

    // While a slot is free the waiting list sends citizens to book it.
    let (status, refused) = central.post("/api/v1/public/waitlist", wait_request(3, MONDAY, "2026-12-01")).await;
    assert_eq!((status, &refused["error"]), (StatusCode::CONFLICT, &json!("slots_free")), "{refused}");
    // Monday is full: two citizens wait for it, in the order they came.
    let (status, third) = central.post("/api/v1/public/waitlist", wait_request(3, MONDAY, MONDAY)).await;
    assert_eq!((status, &third["position"]), (StatusCode::CREATED, &json!(1)), "{third}");
    let (status, fourth) = central.post("/api/v1/public/waitlist", wait_request(4, MONDAY, MONDAY)).await;
    assert_eq!((status, &fourth["position"]), (StatusCode::CREATED, &json!(2)), "{fourth}");
    let (status, again) = central.post("/api/v1/public/waitlist", wait_request(3, MONDAY, MONDAY)).await;
    assert_eq!((status, &again["error"]), (StatusCode::CONFLICT, &json!("already_waiting")), "{again}");
    let (status, backwards) = central.post("/api/v1/public/waitlist", wait_request(5, MONDAY, "2026-11-20")).await;
    assert_eq!((status, &backwards["error"]), (StatusCode::BAD_REQUEST, &json!("bad_request")), "{backwards}");
    assert!(!third.to_string().contains("vecino3"), "no contact in the answer: {third}");

    // The first citizen cancels: the slot is offered at once to the first in line, held for them.
    let token = |v: &Value| v["manage_token"].as_str().expect("token").to_string();
    let (status, _) = central.post(&format!("/api/v1/public/bookings/{}/cancel", token(&first)), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, place) = central.get(&format!("/api/v1/public/waitlist/{}", token(&third)), None).await;
    assert_eq!((&place["state"], &place["offer"]["start"]), (&json!("offered"), &json!("08:00")), "{place}");
    assert_eq!(free_at(&central, "08:00").await, 0, "the offer holds the place");
    let (_, place) = central.get(&format!("/api/v1/public/waitlist/{}", token(&fourth)), None).await;
    assert_eq!((&place["state"], &place["position"]), (&json!("waiting"), &json!(2)), "{place}");
    // The link in the message takes it.
    let (hold, offer_token) = offer_for(&smtp, "vecino3@example.org").await;
    let (status, wrong) =
        central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": "123456" })).await;
    assert_eq!((status, &wrong["error"]), (StatusCode::BAD_REQUEST, &json!("wrong_code")), "{wrong}");
    let (status, taken) =
        central.post(&format!("/api/v1/public/bookings/holds/{hold}/confirm"), json!({ "code": offer_token })).await;
    assert_eq!((status, &taken["start"]), (StatusCode::CREATED, &json!("08:00")), "{taken}");
    let (_, place) = central.get(&format!("/api/v1/public/waitlist/{}", token(&third)), None).await;
    assert_eq!((&place["state"], &place["position"]), (&json!("taken"), &Value::Null), "{place}");

    // The second citizen moves to Tuesday: same link, new codes; their Monday slot goes to the
    // next in line.
    let move_path = format!("/api/v1/public/bookings/{}/move", token(&second));
    let (status, moved) = central.post(&move_path, json!({ "day": "2026-12-01", "start": "08:00" })).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!((&moved["day"], &moved["manage_token"]), (&json!("2026-12-01"), &second["manage_token"]), "{moved}");
    assert_ne!(moved["short_code"], second["short_code"]);
    let (_, seen) = central.get(&format!("/api/v1/public/bookings/{}", token(&second)), None).await;
    assert_eq!((&seen["day"], &seen["state"]), (&json!("2026-12-01"), &json!("booked")), "{seen}");
    let (status, full) = central.post(&move_path, json!({ "day": MONDAY, "start": "08:00" })).await;
    assert_eq!((status, &full["error"]), (StatusCode::CONFLICT, &json!("slot_full")), "{full}");
    let (_, place) = central.get(&format!("/api/v1/public/waitlist/{}", token(&fourth)), None).await;
    assert_eq!((&place["state"], &place["offer"]["start"]), (&json!("offered"), &json!("08:30")), "{place}");
    // The fourth leaves instead: the place is free for anyone.
    let (status, left) = central.post(&format!("/api/v1/public/waitlist/{}/leave", token(&fourth)), json!({})).await;
    assert_eq!((status, &left["state"]), (StatusCode::OK, &json!("left")), "{left}");
    assert_eq!(free_at(&central, "08:30").await, 1);

    // Headquarters sees the offers made and taken.
    let (_, report) =
        central.get(&format!("/api/v1/bookings/report?office=centro&from={MONDAY}"), Some(common::HQ)).await;
    let monday = report["rows"].as_array().expect("rows").iter().find(|r| r["day"] == MONDAY).cloned();
    let monday = monday.expect("Monday's row");
    assert_eq!((&monday["waitlist_offers"], &monday["waitlist_taken"]), (&json!(2), &json!(1)), "{report}");
    central.stop().await;
}

#[test]
fn an_unanswered_offer_lapses_and_the_place_passes_to_the_next_in_line() {
    use fila_central::bookings::waitlist::WaitRequest;
    use fila_central::bookings::PersonForm;
    use fila_protocol::booking::BookingState;
    use fila_protocol::{BusinessDay, Timestamp};

    let dir = tempfile::tempdir().expect("dir");
    let Direct { hub, bookings, .. } = direct(dir.path(), office_config_open(1, "08:00-09:00"));
    let monday = BusinessDay::parse(MONDAY).expect("date");
    put_booking(&hub, monday, "FULLAAAAAAAAAAA1", "08:00", BookingState::Booked);
    put_booking(&hub, monday, "FULLAAAAAAAAAAA2", "08:30", BookingState::Booked);
    let join = |n: usize| {
        let request = WaitRequest {
            office: "centro".into(),
            service: "documentos".into(),
            from: monday,
            until: monday,
            person: PersonForm {
                document_type: "dni".into(),
                document_number: format!("40.000.{n:03}"),
                contact: format!("espera{n}@example.org"),
                lang: "es".into(),
                note: None,
            },
        };
        bookings.join_waitlist(request, "127.0.0.1".parse().expect("ip"), common::T0).expect("in line").1
    };
    let (first, second) = (join(1), join(2));
    let state = |token: &str| bookings.in_line(token).expect("place").waiting.state.name();
    assert_eq!(bookings.offer_freed(common::T0).expect("offered"), 0, "nothing is free");

    // A place frees (the office's booking was cancelled): the first in line is offered it.
    put_booking(&hub, monday, "FULLAAAAAAAAAAA1", "08:00", BookingState::Cancelled);
    assert_eq!(bookings.offer_freed(common::T0).expect("offered"), 1);
    assert_eq!((state(&first), state(&second)), ("offered", "waiting"));
    let minutes = |m: i64| Timestamp(common::T0.0 + m * 60_000);
    assert_eq!(bookings.offer_freed(minutes(59)).expect("offered"), 0, "the offer holds for an hour");
    // Unanswered for the hour, it lapses and the same pass offers it to the next.
    assert_eq!(bookings.offer_freed(minutes(61)).expect("offered"), 1);
    assert_eq!((state(&first), state(&second)), ("lapsed", "offered"));
    let offer = bookings.in_line(&second).expect("place").offer.expect("an open offer");
    assert_eq!((offer.0, offer.1.as_str()), (monday, "08:00"));
    // Out of line, the personal part goes at the next purge.
    bookings.purge(minutes(62)).expect("purged");
    assert!(bookings.in_line(&first).is_err(), "the lapsed place is deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_sent_twice_at_once_books_one_place_once() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central(dir.path(), &smtp, |_| {}).await;
    let (status, held) = central.post("/api/v1/public/bookings", request(7, "10:00")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{held}");
    let code = code_for(&smtp, "vecino7@example.org").await;
    let path = format!("/api/v1/public/bookings/holds/{}/confirm", held["hold"].as_str().expect("hold"));
    // A double click: the same code, twice, at the same moment.
    let (first, second) =
        tokio::join!(central.post(&path, json!({ "code": code })), central.post(&path, json!({ "code": code })));
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::NOT_FOUND], "{first:?} {second:?}");
    assert_eq!(free_at(&central, "10:00").await, 2, "one of three places taken");
    let (_, report) =
        central.get(&format!("/api/v1/bookings/report?office=centro&from={MONDAY}"), Some(common::HQ)).await;
    assert_eq!(report["rows"][0]["booked"], json!(1), "{report}");
    central.stop().await;
}

/// The opt-out link at the end of a message from central.
fn opt_out_link(text: &str) -> String {
    let start = text.rfind("http://").expect("a link");
    let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    assert!(link.contains("/o/"), "{link} is the opt-out link");
    link
}

/// Central's messages about bookings as headquarters sees them.
async fn notices(central: &TestCentral, query: &str) -> Vec<Value> {
    let (status, body) = central.get(&format!("/api/v1/notices?{query}"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.to_string().contains("vecino"), "headquarters never sees a contact: {body}");
    body.as_array().expect("a list").clone()
}

#[tokio::test]
async fn every_message_to_a_citizen_ends_with_an_opt_out_link_that_stops_what_is_still_to_come() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central(dir.path(), &smtp, |_| {}).await;
    book(&central, &smtp, 7, "09:00").await;
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while smtp.received().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mails = smtp.received();
    assert_eq!(mails.len(), 2, "the code and the confirmation: {mails:?}");
    let links: Vec<String> = mails.iter().map(|m| opt_out_link(m["text"].as_str().expect("text"))).collect();
    assert!(mails.iter().all(|m| m["text"].as_str().is_some_and(|t| t.contains("Para dejar de recibir mensajes"))));
    // The reminder two hours before the slot waits; headquarters sees it, never to whom.
    let queued = notices(&central, "office=centro&state=queued").await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!((&queued[0]["kind"], &queued[0]["about"]), (&json!("reminder"), &json!("booking")), "{queued:?}");

    // A mail scanner that follows the link stops nothing: the page has a button.
    let page = central.client.get(&links[1]).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("<form method=\"post\""));
    assert_eq!(notices(&central, "office=centro&state=queued").await.len(), 1);
    // The citizen presses it: the reminder will not go, and says why.
    let stopped = central.client.post(&links[1]).send().await.expect("opt-out");
    assert_eq!(stopped.status(), StatusCode::OK);
    assert!(notices(&central, "office=centro&state=queued").await.is_empty());
    let failed = notices(&central, "office=centro&state=failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["reason"], "the citizen opted out", "{failed:?}");
    // Pressing again, or the older message's link, is fine; a made-up link is not one.
    assert_eq!(central.client.post(&links[0]).send().await.expect("again").status(), StatusCode::OK);
    let forged = central.client.post(format!("{}/o/{}", central.base, "0".repeat(32))).send().await.expect("forged");
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    assert_eq!(forged.json::<Value>().await.expect("json")["error"], "not_found");

    // Only analysts list messages, by a known office and state.
    assert_eq!(central.get("/api/v1/notices", None).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = central.get("/api/v1/notices?state=lost", Some(common::HQ)).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("bad_query")), "{body}");
    assert_eq!(central.get("/api/v1/notices?office=nowhere", Some(common::HQ)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(notices(&central, "office=norte").await.len(), 0);
    central.stop().await;
}

#[tokio::test]
async fn a_reminder_due_in_the_quiet_hours_waits_for_the_morning_in_the_offices_zone() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = common::settings(dir.path());
    settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
    settings.notice_rules.quiet_hours = Some("21:00-08:00".into());
    let central = common::spawn_with(settings).await;
    configure(&central, office_config(3)).await;
    // Sunday 10:00 in Buenos Aires: the code is sent at once, quiet hours or not.
    book(&central, &smtp, 8, "09:00").await;
    // Two hours before Monday's 09:00 is 07:00, inside the quiet hours: it goes at 08:00
    // (11:00 UTC), not at 10:00 UTC.
    let queued = notices(&central, "office=centro&state=queued").await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["next_attempt_at"], "2026-11-30T11:00:00Z", "{queued:?}");
    central.stop().await;
}
