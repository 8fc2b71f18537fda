//! The office configuration: services, counters, preferential categories and the call-next
//! rule's parameters. `RawOfficeConfig` is what a TOML file says; `OfficeConfig` is what was
//! checked. Validation reports every problem at once, so an installer fixes a file in one pass.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::booking::BookingConfig;
use crate::calendar::Calendar;
use crate::ids::{is_valid_id, CategoryId, CounterId, ServiceId};
use crate::limits;
use crate::signage::SignageConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOfficeConfig {
    pub office: RawOffice,
    /// Opening hours and closures; absent from files written before appointments.
    #[serde(default, skip_serializing_if = "Calendar::is_default")]
    pub calendar: Calendar,
    #[serde(default)]
    pub rule: RuleParams,
    #[serde(default)]
    pub services: Vec<ServiceConfig>,
    #[serde(default)]
    pub categories: Vec<CategoryConfig>,
    #[serde(default)]
    pub counters: Vec<CounterConfig>,
    /// Absent from files and documents written before notices existed: the defaults then.
    #[serde(default, skip_serializing_if = "NoticesConfig::is_default")]
    pub notices: NoticesConfig,
    /// The waiting room; absent, it has no capacity set.
    #[serde(default, skip_serializing_if = "RoomConfig::is_default")]
    pub room: RoomConfig,
    /// The waiting room's screens and what they show; absent, no signage.
    #[serde(default, skip_serializing_if = "SignageConfig::is_default")]
    pub signage: SignageConfig,
}

/// `[room]`: how many people the waiting room holds, and when those waiting outside are told
/// to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoomConfig {
    /// Present citizens the room holds; once reached, kiosk tickets say "wait outside". None:
    /// no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// A citizen waiting outside is told to come when the earliest their turn may come is
    /// within their travel time plus this.
    pub come_margin_minutes: u32,
}

impl Default for RoomConfig {
    fn default() -> Self {
        RoomConfig { capacity: None, come_margin_minutes: 10 }
    }
}

impl RoomConfig {
    pub fn is_default(&self) -> bool {
        *self == RoomConfig::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOffice {
    pub id: String,
    pub name: String,
    /// An IANA zone name such as `America/Bogota`; the business day follows it.
    pub time_zone: String,
    /// Where citizens find the office: booking confirmations and calendar files carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Headquarters' groups the office belongs to (a region): signage can aim at a tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub id: ServiceId,
    /// One capital letter printed before the number: `A` in "A-023".
    pub prefix: char,
    pub name: String,
    /// The wait the office aims for; KPIs report the share served within it.
    #[serde(default = "default_target_wait")]
    pub target_wait_minutes: u32,
    /// Used for wait estimates until the day has finished tickets of its own to average.
    #[serde(default = "default_service_minutes")]
    pub expected_service_minutes: u32,
    /// How citizens book it; absent when it takes no appointments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<BookingConfig>,
    /// Whether citizens may join its queue from home (central's public pages).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remote_join: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    pub id: CategoryId,
    pub name: String,
    /// The legal maximum wait for this category, if the law sets one.
    #[serde(default)]
    pub max_wait_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterConfig {
    pub id: CounterId,
    pub name: String,
    /// The services this counter serves, most important first.
    pub services: Vec<ServiceId>,
}

/// Parameters of the call-next rule (see [`crate::rule`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleParams {
    /// After this many preferential calls in a row at a counter, the next call there goes to the
    /// longest-waiting normal ticket, if any: preferential citizens first, but nobody starves.
    pub preferential_ratio: u32,
    /// An appointment becomes due this many minutes before its time.
    pub appointment_early_minutes: u32,
    /// A preferential ticket this close to its legal maximum wait goes before everyone.
    pub legal_wait_margin_minutes: u32,
    /// How recalls a called ticket may get before the next one makes it a no-show.
    pub recalls_max: u8,
    pub service_order: ServiceOrder,
    pub transfer_position: TransferPosition,
}

impl Default for RuleParams {
    fn default() -> Self {
        RuleParams {
            preferential_ratio: 3,
            appointment_early_minutes: 10,
            legal_wait_margin_minutes: 5,
            recalls_max: 2,
            service_order: ServiceOrder::Arrival,
            transfer_position: TransferPosition::Keep,
        }
    }
}

/// How a counter serving several services orders tickets of the same priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceOrder {
    /// First come, first served across all the counter's services.
    Arrival,
    /// The counter's first service empties before its second is called.
    CounterPriority,
}

/// Where a transferred ticket lands in its new service's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferPosition {
    /// By its original arrival time, as if it had queued for the new service from the start.
    Keep,
    /// Ahead of everyone of its priority class who was not transferred.
    Head,
}

