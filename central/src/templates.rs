//! Templates by tag: headquarters sets part of a configuration (the call rule, opening hours,
//! services' target waits) once for every office with a tag (a region), and each office keeps
//! the fields it set on its own. The same idea as `signage_network`: central writes into each
//! office's configuration document, and the store's meta keeps what it needs to do it again.
//!
//! An office overrides a field when an edit of its own configuration sets it to something other
//! than the template's value; from then on the template leaves that field alone until the
//! override is dropped (`return_to_template`), which writes the template's value back. An edit
//! made elsewhere (the office's own administrator, at the box) is noticed when a template is next
//! applied: the field no longer holds the value the template last wrote there. Fields are named
//! `rule`, `calendar.hours`, `services.{id}.target_wait_minutes`, `services.{id}.booking`,
//! `notices.templates` and `notices.survey`.

use std::collections::{BTreeMap, BTreeSet};

use fila_protocol::booking::BookingConfig;
use fila_protocol::calendar::OpeningHours;
use fila_protocol::config::{NoticesConfig, RuleParams, SurveyForm, TemplateConfig};
use fila_protocol::ids::is_valid_id;
use fila_protocol::{ConfigProblem, RawOfficeConfig};
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hub::Hub;
use crate::signage_network::{Outcome, PublishError};

const TEMPLATES: &str = "templates/tag/";
const OVERRIDES: &str = "templates/overrides/";
const WRITTEN: &str = "templates/written/";
pub const RULE: &str = "rule";
pub const HOURS: &str = "calendar.hours";
pub const NOTICE_TEMPLATES: &str = "notices.templates";
pub const SURVEY: &str = "notices.survey";

