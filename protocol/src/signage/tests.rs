use super::ticker::{spans, Span};
use super::*;
use crate::ids::Timestamp;
use crate::RawOfficeConfig;

const ZONE: &str = "America/Argentina/Buenos_Aires";
const PHOTO: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CLIP: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// An office in the north region with two screens, a default loop, a morning loop, a Christmas
/// campaign on weekdays, the north's own loop and the hall screen's own.
fn office() -> RawOfficeConfig {
    let text = format!(
        r#"
        [office]
        id = "centro"
        name = "Oficina Centro"
        time_zone = "{ZONE}"
        tags = ["norte"]
        [[services]]
        id = "general"
        prefix = "A"
        name = "Atención general"
        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["general"]

        [[signage.screens]]
        id = "sala"
        name = "Sala de espera"
        [[signage.screens]]
        id = "hall"
        name = "Hall"
        profile = "portrait"
        ticker = false

        [[signage.media]]
        sha256 = "{PHOTO}"
        kind = "jpeg"
        bytes = 120000
        width = 1920
        height = 1080
        [[signage.media]]
        sha256 = "{CLIP}"
        kind = "mp4"
        bytes = 4000000
        width = 1920
        height = 1080
        duration_ms = 15000

        [[signage.playlists]]
        id = "default"
        name = "Institucional"
        items = [{{ media = "{PHOTO}", seconds = 10 }}, {{ media = "{CLIP}", seconds = 0 }}]
        [[signage.playlists]]
        id = "morning"
        name = "Mañana"
        items = [{{ slide = [{{ lang = "es", title = "Buen día", body = "Tenga su DNI a mano" }}], seconds = 8 }}]
        [[signage.playlists]]
        id = "christmas"
        name = "Fiestas"
        items = [{{ media = "{PHOTO}", seconds = 12 }}]
        [[signage.playlists]]
        id = "north"
        name = "Región norte"
        items = [{{ media = "{PHOTO}", seconds = 5 }}]
        [[signage.playlists]]
        id = "hall"
        name = "Hall"
        items = [{{ media = "{CLIP}", seconds = 0 }}]

        [[signage.schedules]]
        id = "always"
        playlist = "default"
        [[signage.schedules]]
        id = "mornings"
        playlist = "morning"
        hours = "08:00-12:00"
        [[signage.schedules]]
        id = "xmas"
        playlist = "christmas"
        from = "2026-12-01"
        until = "2026-12-24"
        weekdays = ["mon", "tue", "wed", "thu", "fri"]
        [[signage.schedules]]
        id = "south-only"
        playlist = "north"
        target = "tag:sur"
        [[signage.schedules]]
        id = "hall-own"
        playlist = "hall"
        target = "screen:centro/hall"

        [[signage.ticker]]
        lang = "es"
        text = "Turnos por **internet** en fila.gob"
        "#
    );
    toml::from_str(&text).expect("a configuration")
}

fn checked() -> crate::OfficeConfig {
    office().validate().expect("valid")
}

/// The office's wall-clock time `local` ("2026-12-07T11:59") as an instant.
fn at(local: &str) -> Timestamp {
    let zone = jiff::tz::TimeZone::get(ZONE).expect("zone");
    let datetime: jiff::civil::DateTime = local.parse().expect("a date and time");
    Timestamp(datetime.to_zoned(zone).expect("in the zone").timestamp().as_millisecond())
}

fn playlist_at(config: &crate::OfficeConfig, screen: &str, local: &str) -> Option<String> {
    let playing = playing(&config.signage, &config.id, &config.tags, screen, at(local), &config.time_zone);
    playing.playlist.map(|p| p.id.clone())
}

#[test]
fn a_daypart_switches_at_its_boundary_by_the_offices_clock() {
    let config = checked();
    // Saturday 2026-11-28: no campaign.
    assert_eq!(playlist_at(&config, "sala", "2026-11-28T07:59").as_deref(), Some("default"));
    assert_eq!(playlist_at(&config, "sala", "2026-11-28T08:00").as_deref(), Some("morning"));
    assert_eq!(playlist_at(&config, "sala", "2026-11-28T11:59").as_deref(), Some("morning"));
    assert_eq!(playlist_at(&config, "sala", "2026-11-28T12:00").as_deref(), Some("default"));
}