/// What the office says to citizens who left a contact, and its survey, as headquarters sets
/// them. The kinds and placeholders of templates are `fila_notify`'s to check (this crate does
/// not know them); here their shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesConfig {
    /// Texts that replace the built-in ones, per kind and language.
    pub templates: Vec<TemplateConfig>,
    pub survey: SurveyForm,
}

impl NoticesConfig {
    pub fn is_default(&self) -> bool {
        *self == NoticesConfig::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// `turn_near`, `called`, `survey_invite`, ...
    pub kind: String,
    /// `es`, `en`: the citizen's language at the kiosk or on the tracking page.
    pub lang: String,
    /// The e-mail's subject; SMS have none.
    #[serde(default)]
    pub subject: String,
    /// With placeholders such as `{ticket}` and `{counter}`.
    pub text: String,
}

/// The satisfaction survey's questions, and how long a survey link is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurveyForm {
    /// 1 to 5.
    pub satisfaction: bool,
    /// 0 to 10: would they recommend the office.
    pub recommend: bool,
    /// Was the procedure resolved.
    pub resolved: bool,
    /// An optional comment.
    pub comment: bool,
    /// Days after the visit its link is answered (the office's own pages take answers that day).
    pub open_days: u32,
}

impl Default for SurveyForm {
    fn default() -> Self {
        SurveyForm { satisfaction: true, recommend: true, resolved: true, comment: true, open_days: 7 }
    }
}

fn default_target_wait() -> u32 {
    20
}
fn default_service_minutes() -> u32 {
    5
}

/// An office's street address is one line a citizen can read aloud to a taxi.
pub const ADDRESS_CHARS_MAX: usize = 200;

/// A checked configuration: ids unique and well-formed, references resolved, time zone known.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeConfig {
    pub id: String,
    pub name: String,
    pub time_zone_name: String,
    pub time_zone: jiff::tz::TimeZone,
    pub address: Option<String>,
    pub calendar: Calendar,
    pub rule: RuleParams,
    pub services: Vec<ServiceConfig>,
    pub categories: Vec<CategoryConfig>,
    pub counters: Vec<CounterConfig>,
    pub notices: NoticesConfig,
    pub room: RoomConfig,
    pub tags: Vec<String>,
    pub signage: SignageConfig,
}

/// One thing wrong with a configuration, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub at: String,
    pub problem: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

impl RawOfficeConfig {
    pub fn parse_toml(text: &str) -> Result<OfficeConfig, Vec<ConfigProblem>> {
        let raw: RawOfficeConfig =
            toml::from_str(text).map_err(|e| vec![ConfigProblem { at: "file".into(), problem: e.to_string() }])?;
        raw.validate()
    }

    pub fn validate(self) -> Result<OfficeConfig, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut problem = |at: String, text: String| problems.push(ConfigProblem { at, problem: text });

        if !is_valid_id(&self.office.id) {
            problem("office.id".into(), "must be 1-32 letters, digits, '-' or '_'".into());
        }
        check_name(&mut problem, "office.name", &self.office.name);
        if let Some(address) = &self.office.address {
            if address.trim().is_empty()
                || address.chars().count() > ADDRESS_CHARS_MAX
                || address.contains(char::is_control)
            {
                problem("office.address".into(), format!("must be 1-{ADDRESS_CHARS_MAX} characters on one line"));
            }
        }
        let time_zone = match jiff::tz::TimeZone::get(&self.office.time_zone) {
            Ok(zone) => Some(zone),
            Err(_) => {
                problem(
                    "office.time_zone".into(),
                    format!(
                        "unknown time zone {:?}; use an IANA name such as \"America/Bogota\"",
                        self.office.time_zone
                    ),
                );
                None
            }
        };
        if self.rule.recalls_max > limits::RECALLS_MAX {
            problem("rule.recalls_max".into(), format!("at most {}", limits::RECALLS_MAX));
        }

