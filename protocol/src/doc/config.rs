//! The configuration document, `branch/<office>/config`:
//!
//! ```text
//! { schema: 1, office: { id, name, time_zone }, rule: { preferential_ratio, ... },
//!   services:   { "<id>": { position, prefix, name, target_wait_minutes, ... } },
//!   categories: { "<id>": { position, name, max_wait_minutes } },
//!   counters:   { "<id>": { position, name, services: ["general", ...] } },
//!   notices:    { templates: { "<kind>": { "<lang>": { subject, text } } },
//!                 survey: { satisfaction, recommend, resolved, comment, open_days } },
//!   calendar:   { hours: { mon: ["08:00-13:00", ...], ... },
//!                 closures: { "<yyyy-mm-dd>": { until, reason } } } }
//! ```
//! and a bookable service carries `booking: { slot_minutes, ..., requirements: { "<lang>":
//! { documents, fees, forms } } }`.
//! Services, categories and counters are maps keyed by id, so two edits of different entries
//! merge field by field; `position` keeps the order an installer wrote them in.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde_json::{Map, Value as Json};

use super::keys;
use super::DocError;
use crate::config::RawOfficeConfig;

const KEYED_SECTIONS: [&str; 3] = ["services", "categories", "counters"];
const NOTICES: &str = "notices";
const TEMPLATES: &str = "templates";
const CALENDAR: &str = "calendar";
const CLOSURES: &str = "closures";
const SERVICES: &str = "services";
const BOOKING: &str = "booking";
const REQUIREMENTS: &str = "requirements";
const SIGNAGE: &str = "signage";
/// Signage's lists of entries, each keyed in the document by one of its fields.
const SIGNAGE_KEYED: [(&str, &str); 5] =
    [("screens", "id"), ("media", "sha256"), ("playlists", "id"), ("schedules", "id"), ("urgent", "id")];

/// A new configuration document holding `config`. One peer creates it (headquarters, which
/// owns configuration): two independently created skeletons would conflict when merged.
pub fn create(config: &RawOfficeConfig, actor: &[u8]) -> Result<AutoCommit, DocError> {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
    doc.put(ROOT, keys::SCHEMA, keys::SCHEMA_VERSION)?;
    for (section, value) in document_json(config)? {
        put_json(&mut doc, &ROOT, &section, &value)?;
    }
    doc.commit();
    Ok(doc)
}

/// Change an existing document to hold `config`, writing only what differs, field by field.
/// Returns whether anything changed.
///
/// The merge rule that follows: edits of different fields or different entries (a service's
/// name at headquarters, a counter's services at the office) both survive a merge; two edits of
/// the same field resolve to the same value on every replica (automerge's deterministic winner);
/// an entry removed on one side stays removed. The result is validated before any office uses
/// it (`RawOfficeConfig::validate`); an invalid merge leaves the office on its last valid one.
pub fn update(doc: &mut AutoCommit, config: &RawOfficeConfig) -> Result<bool, DocError> {
    let new = document_json(config)?;
    let Json::Object(current) = read_json(doc, &ROOT) else {
        return Err(DocError::Field("config".into()));
    };
    let changed = apply_map(doc, &ROOT, &current, &new)?;
    if changed {
        doc.commit();
    }
    Ok(changed)
}

/// As [`update`], for an editor who saw the document at `base` (a [`version`]): the edit is
/// what they changed from `base`, so a field changed by someone else since then keeps its new
/// value unless this editor changed it too. Without it, a form opened before headquarters'
/// last change would silently put the old values back.
pub fn update_from(doc: &mut AutoCommit, base: &str, config: &RawOfficeConfig) -> Result<bool, DocError> {
    let heads = parse_version(base).ok_or_else(|| DocError::UnknownVersion(base.to_string()))?;
    if heads.iter().any(|head| doc.get_change_by_hash(head).is_none()) {
        return Err(DocError::UnknownVersion(base.to_string()));
    }
    let mut seen = doc.fork_at(&heads)?;
    if !update(&mut seen, config)? {
        return Ok(false);
    }
    doc.merge(&mut seen)?;
    Ok(true)
}