#[test]
fn a_campaign_runs_on_its_weekdays_between_its_dates_and_then_ends() {
    let config = checked();
    assert_eq!(playlist_at(&config, "sala", "2026-11-30T15:00").as_deref(), Some("default"), "the day before");
    assert_eq!(playlist_at(&config, "sala", "2026-12-01T00:00").as_deref(), Some("christmas"), "from midnight");
    assert_eq!(playlist_at(&config, "sala", "2026-12-01T09:00").as_deref(), Some("christmas"), "over the daypart");
    assert_eq!(playlist_at(&config, "sala", "2026-12-05T15:00").as_deref(), Some("default"), "not on Saturday");
    assert_eq!(playlist_at(&config, "sala", "2026-12-24T23:59").as_deref(), Some("christmas"), "its last day");
    assert_eq!(playlist_at(&config, "sala", "2026-12-25T00:00").as_deref(), Some("default"), "and no more");
}

#[test]
fn a_screens_own_schedule_beats_its_offices_and_another_regions_never_reaches_it() {
    let config = checked();
    assert_eq!(playlist_at(&config, "hall", "2026-12-01T09:00").as_deref(), Some("hall"));
    assert_eq!(playlist_at(&config, "sala", "2026-11-28T15:00").as_deref(), Some("default"), "tag:sur is not ours");
    let mut raw = office();
    raw.office.tags = vec!["sur".into()];
    let south = raw.validate().expect("valid");
    assert_eq!(playlist_at(&south, "sala", "2026-11-28T15:00").as_deref(), Some("north"), "a tag beats all");
}

#[test]
fn an_urgent_message_takes_the_screen_until_it_expires() {
    let mut raw = office();
    raw.signage.urgent.push(UrgentMessage {
        id: "cierre".into(),
        texts: vec![LocalText { lang: "es".into(), text: "La oficina cierra a las 12 hoy".into() }],
        from_ms: at("2026-12-07T09:00").as_ms(),
        until_ms: at("2026-12-07T12:00").as_ms(),
        target: Target::Office("centro".into()),
        by: "sara".into(),
    });
    let config = raw.validate().expect("valid");
    let now = |local| playing(&config.signage, "centro", &config.tags, "sala", at(local), &config.time_zone);
    assert_eq!(now("2026-12-07T08:59").urgent, None);
    assert_eq!(now("2026-12-07T09:00").urgent.map(|u| u.id.as_str()), Some("cierre"));
    assert_eq!(now("2026-12-07T11:59").urgent.map(|u| u.id.as_str()), Some("cierre"));
    assert_eq!(now("2026-12-07T12:00").urgent, None, "expired");
    let other = playing(&config.signage, "norte", &[], "sala", at("2026-12-07T10:00"), &config.time_zone);
    assert_eq!(other.urgent, None, "another office's message");
}

#[test]
fn the_box_keeps_the_media_its_schedules_can_play() {
    let config = checked();
    assert_eq!(config.signage.scheduled_media(), [PHOTO, CLIP].into_iter().collect());
}