        if self.services.is_empty() {
            problem("services".into(), "an office needs at least one service".into());
        }
        if self.services.len() > limits::SERVICES_MAX {
            problem("services".into(), format!("at most {} services", limits::SERVICES_MAX));
        }
        let mut service_ids = BTreeSet::new();
        let mut prefixes = BTreeSet::new();
        for (i, service) in self.services.iter().enumerate() {
            let at = format!("services[{i}]");
            if !is_valid_id(service.id.as_str()) {
                problem(format!("{at}.id"), "must be 1-32 letters, digits, '-' or '_'".into());
            }
            if !service_ids.insert(service.id.clone()) {
                problem(format!("{at}.id"), format!("service {:?} is defined twice", service.id.0));
            }
            if !service.prefix.is_ascii_uppercase() {
                problem(format!("{at}.prefix"), "must be one capital letter A-Z".into());
            } else if !prefixes.insert(service.prefix) {
                problem(format!("{at}.prefix"), format!("prefix {} is used by another service", service.prefix));
            }
            check_name(&mut problem, &format!("{at}.name"), &service.name);
            if service.expected_service_minutes == 0 {
                problem(format!("{at}.expected_service_minutes"), "must be at least 1".into());
            }
            if let Some(booking) = &service.booking {
                booking.check(&format!("{at}.booking"), &mut problem);
                if self.calendar.hours.is_empty() {
                    problem(
                        format!("{at}.booking"),
                        "a bookable service needs the office's opening hours (calendar.hours)".into(),
                    );
                }
            }
        }
        self.calendar.check(&mut problem);

        let mut category_ids = BTreeSet::new();
        if self.categories.len() > limits::CATEGORIES_MAX {
            problem("categories".into(), format!("at most {} categories", limits::CATEGORIES_MAX));
        }
        for (i, category) in self.categories.iter().enumerate() {
            let at = format!("categories[{i}]");
            if !is_valid_id(category.id.as_str()) {
                problem(format!("{at}.id"), "must be 1-32 letters, digits, '-' or '_'".into());
            }
            if !category_ids.insert(category.id.clone()) {
                problem(format!("{at}.id"), format!("category {:?} is defined twice", category.id.0));
            }
            check_name(&mut problem, &format!("{at}.name"), &category.name);
            if category.max_wait_minutes == Some(0) {
                problem(format!("{at}.max_wait_minutes"), "must be at least 1 when set".into());
            }
        }

        if self.counters.is_empty() {
            problem("counters".into(), "an office needs at least one counter".into());
        }
        if self.counters.len() > limits::COUNTERS_MAX {
            problem("counters".into(), format!("at most {} counters", limits::COUNTERS_MAX));
        }
        let mut counter_ids = BTreeSet::new();
        for (i, counter) in self.counters.iter().enumerate() {
            let at = format!("counters[{i}]");
            if !is_valid_id(counter.id.as_str()) {
                problem(format!("{at}.id"), "must be 1-32 letters, digits, '-' or '_'".into());
            }
            if !counter_ids.insert(counter.id.clone()) {
                problem(format!("{at}.id"), format!("counter {:?} is defined twice", counter.id.0));
            }
            check_name(&mut problem, &format!("{at}.name"), &counter.name);
            if counter.services.is_empty() {
                problem(format!("{at}.services"), "a counter must serve at least one service".into());
            }
            let mut seen = BTreeSet::new();
            for service in &counter.services {
                if !service_ids.contains(service) {
                    problem(format!("{at}.services"), format!("unknown service {:?}", service.0));
                }
                if !seen.insert(service) {
                    problem(format!("{at}.services"), format!("service {:?} is listed twice", service.0));
                }
            }
        }