/// The version of the document an editor sees (its heads), to hand back with an edit; an HTTP
/// `ETag`.
pub fn version(doc: &mut AutoCommit) -> String {
    let mut heads: Vec<String> = doc.get_heads().iter().map(ToString::to_string).collect();
    heads.sort();
    heads.join(".")
}

fn parse_version(text: &str) -> Option<Vec<automerge::ChangeHash>> {
    let text = text.trim().trim_start_matches("W/").trim_matches('"');
    if text.is_empty() || text.len() > 64 * 65 {
        return None;
    }
    text.split('.').map(|head| head.parse().ok()).collect()
}

/// The document's shape of a configuration: its sections, with the keyed ones as maps by id.
fn document_json(config: &RawOfficeConfig) -> Result<Map<String, Json>, DocError> {
    let json = serde_json::to_value(config).map_err(|e| DocError::Field(e.to_string()))?;
    let Json::Object(sections) = json else {
        return Err(DocError::Field("config".into()));
    };
    Ok(sections
        .into_iter()
        .map(|(section, value)| match (KEYED_SECTIONS.contains(&section.as_str()), value) {
            (true, Json::Array(mut items)) => {
                if section == SERVICES {
                    for service in &mut items {
                        rekey(service, &[BOOKING, REQUIREMENTS], |list| by_field(list, "lang"));
                    }
                }
                (section, keyed(items))
            }
            (false, mut calendar) if section == CALENDAR => {
                rekey(&mut calendar, &[CLOSURES], |list| by_field(list, "from"));
                (section, calendar)
            }
            (false, mut signage) if section == SIGNAGE => {
                signage_keyed(&mut signage);
                (section, signage)
            }
            (false, Json::Object(mut notices)) if section == NOTICES => {
                if let Some(Json::Array(templates)) = notices.remove(TEMPLATES) {
                    notices.insert(TEMPLATES.into(), templates_by_kind(templates));
                }
                (section, Json::Object(notices))
            }
            (_, value) => (section, value),
        })
        .collect())
}

fn apply_map(
    doc: &mut AutoCommit,
    obj: &ObjId,
    current: &Map<String, Json>,
    new: &Map<String, Json>,
) -> Result<bool, DocError> {
    let mut changed = false;
    for (key, value) in new {
        match (current.get(key), value) {
            (Some(old), value) if old == value => {}
            (Some(Json::Object(old)), Json::Object(fields)) => match doc.get(obj, key.as_str())? {
                Some((Value::Object(ObjType::Map), child)) => changed |= apply_map(doc, &child, old, fields)?,
                _ => {
                    put_json(doc, obj, key, value)?;
                    changed = true;
                }
            },
            _ => {
                put_json(doc, obj, key, value)?;
                changed = true;
            }
        }
    }
    for key in current.keys().filter(|k| !new.contains_key(*k) && k.as_str() != keys::SCHEMA) {
        doc.delete(obj, key.as_str())?;
        changed = true;
    }
    Ok(changed)
}

/// The configuration a document holds (unchecked: call `validate` on it).
pub fn read(doc: &AutoCommit) -> Result<RawOfficeConfig, DocError> {
    let schema = super::scalar::Record::read(doc, &ROOT).int(keys::SCHEMA)?;
    if schema != keys::SCHEMA_VERSION {
        return Err(DocError::Schema { expected: keys::SCHEMA_VERSION, found: schema });
    }
    let Json::Object(mut sections) = read_json(doc, &ROOT) else {
        return Err(DocError::Field("config".into()));
    };
    sections.remove(keys::SCHEMA);
    for section in KEYED_SECTIONS {
        if let Some(Json::Object(mut entries)) = sections.remove(section) {
            if section == SERVICES {
                for service in entries.values_mut() {
                    rekey(service, &[BOOKING, REQUIREMENTS], |map| listed_by_field(map, "lang"));
                }
            }
            sections.insert(section.to_string(), unkeyed(entries));
        }
    }
    if let Some(calendar) = sections.get_mut(CALENDAR) {
        rekey(calendar, &[CLOSURES], |map| listed_by_field(map, "from"));
    }
    if let Some(signage) = sections.get_mut(SIGNAGE) {
        signage_listed(signage);
    }
    if let Some(Json::Object(notices)) = sections.get_mut(NOTICES) {
        if let Some(Json::Object(by_kind)) = notices.remove(TEMPLATES) {
            notices.insert(TEMPLATES.into(), templates_listed(by_kind));
        }
    }
    serde_json::from_value(Json::Object(sections)).map_err(|e| DocError::Field(e.to_string()))
}