/// A field a template may set, as its name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field<'a> {
    Rule,
    Hours,
    TargetWait(&'a str),
    Booking(&'a str),
    NoticeTemplates,
    Survey,
}

impl<'a> Field<'a> {
    /// `None` for a name no template uses (service ids hold no dots, so the split is exact).
    fn parse(name: &'a str) -> Option<Field<'a>> {
        match name {
            RULE => Some(Field::Rule),
            HOURS => Some(Field::Hours),
            NOTICE_TEMPLATES => Some(Field::NoticeTemplates),
            SURVEY => Some(Field::Survey),
            _ => {
                let service = name.strip_prefix("services.")?;
                match service.strip_suffix(".target_wait_minutes") {
                    Some(service) => Some(Field::TargetWait(service)),
                    None => service.strip_suffix(".booking").map(Field::Booking),
                }
            }
        }
    }
}

/// What a template sets; what it leaves out stays each office's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The call rule's parameters, all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub rule: Option<RuleParams>,
    /// The opening hours per weekday (`mon`: `["08:00-13:00"]`); closures stay the office's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub hours: Option<OpeningHours>,
    /// Target wait in minutes by service id; offices without the service ignore it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_waits: BTreeMap<String, u32>,
    /// Booking settings by service id (all of `services[].booking`, requirements too); an
    /// office with the service takes bookings for it with these, one without ignores it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub bookings: BTreeMap<String, BookingConfig>,
    /// The notices' texts (`notices.templates`), all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub notice_templates: Option<Vec<TemplateConfig>>,
    /// The satisfaction survey's questions and how long it is answered (`notices.survey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub survey: Option<SurveyForm>,
}

fn target_wait_field(service: &str) -> String {
    format!("services.{service}.target_wait_minutes")
}

fn booking_field(service: &str) -> String {
    format!("services.{service}.booking")
}

impl Template {
    /// The names of the fields it sets.
    pub fn fields(&self) -> Vec<String> {
        let mut fields = Vec::new();
        if self.rule.is_some() {
            fields.push(RULE.to_string());
        }
        if self.hours.is_some() {
            fields.push(HOURS.to_string());
        }
        fields.extend(self.target_waits.keys().map(|service| target_wait_field(service)));
        fields.extend(self.bookings.keys().map(|service| booking_field(service)));
        if self.notice_templates.is_some() {
            fields.push(NOTICE_TEMPLATES.to_string());
        }
        if self.survey.is_some() {
            fields.push(SURVEY.to_string());
        }
        fields
    }

    /// The template's value of a field it sets.
    fn value(&self, field: &str) -> Option<Value> {
        match Field::parse(field)? {
            Field::Rule => self.rule.as_ref().and_then(json),
            Field::Hours => self.hours.as_ref().and_then(json),
            Field::TargetWait(service) => self.target_waits.get(service).map(|m| (*m).into()),
            Field::Booking(service) => self.bookings.get(service).and_then(json),
            Field::NoticeTemplates => self.notice_templates.as_ref().and_then(json),
            Field::Survey => self.survey.as_ref().and_then(json),
        }
    }

    /// Every problem of the template itself, at once, each at the path of its field in the
    /// template (`bookings.documentos.checkin_late_minutes`, `notice_templates[0].kind`,
    /// `survey.open_days`): what no office could take. What only some offices cannot take (a
    /// booking where an office has no opening hours) is told per office when it is applied.
    pub fn check(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |at: String, text: String| problems.push(ConfigProblem { at, problem: text });
        let services =
            self.target_waits.keys().map(|s| ("target_waits", s)).chain(self.bookings.keys().map(|s| ("bookings", s)));
        for (map, service) in services {
            if !is_valid_id(service) {
                problem(
                    map.to_string(),
                    format!("{:?} is not a service id", service.chars().take(40).collect::<String>()),
                );
            }
        }
        for (service, booking) in self.bookings.iter().filter(|(service, _)| is_valid_id(service)) {
            booking.check(&format!("bookings.{service}"), &mut problem);
        }
        if self.notice_templates.is_some() || self.survey.is_some() {
            let notices = NoticesConfig {
                templates: self.notice_templates.clone().unwrap_or_default(),
                survey: self.survey.unwrap_or_default(),
            };
            notices.check(&mut problem);
            if let Err(found) = fila_notify::template::check_configured(&notices) {
                found.into_iter().for_each(|p| problem(p.at, p.problem));
            }
        }
        problems.iter_mut().for_each(|p| p.at = template_path(&p.at));
        problems
    }

    /// Writes into `raw` every field it sets but those `overridden`.
    fn apply(&self, raw: &mut RawOfficeConfig, overridden: &BTreeSet<String>) {
        if let Some(rule) = self.rule.as_ref().filter(|_| !overridden.contains(RULE)) {
            raw.rule = rule.clone();
        }
        if let Some(hours) = self.hours.as_ref().filter(|_| !overridden.contains(HOURS)) {
            raw.calendar.hours = hours.clone();
        }
        for (service, minutes) in &self.target_waits {
            if overridden.contains(&target_wait_field(service)) {
                continue;
            }
            if let Some(service) = raw.services.iter_mut().find(|s| s.id.as_str() == service) {
                service.target_wait_minutes = *minutes;
            }
        }
        for (service, booking) in &self.bookings {
            if overridden.contains(&booking_field(service)) {
                continue;
            }
            if let Some(service) = raw.services.iter_mut().find(|s| s.id.as_str() == service) {
                service.booking = Some(booking.clone());
            }
        }
        if let Some(texts) = self.notice_templates.as_ref().filter(|_| !overridden.contains(NOTICE_TEMPLATES)) {
            raw.notices.templates = texts.clone();
        }
        if let Some(survey) = self.survey.filter(|_| !overridden.contains(SURVEY)) {
            raw.notices.survey = survey;
        }
    }
}

fn json(value: &impl Serialize) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// A path of an office's configuration as the template names it (`notices.survey.open_days` is
/// the template's `survey.open_days`).
fn template_path(at: &str) -> String {
    let renamed = [(NOTICE_TEMPLATES, "notice_templates"), (SURVEY, "survey")];
    renamed
        .iter()
        .find_map(|(office, template)| at.strip_prefix(office).map(|rest| format!("{template}{rest}")))
        .unwrap_or_else(|| at.to_string())
}

/// An office's value of a field a template may set: `None` when the office has no such field
/// (no such service); a service without bookings has `null` as its booking.
fn office_value(raw: &RawOfficeConfig, field: &str) -> Option<Value> {
    let service = |id: &str| raw.services.iter().find(|s| s.id.as_str() == id);
    match Field::parse(field)? {
        Field::Rule => json(&raw.rule),
        Field::Hours => json(&raw.calendar.hours),
        Field::TargetWait(id) => service(id).map(|s| s.target_wait_minutes.into()),
        Field::Booking(id) => service(id).and_then(|s| json(&s.booking)),
        Field::NoticeTemplates => json(&raw.notices.templates),
        Field::Survey => json(&raw.notices.survey),
    }
}

/// Every template, by tag. Blocking.
pub fn list(store: &dyn Store) -> Result<BTreeMap<String, Template>, StoreError> {
    Ok(store
        .scan_meta(TEMPLATES)?
        .into_iter()
        .filter_map(|(key, bytes)| {
            let tag = key.strip_prefix(TEMPLATES)?.to_string();
            Some((tag, serde_json::from_slice(&bytes).ok()?))
        })
        .collect())
}

/// The fields an office set on its own, which its templates leave alone. Blocking.
pub fn overrides(store: &dyn Store, office: &str) -> Result<BTreeSet<String>, StoreError> {
    Ok(store
        .get_meta(&format!("{OVERRIDES}{office}"))?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default())
}

fn save_overrides(store: &dyn Store, office: &str, fields: &BTreeSet<String>) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(fields).map_err(|e| StoreError::Transaction(e.to_string()))?;
    store.put_meta(&format!("{OVERRIDES}{office}"), &bytes)
}