        check_notices(&mut problem, &self.notices);
        for (i, tag) in self.office.tags.iter().enumerate() {
            if !is_valid_id(tag) {
                problem(format!("office.tags[{i}]"), "must be 1-32 letters, digits, '-' or '_'".into());
            }
        }
        self.signage.check(&mut problem);
        if self.room.capacity.is_some_and(|c| c == 0 || c > limits::ROOM_CAPACITY_MAX) {
            problem("room.capacity".into(), format!("must be 1 to {}", limits::ROOM_CAPACITY_MAX));
        }
        if self.room.come_margin_minutes > limits::LAST_CALL_MARGIN_MINUTES_MAX {
            problem(
                "room.come_margin_minutes".into(),
                format!("at most {} minutes", limits::LAST_CALL_MARGIN_MINUTES_MAX),
            );
        }

        match (problems.is_empty(), time_zone) {
            (true, Some(time_zone)) => Ok(OfficeConfig {
                id: self.office.id,
                name: self.office.name,
                time_zone_name: self.office.time_zone,
                time_zone,
                address: self.office.address,
                calendar: self.calendar,
                rule: self.rule,
                services: self.services,
                categories: self.categories,
                counters: self.counters,
                notices: self.notices,
                room: self.room,
                tags: self.office.tags,
                signage: self.signage,
            }),
            _ => Err(problems),
        }
    }
}

impl NoticesConfig {
    /// Every problem of the texts' and the survey's shape, each at its path under `notices`
    /// (the kinds and placeholders are `fila_notify`'s to check). Headquarters' templates by
    /// tag check theirs with it too.
    pub fn check(&self, problem: &mut impl FnMut(String, String)) {
        check_notices(problem, self);
    }
}

fn check_notices(problem: &mut impl FnMut(String, String), notices: &NoticesConfig) {
    if notices.templates.len() > limits::TEMPLATES_MAX {
        problem("notices.templates".into(), format!("at most {} templates", limits::TEMPLATES_MAX));
    }
    let mut seen = BTreeSet::new();
    for (i, template) in notices.templates.iter().enumerate() {
        let at = format!("notices.templates[{i}]");
        if !is_valid_id(&template.kind) {
            problem(format!("{at}.kind"), "must be a kind of notice such as \"called\"".into());
        }
        if template.lang.len() != 2 || !template.lang.bytes().all(|b| b.is_ascii_lowercase()) {
            problem(format!("{at}.lang"), "must be a two-letter language code such as \"es\"".into());
        }
        if !seen.insert((&template.kind, &template.lang)) {
            problem(at.clone(), format!("{} in {:?} is defined twice", template.kind, template.lang));
        }
        if template.text.trim().is_empty() {
            problem(format!("{at}.text"), "must not be empty".into());
        } else if template.text.chars().count() > limits::TEMPLATE_TEXT_CHARS_MAX {
            problem(format!("{at}.text"), format!("at most {} characters", limits::TEMPLATE_TEXT_CHARS_MAX));
        }
        if template.subject.chars().count() > limits::TEMPLATE_SUBJECT_CHARS_MAX {
            problem(format!("{at}.subject"), format!("at most {} characters", limits::TEMPLATE_SUBJECT_CHARS_MAX));
        }
    }
    let survey = &notices.survey;
    if !(1..=limits::SURVEY_OPEN_DAYS_MAX).contains(&survey.open_days) {
        problem("notices.survey.open_days".into(), format!("must be 1 to {}", limits::SURVEY_OPEN_DAYS_MAX));
    }
    if !(survey.satisfaction || survey.recommend || survey.resolved || survey.comment) {
        problem("notices.survey".into(), "the survey needs at least one question".into());
    }
}

fn check_name(problem: &mut impl FnMut(String, String), at: &str, name: &str) {
    if name.trim().is_empty() {
        problem(at.into(), "must not be empty".into());
    } else if name.chars().count() > limits::NAME_LEN_MAX {
        problem(at.into(), format!("at most {} characters", limits::NAME_LEN_MAX));
    }
}