#[test]
fn every_problem_in_signage_is_reported_at_once_with_where_it_is() {
    let mut raw = office();
    raw.signage.schedules[1].playlist = "nowhere".into();
    raw.signage.schedules[2].weekdays.push("lunes".into());
    raw.signage.schedules[2].until = Some("2026-11-01".into());
    raw.signage.playlists[0].items.push(Item { media: None, slide: vec![], seconds: 5, langs: vec![] });
    raw.signage.playlists[2].items[0].seconds = 0;
    raw.signage.playlists[3].items[0].media = Some("c".repeat(64));
    raw.signage.media[0].sha256 = "NOT-A-HASH".into();
    raw.signage.ticker[0].text = "<script>\u{7}</script>".into();
    let problems: Vec<String> = raw.validate().expect_err("invalid").iter().map(|p| p.to_string()).collect();
    let expected = [
        "signage.media[0].sha256: must be 64 lowercase hex digits",
        "signage.playlists[0].items[0].media: no media",
        "signage.playlists[0].items[2]: an item is either a media file or a text slide",
        "signage.playlists[2].items[0].media: no media",
        "signage.playlists[3].items[0].media: no media",
        "signage.schedules[1].playlist: no playlist \"nowhere\"",
        "signage.schedules[2].until: ends before it starts",
        "signage.schedules[2].weekdays[5]: \"lunes\" is not mon",
        "signage.ticker[0].text: must be 1-500 characters on one line",
    ];
    for text in expected {
        assert!(problems.iter().any(|p| p.starts_with(text)), "missing {text:?} in {problems:#?}");
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn a_target_reads_only_in_its_four_forms() {
    for good in ["all", "tag:norte", "office:centro", "screen:centro/sala"] {
        let target = Target::try_from(good.to_string()).expect(good);
        assert_eq!(target.to_string(), good);
    }
    for bad in ["", "everyone", "tag:", "office:<b>", "screen:centro", "screen:/sala", "region:norte"] {
        assert!(Target::try_from(bad.to_string()).is_err(), "{bad}");
    }
}

#[test]
fn the_ticker_knows_bold_and_italic_and_keeps_everything_else_as_text() {
    let span = |text: &str, bold, italic| Span { text: text.into(), bold, italic };
    assert_eq!(
        spans("Turnos por **internet** en *fila.gob*"),
        [
            span("Turnos por ", false, false),
            span("internet", true, false),
            span(" en ", false, false),
            span("fila.gob", false, true)
        ]
    );
    assert_eq!(spans("<b onclick=x>hola</b>"), [span("<b onclick=x>hola</b>", false, false)], "markup is text");
    assert_eq!(spans("5 * 3 = 15, **sin cerrar"), [span("5 * 3 = 15, **sin cerrar", false, false)]);
    assert_eq!(spans("  una\n  línea  "), [span("una línea", false, false)]);
    assert!(spans("").is_empty());
}

fn closing_early(by: &str) -> UrgentMessage {
    UrgentMessage {
        id: "cierre".into(),
        texts: vec![
            LocalText { lang: "en".into(), text: "The office closes at 12 today".into() },
            LocalText { lang: "es".into(), text: "La oficina cierra a las 12 hoy".into() },
        ],
        from_ms: at("2026-12-07T09:00").as_ms(),
        until_ms: at("2026-12-07T12:00").as_ms(),
        target: Target::Office("centro".into()),
        by: by.into(),
    }
}

#[test]
fn signage_travels_in_the_configuration_document_and_reads_back_the_same() {
    let mut raw = office();
    raw.signage.urgent.push(closing_early("sara"));
    let doc = crate::doc::config::create(&raw, b"hq").expect("created");
    let read = crate::doc::config::read(&doc).expect("reads");
    assert_eq!(read.signage, raw.signage);
    assert_eq!(read.office.tags, raw.office.tags);
}

#[test]
fn a_campaign_added_at_headquarters_and_an_urgent_message_added_at_the_office_both_survive() {
    let raw = office();
    let mut at_hq = crate::doc::config::create(&raw, b"hq").expect("created");
    let mut at_office = at_hq.fork().with_actor(automerge::ActorId::from(b"edge".as_slice()));
    let mut campaign = raw.clone();
    campaign.signage.schedules.push(Schedule {
        id: "vacunas".into(),
        playlist: "north".into(),
        from: Some("2027-03-01".into()),
        until: Some("2027-03-31".into()),
        weekdays: vec![],
        hours: None,
        target: Target::All,
    });
    crate::doc::config::update(&mut at_hq, &campaign).expect("hq edits");
    let mut urgent = raw.clone();
    urgent.signage.urgent.push(closing_early("sara"));
    crate::doc::config::update(&mut at_office, &urgent).expect("the office edits");
    at_hq.merge(&mut at_office).expect("merged");
    let merged = crate::doc::config::read(&at_hq).expect("reads").signage;
    assert!(merged.schedules.iter().any(|s| s.id == "vacunas"), "{merged:?}");
    assert_eq!(merged.urgent, [closing_early("sara")]);
}