/// The templates that reach an office with these tags, in tag order (a later tag wins a field
/// two templates set).
fn reaching<'a>(templates: &'a BTreeMap<String, Template>, tags: &[String]) -> Vec<&'a Template> {
    templates.iter().filter(|(tag, _)| tags.contains(tag)).map(|(_, template)| template).collect()
}

/// Stores `template` for `tag` and writes it into every office with the tag. Blocking.
pub fn put(hub: &Hub, store: &dyn Store, tag: &str, template: &Template) -> Result<Vec<Outcome>, PublishError> {
    let bytes = serde_json::to_vec(template).map_err(|e| StoreError::Transaction(e.to_string()))?;
    store.put_meta(&format!("{TEMPLATES}{tag}"), &bytes)?;
    let templates = list(store)?;
    let mut outcomes = Vec::new();
    for office in hub.offices() {
        let Some((raw, _)) = hub.config(&office.id)? else { continue };
        if raw.office.tags.iter().any(|t| t == tag) {
            outcomes.push(apply_to(hub, store, &templates, &office.id, raw)?);
        }
    }
    store.flush()?;
    Ok(outcomes)
}

/// The value templates last wrote into each field of an office, to tell an edit made since
/// elsewhere (the office's own administrator, at the box) from the template's own value.
fn written(store: &dyn Store, office: &str) -> Result<BTreeMap<String, Value>, StoreError> {
    Ok(store.get_meta(&format!("{WRITTEN}{office}"))?.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default())
}

fn save_written(store: &dyn Store, office: &str, written: &BTreeMap<String, Value>) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(written).map_err(|e| StoreError::Transaction(e.to_string()))?;
    store.put_meta(&format!("{WRITTEN}{office}"), &bytes)
}

