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
//! `rule`, `calendar.hours` and `services.{id}.target_wait_minutes`.

use std::collections::{BTreeMap, BTreeSet};

use fila_protocol::calendar::OpeningHours;
use fila_protocol::config::RuleParams;
use fila_protocol::RawOfficeConfig;
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
}

fn target_wait_field(service: &str) -> String {
    format!("services.{service}.target_wait_minutes")
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
        fields
    }

    /// The template's value of a field it sets.
    fn value(&self, field: &str) -> Option<Value> {
        match field {
            RULE => self.rule.as_ref().and_then(|rule| serde_json::to_value(rule).ok()),
            HOURS => self.hours.as_ref().and_then(|hours| serde_json::to_value(hours).ok()),
            _ => self
                .target_waits
                .iter()
                .find(|(service, _)| target_wait_field(service) == field)
                .map(|(_, m)| (*m).into()),
        }
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
    }
}

/// An office's value of a field a template may set.
fn office_value(raw: &RawOfficeConfig, field: &str) -> Option<Value> {
    match field {
        RULE => serde_json::to_value(&raw.rule).ok(),
        HOURS => serde_json::to_value(&raw.calendar.hours).ok(),
        _ => raw
            .services
            .iter()
            .find(|s| target_wait_field(s.id.as_str()) == field)
            .map(|s| s.target_wait_minutes.into()),
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
/// Blocking.
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
    }
    Ok(added)
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