/// Templates as `{kind: {lang: {subject, text}}}`: headquarters editing one language and the
/// office another merge.
fn templates_by_kind(items: Vec<Json>) -> Json {
    let mut by_kind = Map::new();
    for item in items {
        let Json::Object(mut fields) = item else { continue };
        let text = |value: Option<Json>| value.and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        let (kind, lang) = (text(fields.remove("kind")), text(fields.remove("lang")));
        if let Json::Object(langs) = by_kind.entry(kind).or_insert_with(|| Json::Object(Map::new())) {
            langs.insert(lang, Json::Object(fields));
        }
    }
    Json::Object(by_kind)
}

fn templates_listed(by_kind: Map<String, Json>) -> Json {
    let mut items = Vec::new();
    for (kind, langs) in by_kind {
        let Json::Object(langs) = langs else { continue };
        for (lang, fields) in langs {
            let mut fields = match fields {
                Json::Object(fields) => fields,
                _ => Map::new(),
            };
            fields.insert("kind".into(), Json::String(kind.clone()));
            fields.insert("lang".into(), Json::String(lang));
            items.push(Json::Object(fields));
        }
    }
    Json::Array(items)
}

/// Replaces the value at `path` inside `value` (objects all the way) by `change` of it.
fn rekey(value: &mut Json, path: &[&str], change: impl FnOnce(Json) -> Json) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut at = value;
    for key in parents {
        match at.get_mut(*key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Some(Json::Object(fields)) = Some(at) {
        if let Some(old) = fields.remove(*last) {
            fields.insert((*last).to_string(), change(old));
        }
    }
}

/// A list of objects as a map by one of their fields (a closure by its date, requirements by
/// their language): automerge lists hold scalars here, and entries keyed by what they are
/// merge one by one.
fn by_field(list: Json, field: &str) -> Json {
    let Json::Array(items) = list else { return list };
    let mut map = Map::new();
    for item in items {
        let Json::Object(mut fields) = item else { continue };
        let key = fields.remove(field).and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        map.insert(key, Json::Object(fields));
    }
    Json::Object(map)
}

/// Back from [`by_field`], in the key's order.
fn listed_by_field(map: Json, field: &str) -> Json {
    let Json::Object(entries) = map else { return map };
    Json::Array(
        entries
            .into_iter()
            .map(|(key, value)| {
                let mut fields = match value {
                    Json::Object(fields) => fields,
                    _ => Map::new(),
                };
                fields.insert(field.to_string(), Json::String(key));
                Json::Object(fields)
            })
            .collect(),
    )
}

/// Signage in the document's shape: playlists, schedules and the rest as maps by id (a campaign
/// added at headquarters and an urgent message added at the office both survive a merge), a
/// playlist's items by their position, texts by language.
fn signage_keyed(signage: &mut Json) {
    let Json::Object(sections) = signage else { return };
    for (list, field) in SIGNAGE_KEYED {
        if let Some(Json::Array(items)) = sections.remove(list) {
            let mut entries = keyed_by(items, field);
            if let Json::Object(entries) = &mut entries {
                for entry in entries.values_mut() {
                    rekey(entry, &["texts"], |texts| by_field(texts, "lang"));
                    rekey(entry, &["items"], |items| {
                        let Json::Array(items) = items else { return items };
                        let mut by_position = Map::new();
                        for (position, mut item) in items.into_iter().enumerate() {
                            rekey(&mut item, &["slide"], |slides| by_field(slides, "lang"));
                            by_position.insert(format!("{position:04}"), item);
                        }
                        Json::Object(by_position)
                    });
                }
            }
            sections.insert(list.to_string(), entries);
        }
    }
    rekey(signage, &["ticker"], |ticker| by_field(ticker, "lang"));
}

/// Back from [`signage_keyed`].
fn signage_listed(signage: &mut Json) {
    let Json::Object(sections) = signage else { return };
    for (list, field) in SIGNAGE_KEYED {
        if let Some(Json::Object(mut entries)) = sections.remove(list) {
            for entry in entries.values_mut() {
                rekey(entry, &["texts"], |texts| listed_by_field(texts, "lang"));
                rekey(entry, &["items"], |items| {
                    let Json::Object(by_position) = items else { return items };
                    // Keys are zero-padded positions: the map's order is the playlist's.
                    Json::Array(
                        by_position
                            .into_iter()
                            .map(|(_, mut item)| {
                                rekey(&mut item, &["slide"], |slides| listed_by_field(slides, "lang"));
                                item
                            })
                            .collect(),
                    )
                });
            }
            sections.insert(list.to_string(), unkeyed_by(entries, field));
        }
    }
    rekey(signage, &["ticker"], |ticker| listed_by_field(ticker, "lang"));
}

fn keyed(items: Vec<Json>) -> Json {
    keyed_by(items, "id")
}

/// Entries as a map by `field`, each remembering its position.
fn keyed_by(items: Vec<Json>, field: &str) -> Json {
    let mut map = Map::new();
    for (position, item) in items.into_iter().enumerate() {
        if let Json::Object(mut fields) = item {
            let id = fields.remove(field).and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            fields.insert("position".into(), Json::from(position));
            map.insert(id, Json::Object(fields));
        }
    }
    Json::Object(map)
}

fn unkeyed(entries: Map<String, Json>) -> Json {
    unkeyed_by(entries, "id")
}

fn unkeyed_by(entries: Map<String, Json>, field: &str) -> Json {
    let mut items: Vec<(u64, Json)> = entries
        .into_iter()
        .map(|(id, value)| {
            let mut fields = match value {
                Json::Object(fields) => fields,
                _ => Map::new(),
            };
            let position = fields.remove("position").and_then(|p| p.as_u64()).unwrap_or(u64::MAX);
            fields.insert(field.into(), Json::String(id));
            (position, Json::Object(fields))
        })
        .collect();
    items.sort_by_key(|(position, _)| *position);
    Json::Array(items.into_iter().map(|(_, item)| item).collect())
}

fn put_json(doc: &mut AutoCommit, obj: &ObjId, key: &str, value: &Json) -> Result<(), DocError> {
    match value {
        Json::Object(fields) => {
            let child = doc.put_object(obj, key, ObjType::Map)?;
            for (k, v) in fields {
                put_json(doc, &child, k, v)?;
            }
        }
        Json::Array(items) => {
            let child = doc.put_object(obj, key, ObjType::List)?;
            for (index, item) in items.iter().enumerate() {
                match item {
                    Json::Object(_) | Json::Array(_) => return Err(DocError::Field(key.into())),
                    scalar => doc.insert(&child, index, json_scalar(scalar))?,
                }
            }
        }
        scalar => doc.put(obj, key, json_scalar(scalar))?,
    }
    Ok(())
}

fn json_scalar(value: &Json) -> ScalarValue {
    match value {
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => n.as_i64().map_or_else(|| ScalarValue::F64(n.as_f64().unwrap_or(0.0)), ScalarValue::Int),
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        _ => ScalarValue::Null,
    }
}

fn read_json(doc: &AutoCommit, obj: &ObjId) -> Json {
    let value_json = |value: Value<'_>, id: ObjId| match value {
        Value::Object(_) => read_json(doc, &id),
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Boolean(b) => Json::Bool(*b),
            ScalarValue::Int(i) => Json::from(*i),
            ScalarValue::Uint(u) => Json::from(*u),
            ScalarValue::F64(f) => Json::from(*f),
            ScalarValue::Str(s) => Json::String(s.to_string()),
            _ => Json::Null,
        },
    };
    match doc.object_type(obj) {
        Ok(ObjType::List) => Json::Array(
            doc.list_range(obj, ..)
                .map(|item| {
                    let id = item.id();
                    value_json(item.value.into_value(), id)
                })
                .collect(),
        ),
        _ => Json::Object(
            doc.map_range(obj, ..)
                .map(|item| {
                    (item.key.to_string(), {
                        let id = item.id();
                        value_json(item.value.into_value(), id)
                    })
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(config: &RawOfficeConfig, service: usize, name: &str) -> RawOfficeConfig {
        let mut config = config.clone();
        config.services[service].name = name.into();
        config
    }

    #[test]
    fn an_update_writes_only_what_changed() {
        let config = crate::config::tests::sample().to_raw();
        let mut doc = create(&config, b"central").expect("create");
        assert!(!update(&mut doc, &config).expect("update"), "the same configuration changes nothing");
        let new = renamed(&config, 0, "Mesa de entradas");
        assert!(update(&mut doc, &new).expect("update"));
        assert_eq!(read(&doc).expect("read"), new);
        let mut fewer = new.clone();
        fewer.counters.pop();
        update(&mut doc, &fewer).expect("update");
        assert_eq!(read(&doc).expect("read"), fewer, "a removed counter is gone");
    }

    #[test]
    fn an_edit_from_a_stale_form_keeps_what_others_changed_since() {
        let config = crate::config::tests::sample().to_raw();
        let mut doc = create(&config, b"central").expect("create");
        // An administrator opens the form; meanwhile a colleague renames a service.
        let seen = version(&mut doc);
        let colleague = renamed(&config, 0, "Mesa de entradas");
        update(&mut doc, &colleague).expect("colleague's edit");
        // The administrator, from the old form, renames another service.
        let mine = renamed(&config, 1, "Pagos y tasas");
        assert!(update_from(&mut doc, &seen, &mine).expect("edit"));
        let now = read(&doc).expect("read");
        assert_eq!(now.services[0].name, "Mesa de entradas", "the colleague's rename stays");
        assert_eq!(now.services[1].name, "Pagos y tasas", "and so does mine");

        // Without the version, the old form's values would have come back.
        let mut naive = create(&config, b"central").expect("create");
        update(&mut naive, &colleague).expect("colleague's edit");
        update(&mut naive, &mine).expect("edit");
        assert_eq!(read(&naive).expect("read").services[0].name, config.services[0].name);
    }

    #[test]
    fn an_edit_from_an_unknown_or_garbled_version_is_refused_and_changes_nothing() {
        let config = crate::config::tests::sample().to_raw();
        let mut doc = create(&config, b"central").expect("create");
        let before = version(&mut doc);
        let other = version(&mut create(&config, b"elsewhere").expect("create"));
        for base in [other.as_str(), "", "not-a-version", "\"abc\"", &"f".repeat(5000)] {
            let edit = renamed(&config, 0, "X");
            assert!(matches!(update_from(&mut doc, base, &edit), Err(DocError::UnknownVersion(_))), "{base:?}");
        }
        assert_eq!(version(&mut doc), before);
        assert_eq!(read(&doc).expect("read"), config);
    }

    #[test]
    fn edits_of_different_fields_at_headquarters_and_the_office_both_survive_a_merge() {
        let config = crate::config::tests::sample().to_raw();
        let mut hq = create(&config, b"central").expect("create");
        let mut office =
            AutoCommit::load(&hq.save()).expect("load").with_actor(automerge::ActorId::from(b"edge".as_slice()));
        // Concurrently: headquarters renames a service; the office changes what a counter serves.
        update(&mut hq, &renamed(&config, 1, "Pagos y tasas")).expect("hq edit");
        let mut local = config.clone();
        local.counters[1].services.push(crate::ServiceId::new("general"));
        update(&mut office, &local).expect("office edit");
        hq.merge(&mut office).expect("merge");
        office.merge(&mut hq).expect("merge");
        let merged = read(&hq).expect("read");
        assert_eq!(merged, read(&office).expect("read"), "both replicas agree");
        assert_eq!(merged.services[1].name, "Pagos y tasas");
        assert_eq!(merged.counters[1].services.len(), 2);
        assert!(merged.validate().is_ok());
    }

    #[test]
    fn edits_of_the_same_field_resolve_the_same_way_everywhere() {
        let config = crate::config::tests::sample().to_raw();
        let mut hq = create(&config, b"central").expect("create");
        let mut office =
            AutoCommit::load(&hq.save()).expect("load").with_actor(automerge::ActorId::from(b"edge".as_slice()));
        update(&mut hq, &renamed(&config, 0, "Atención al público")).expect("hq edit");
        update(&mut office, &renamed(&config, 0, "Consultas")).expect("office edit");
        hq.merge(&mut office).expect("merge");
        office.merge(&mut hq).expect("merge");
        assert_eq!(read(&hq).expect("read"), read(&office).expect("read"));
    }

    #[test]
    fn configuration_survives_the_document() {
        let config = crate::config::tests::sample().to_raw();
        let doc = create(&config, b"edge-test").expect("create");
        let bytes = doc.clone().save();
        let loaded = AutoCommit::load(&bytes).expect("load");
        assert_eq!(read(&loaded).expect("read"), config);
    }

    #[test]
    fn opening_hours_closures_and_bookable_services_survive_the_document() {
        let mut config = crate::booking::slots::tests::config().to_raw();
        if let Some(booking) = config.services[0].booking.as_mut() {
            booking.requirements = vec![crate::booking::Requirements {
                lang: "es".into(),
                documents: vec!["Cédula anterior".into()],
                fees: vec!["$ 12.000 en caja".into()],
                forms: vec![],
            }];
        }
        let doc = create(&config, b"central").expect("create");
        let loaded = AutoCommit::load(&doc.clone().save()).expect("load");
        assert_eq!(read(&loaded).expect("read"), config);
    }

    fn template(kind: &str, lang: &str, text: &str) -> crate::config::TemplateConfig {
        crate::config::TemplateConfig {
            kind: kind.into(),
            lang: lang.into(),
            subject: String::new(),
            text: text.into(),
        }
    }

    #[test]
    fn templates_and_the_survey_form_survive_the_document() {
        let mut config = crate::config::tests::sample().to_raw();
        config.notices.templates = vec![
            template("called", "en", "Ticket {ticket}: counter {counter}."),
            template("called", "es", "Turno {ticket}: ventanilla {counter}."),
            template("survey_invite", "es", "¿Cómo le atendimos? {link}"),
        ];
        config.notices.survey.recommend = false;
        config.notices.survey.open_days = 3;
        let doc = create(&config, b"central").expect("create");
        let loaded = AutoCommit::load(&doc.clone().save()).expect("load");
        assert_eq!(read(&loaded).expect("read"), config);
        assert!(read(&loaded).expect("read").validate().is_ok());

        // Back to the defaults: the section goes, and old readers see what they always saw.
        let mut doc = loaded;
        let plain = crate::config::tests::sample().to_raw();
        update(&mut doc, &plain).expect("update");
        assert_eq!(read(&doc).expect("read"), plain);
    }

    #[test]
    fn headquarters_editing_spanish_texts_and_the_office_english_ones_both_survive() {
        let mut config = crate::config::tests::sample().to_raw();
        config.notices.templates = vec![template("called", "es", "Turno {ticket}.")];
        let mut hq = create(&config, b"central").expect("create");
        let mut office =
            AutoCommit::load(&hq.save()).expect("load").with_actor(automerge::ActorId::from(b"edge".as_slice()));
        let mut at_hq = config.clone();
        at_hq.notices.templates[0].text = "Turno {ticket}, ventanilla {counter}.".into();
        update(&mut hq, &at_hq).expect("hq edit");
        let mut at_office = config.clone();
        at_office.notices.templates.insert(0, template("called", "en", "Ticket {ticket}."));
        update(&mut office, &at_office).expect("office edit");
        hq.merge(&mut office).expect("merge");
        office.merge(&mut hq).expect("merge");
        let merged = read(&hq).expect("read");
        assert_eq!(merged, read(&office).expect("read"));
        let texts: Vec<(&str, &str)> =
            merged.notices.templates.iter().map(|t| (t.lang.as_str(), t.text.as_str())).collect();
        assert_eq!(texts, [("en", "Ticket {ticket}."), ("es", "Turno {ticket}, ventanilla {counter}.")]);
    }
}