fn apply_to(
    hub: &Hub,
    store: &dyn Store,
    templates: &BTreeMap<String, Template>,
    office: &str,
    mut raw: RawOfficeConfig,
) -> Result<Outcome, PublishError> {
    let mut overridden = overrides(store, office)?;
    let mut written = written(store, office)?;
    // A field no longer what a template wrote was changed by the office: it is its own now.
    let departed: Vec<String> = written
        .iter()
        .filter(|(field, value)| !overridden.contains(*field) && office_value(&raw, field).as_ref() != Some(*value))
        .map(|(field, _)| field.clone())
        .collect();
    if !departed.is_empty() {
        overridden.extend(departed);
        save_overrides(store, office, &overridden)?;
    }
    let reaching = reaching(templates, &raw.office.tags);
    for template in &reaching {
        template.apply(&mut raw, &overridden);
    }
    if let Err(problems) = raw.clone().validate() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Ok(Outcome { office: office.to_string(), changed: false, problem: Some(list.join("; ")) });
    }
    let changed = hub.set_config(office, &raw, None)?;
    for field in reaching.iter().flat_map(|template| template.fields()) {
        match office_value(&raw, &field).filter(|_| !overridden.contains(&field)) {
            Some(value) => written.insert(field, value),
            None => written.remove(&field),
        };
    }
    save_written(store, office, &written)?;
    Ok(Outcome { office: office.to_string(), changed, problem: None })
}

/// After an edit of an office's own configuration: the fields its templates set that the edit
/// changed to something else than the template's value are the office's own from now on.
/// Called before the edit is written (see `put_config`) and flushed; returns the fields it
/// added, for `forget_overrides` if the edit is refused. An edit whose override a crash lost
/// anyway is still noticed at the next application (`written`). Blocking.
pub fn note_edit(
    store: &dyn Store,
    before: Option<&RawOfficeConfig>,
    edited: &RawOfficeConfig,
) -> Result<BTreeSet<String>, StoreError> {
    let templates = list(store)?;
    let mut overridden = overrides(store, &edited.office.id)?;
    let mut added = BTreeSet::new();
    for template in reaching(&templates, &edited.office.tags) {
        for field in template.fields() {
            let now = office_value(edited, &field);
            // A configuration set for the first time edits nothing: it takes its templates.
            let changed = before.is_some_and(|before| office_value(before, &field) != now);
            if changed && now.is_some() && now != template.value(&field) && overridden.insert(field.clone()) {
                added.insert(field);
            }
        }
    }
    if !added.is_empty() {
        save_overrides(store, &edited.office.id, &overridden)?;
        store.flush()?;
    }
    Ok(added)
}

/// Takes back overrides `note_edit` recorded for an edit that was then refused. Blocking.
pub fn forget_overrides(store: &dyn Store, office: &str, fields: &BTreeSet<String>) -> Result<(), StoreError> {
    if fields.is_empty() {
        return Ok(());
    }
    let mut overridden = overrides(store, office)?;
    overridden.retain(|field| !fields.contains(field));
    save_overrides(store, office, &overridden)?;
    store.flush()
}

/// Writes an office's templates into it, but for its overrides: for an office that just took
/// a tag. Blocking.
pub fn apply_office(hub: &Hub, store: &dyn Store, office: &str) -> Result<Option<Outcome>, PublishError> {
    let Some((raw, _)) = hub.config(office)? else { return Ok(None) };
    let templates = list(store)?;
    if reaching(&templates, &raw.office.tags).is_empty() {
        return Ok(None);
    }
    let outcome = apply_to(hub, store, &templates, office, raw)?;
    store.flush()?;
    Ok(Some(outcome))
}