impl OfficeConfig {
    pub fn service(&self, id: &ServiceId) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| &s.id == id)
    }
    pub fn service_by_prefix(&self, prefix: char) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| s.prefix == prefix)
    }
    pub fn counter(&self, id: &CounterId) -> Option<&CounterConfig> {
        self.counters.iter().find(|c| &c.id == id)
    }
    pub fn category(&self, id: &CategoryId) -> Option<&CategoryConfig> {
        self.categories.iter().find(|c| &c.id == id)
    }

    /// The document id of this office's configuration document.
    pub fn doc_id(&self) -> String {
        crate::doc::keys::config_doc_id(&self.id)
    }

    /// Back to the raw, serialisable form (for the config document and the API).
    pub fn to_raw(&self) -> RawOfficeConfig {
        RawOfficeConfig {
            office: RawOffice {
                id: self.id.clone(),
                name: self.name.clone(),
                time_zone: self.time_zone_name.clone(),
                address: self.address.clone(),
                tags: self.tags.clone(),
            },
            calendar: self.calendar.clone(),
            rule: self.rule.clone(),
            services: self.services.clone(),
            categories: self.categories.clone(),
            counters: self.counters.clone(),
            notices: self.notices.clone(),
            room: self.room,
            signage: self.signage.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"
        [office]
        id = "centro"
        name = "Oficina Centro"
        time_zone = "America/Argentina/Buenos_Aires"

        [rule]
        preferential_ratio = 2

        [[services]]
        id = "general"
        prefix = "A"
        name = "Atención general"

        [[services]]
        id = "pagos"
        prefix = "B"
        name = "Pagos"

        [[categories]]
        id = "embarazada"
        name = "Embarazada"
        max_wait_minutes = 30

        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["general", "pagos"]

        [[counters]]
        id = "2"
        name = "Puesto 2"
        services = ["pagos"]
    "#;

    pub fn sample() -> OfficeConfig {
        RawOfficeConfig::parse_toml(SAMPLE).expect("sample config is valid")
    }

    #[test]
    fn templates_and_the_survey_form_are_checked_with_everything_else() {
        let text = format!(
            "{SAMPLE}\n[notices.survey]\nsatisfaction = false\nrecommend = false\nresolved = false\ncomment = false\nopen_days = 0\n\n\
             [[notices.templates]]\nkind = \"called\"\nlang = \"ES\"\ntext = \"\"\n\n\
             [[notices.templates]]\nkind = \"called\"\nlang = \"ES\"\ntext = \"{}\"\nsubject = \"x\"\n",
            "x".repeat(limits::TEMPLATE_TEXT_CHARS_MAX + 1)
        );
        let problems: Vec<String> =
            RawOfficeConfig::parse_toml(&text).expect_err("problems").iter().map(ToString::to_string).collect();
        for expected in [
            "notices.templates[0].lang: must be a two-letter",
            "notices.templates[0].text: must not be empty",
            "notices.templates[1]: called in \"ES\" is defined twice",
            "notices.templates[1].text: at most 480",
            "notices.survey.open_days: must be 1 to 30",
            "notices.survey: the survey needs at least one question",
        ] {
            assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected:?} missing in {problems:#?}");
        }
    }

    #[test]
    fn a_file_without_notices_has_the_default_survey() {
        let config = sample();
        assert_eq!(config.notices.survey.open_days, 7);
        assert!(config.notices.templates.is_empty());
        assert!(!toml::to_string(&config.to_raw()).expect("serialises").contains("notices"));
    }

    #[test]
    fn a_good_file_is_accepted() {
        let config = sample();
        assert_eq!(config.services.len(), 2);
        assert_eq!(config.rule.preferential_ratio, 2);
        assert_eq!(config.rule.recalls_max, 2, "defaults fill what the file leaves out");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = SAMPLE
            .replace("America/Argentina/Buenos_Aires", "Mars/Olympus")
            .replace("prefix = \"B\"", "prefix = \"A\"")
            .replace("services = [\"pagos\"]", "services = [\"visas\"]");
        let problems = RawOfficeConfig::parse_toml(&text).expect_err("three problems");
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{text:?}");
        assert!(text.iter().any(|p| p.contains("unknown time zone")));
        assert!(text.iter().any(|p| p.contains("prefix A is used")));
        assert!(text.iter().any(|p| p.contains("unknown service \"visas\"")));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let problems = RawOfficeConfig::parse_toml(&SAMPLE.replace("[rule]", "[rule]\nratio = 1")).expect_err("typo");
        assert!(problems[0].problem.contains("ratio"), "{problems:?}");
    }
}