/// Drops an office's override of `field` and writes its templates into it again. Blocking.
pub fn return_to_template(
    hub: &Hub,
    store: &dyn Store,
    office: &str,
    field: &str,
) -> Result<Option<Outcome>, PublishError> {
    let mut overridden = overrides(store, office)?;
    if !overridden.remove(field) {
        return Ok(None);
    }
    save_overrides(store, office, &overridden)?;
    // What a template once wrote there no longer tells anything about the office's value.
    let mut written = written(store, office)?;
    if written.remove(field).is_some() {
        save_written(store, office, &written)?;
    }
    let Some((raw, _)) = hub.config(office)? else { return Ok(None) };
    let outcome = apply_to(hub, store, &list(store)?, office, raw)?;
    store.flush()?;
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> RawOfficeConfig {
        crate::demo::office_configs().remove(0)
    }

    fn booking_of(raw: &RawOfficeConfig, service: &str) -> Option<BookingConfig> {
        raw.services.iter().find(|s| s.id.as_str() == service).and_then(|s| s.booking.clone())
    }

    /// A template setting every kind of field, with `documentos`' cancel deadline at `minutes`.
    fn template(minutes: u32) -> Template {
        let mut booking = booking_of(&office(), "documentos").expect("the demo's bookable service");
        booking.cancel_deadline_minutes = minutes;
        Template {
            rule: Some(RuleParams::default()),
            target_waits: BTreeMap::from([("general".to_string(), 12)]),
            bookings: BTreeMap::from([("documentos".to_string(), booking)]),
            notice_templates: Some(vec![TemplateConfig {
                kind: "called".into(),
                lang: "es".into(),
                subject: String::new(),
                text: "Turno {ticket}".into(),
            }]),
            survey: Some(SurveyForm { open_days: 3, ..SurveyForm::default() }),
            ..Template::default()
        }
    }

    #[test]
    fn every_field_a_template_sets_reads_back_as_its_value_once_applied() {
        let template = template(45);
        let mut raw = office();
        template.apply(&mut raw, &BTreeSet::new());
        for field in template.fields() {
            assert!(Field::parse(&field).is_some(), "{field}");
            assert_eq!(office_value(&raw, &field), template.value(&field), "{field}");
        }
        assert_eq!(booking_of(&raw, "documentos").map(|b| b.cancel_deadline_minutes), Some(45));
        assert_eq!(raw.notices.survey.open_days, 3);
        assert!(raw.validate().is_ok(), "the result is a valid configuration");
    }

    #[test]
    fn a_template_leaves_alone_the_fields_an_office_overrode() {
        let mut raw = office();
        let overridden = BTreeSet::from([booking_field("documentos"), SURVEY.to_string()]);
        template(45).apply(&mut raw, &overridden);
        assert_eq!(booking_of(&raw, "documentos"), booking_of(&office(), "documentos"));
        assert_eq!(raw.notices.survey, office().notices.survey);
        assert_eq!(raw.notices.templates.len(), 1, "the fields not overridden are applied");
    }

    #[test]
    fn an_office_without_the_service_ignores_its_booking_and_names_no_value_for_it() {
        let mut template = template(45);
        let booking = template.bookings.remove("documentos").expect("booking");
        template.bookings.insert("aduana".into(), booking);
        let mut raw = office();
        template.apply(&mut raw, &BTreeSet::new());
        assert_eq!(booking_of(&raw, "documentos"), booking_of(&office(), "documentos"));
        assert_eq!(office_value(&raw, &booking_field("aduana")), None);
        assert_eq!(office_value(&raw, &booking_field("general")), Some(Value::Null), "a service without bookings");
        assert_eq!(Field::parse("office.name"), None);
    }

    #[test]
    fn a_templates_problems_are_named_at_its_own_paths() {
        let mut template = template(45);
        if let Some(booking) = template.bookings.get_mut("documentos") {
            booking.checkin_late_minutes = 500;
        }
        template.survey = Some(SurveyForm { open_days: 0, ..SurveyForm::default() });
        template.notice_templates = Some(vec![TemplateConfig {
            kind: "llamado".into(),
            lang: "es".into(),
            subject: String::new(),
            text: "Turno {ticket}".into(),
        }]);
        template.target_waits.insert("no es un id".into(), 5);
        let at: Vec<String> = template.check().into_iter().map(|p| p.at).collect();
        for expected in
            ["bookings.documentos.checkin_late_minutes", "survey.open_days", "notice_templates[0].kind", "target_waits"]
        {
            assert!(at.iter().any(|a| a == expected), "{expected}: {at:?}");
        }
        assert_eq!(self::template(45).check(), Vec::new());
    }
}
