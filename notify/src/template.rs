//! Message templates: a text per notice kind and language with `{placeholders}`, and the
//! opt-out line every message ends with.
//!
//! Headquarters edits the texts; what it may write is checked here (known placeholders for the
//! kind, balanced braces), and an SMS's length in segments is reported when a template is saved,
//! since a text one character too long costs a second message to every citizen.

use std::collections::BTreeMap;

use fila_protocol::config::{ConfigProblem, NoticesConfig};
use serde::{Deserialize, Serialize};

use crate::contact::Medium;
use crate::kind::NoticeKind;
use crate::sms;

/// One kind's text in one language. `subject` is the e-mail's subject line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub subject: String,
    pub text: String,
}

/// A message ready for a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    /// The opt-out page, for e-mail's `List-Unsubscribe` header.
    #[serde(default)]
    pub opt_out_link: Option<String>,
}

/// What saving a template tells its editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateReport {
    /// SMS segments with the placeholders at a typical length and the opt-out line.
    pub sms_segments: usize,
    /// "gsm7" or "ucs2": an accent outside the GSM alphabet halves what fits in a segment.
    pub sms_encoding: &'static str,
}

/// Texts per kind and language, the built-in ones overridden by the configuration's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    texts: BTreeMap<(NoticeKind, String), Template>,
}

/// One configured template's report, as an edit's answer lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfiguredReport {
    pub kind: String,
    pub lang: String,
    #[serde(flatten)]
    pub report: TemplateReport,
}

/// Checks an office configuration's templates as both daemons' edit endpoints do: every problem
/// at once (an unknown kind, a placeholder its kind does not know, a lone brace), each named by
/// where it is; or, when all are good, each one's SMS length.
pub fn check_configured(notices: &NoticesConfig) -> Result<Vec<ConfiguredReport>, Vec<ConfigProblem>> {
    let mut found = Vec::new();
    let mut reports = Vec::new();
    for (i, configured) in notices.templates.iter().enumerate() {
        let at = format!("notices.templates[{i}]");
        let Ok(kind) = configured.kind.parse::<NoticeKind>() else {
            let known: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
            found.push(ConfigProblem {
                at: format!("{at}.kind"),
                problem: format!("{:?} is not a kind of notice ({})", configured.kind, known.join(", ")),
            });
            continue;
        };
        let template = Template { subject: configured.subject.clone(), text: configured.text.clone() };
        let problems = problems(kind, &template);
        if problems.is_empty() {
            let report = Templates::report(kind, &configured.lang, &template);
            reports.push(ConfiguredReport { kind: kind.to_string(), lang: configured.lang.clone(), report });
        }
        found.extend(problems.into_iter().map(|problem| ConfigProblem { at: at.clone(), problem }));
    }
    if found.is_empty() {
        Ok(reports)
    } else {
        Err(found)
    }
}

/// The language used when a citizen's is not among the templates.
pub const FALLBACK_LANG: &str = "es";

/// A piece of a template: literal text or a placeholder's name.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Field(&'a str),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['{', '}']) {
        out.push(Piece::Text(&rest[..at]));
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push(Piece::Brace(if tail.starts_with('{') { '{' } else { '}' }));
            rest = &tail[2..];
        } else if tail.starts_with('}') {
            return Err("a lone '}' (write '}}' for the character)".into());
        } else {
            let Some(end) = tail.find('}') else {
                return Err("a '{' that is never closed (write '{{' for the character)".into());
            };
            let name = &tail[1..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(format!("'{{{name}}}' is not a placeholder"));
            }
            out.push(Piece::Field(name));
            rest = &tail[end + 1..];
        }
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn allowed(kind: NoticeKind, name: &str) -> bool {
    name == "office" || kind.placeholders().contains(&name)
}

/// Every problem with a text for `kind`, at once.
pub fn problems(kind: NoticeKind, template: &Template) -> Vec<String> {
    let mut found = Vec::new();
    for (part, text) in [("subject", &template.subject), ("text", &template.text)] {
        match pieces(text) {
            Err(problem) => found.push(format!("{part}: {problem}")),
            Ok(pieces) => {
                for piece in pieces {
                    if let Piece::Field(name) = piece {
                        if !allowed(kind, name) {
                            let known = kind.placeholders().join("}, {");
                            found.push(format!(
                                "{part}: {{{name}}} is not known to {kind} notices (they know {{office}}, {{{known}}})"
                            ));
                        }
                    }
                }
            }
        }
    }
    if template.text.trim().is_empty() {
        found.push("text: a message needs a text".into());
    }
    found
}

/// Puts `values` into `text`; a placeholder without a value is left empty. `text` must have
/// passed [`problems`]; a malformed one is returned as it is rather than half-rendered.
pub fn fill(text: &str, values: &BTreeMap<&str, String>) -> String {
    let Ok(pieces) = pieces(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Brace(brace) => out.push(brace),
            Piece::Field(name) => out.push_str(values.get(name).map(String::as_str).unwrap_or("")),
        }
    }
    out
}

/// What a placeholder typically holds, to count an SMS's segments before any is sent.
fn sample(name: &str) -> &'static str {
    match name {
        "ticket" => "A-023",
        "ahead" | "counter" => "12",
        "minutes" => "15",
        "code" => "K7P2QX",
        "service" => "Renovación de documento",
        "date" => "12/01/2027",
        "time" => "09:30",
        "link" => "https://citas.example.org/s/0123456789abcdef0123456789",
        _ => "Oficina Centro",
    }
}

impl Templates {
    /// The built-in texts, and over them the configured ones, each checked. An entry with a
    /// problem is reported and not used.
    pub fn new(configured: impl IntoIterator<Item = (NoticeKind, String, Template)>) -> (Templates, Vec<String>) {
        let mut texts = builtin();
        let mut found = Vec::new();
        for (kind, lang, template) in configured {
            let problems = problems(kind, &template);
            if problems.is_empty() {
                texts.insert((kind, lang), template);
            } else {
                found.extend(problems.into_iter().map(|p| format!("{kind} ({lang}) {p}")));
            }
        }
        (Templates { texts }, found)
    }

    pub fn builtin() -> Templates {
        Templates { texts: builtin() }
    }

    /// The built-in texts with an office configuration's over them. A template the edit
    /// endpoints would have refused (a configuration merged from two edits, say) is skipped and
    /// its built-in text stays.
    pub fn configured(notices: &NoticesConfig) -> Templates {
        let entries = notices.templates.iter().filter_map(|t| {
            let kind = t.kind.parse::<NoticeKind>().ok()?;
            Some((kind, t.lang.clone(), Template { subject: t.subject.clone(), text: t.text.clone() }))
        });
        let (templates, skipped) = Templates::new(entries);
        for problem in skipped {
            tracing::warn!(%problem, "a configured template is not used");
        }
        templates
    }

    fn text(&self, kind: NoticeKind, lang: &str) -> Option<&Template> {
        self.texts.get(&(kind, lang.to_string())).or_else(|| self.texts.get(&(kind, FALLBACK_LANG.to_string())))
    }

    /// The message for `medium`, ending with the way out: for SMS "reply STOP" when the box can
    /// read replies, else the link; for e-mail the link.
    pub fn render(
        &self,
        kind: NoticeKind,
        lang: &str,
        medium: Medium,
        values: &BTreeMap<&str, String>,
        opt_out: &OptOut,
    ) -> Option<Rendered> {
        let template = self.text(kind, lang)?;
        let lang = if self.texts.contains_key(&(kind, lang.to_string())) { lang } else { FALLBACK_LANG };
        let body = fill(&template.text, values);
        if kind.is_for_staff() {
            return Some(Rendered { subject: fill(&template.subject, values), text: body, opt_out_link: None });
        }
        let footer = opt_out.line(lang, medium);
        let text = match medium {
            Medium::Sms => format!("{body} {footer}"),
            Medium::Email => format!("{body}\n\n--\n{footer}\n"),
        };
        Some(Rendered { subject: fill(&template.subject, values), text, opt_out_link: opt_out.link.clone() })
    }

    /// The report shown when `template` is saved for `kind`.
    pub fn report(kind: NoticeKind, lang: &str, template: &Template) -> TemplateReport {
        let values: BTreeMap<&str, String> =
            ["office"].iter().chain(kind.placeholders()).map(|name| (*name, sample(name).to_string())).collect();
        let body = fill(&template.text, &values);
        let footer = OptOut { reply_stop: true, link: None }.line(lang, Medium::Sms);
        let text = format!("{body} {footer}");
        let encoding = match sms::Encoding::for_text(&text) {
            sms::Encoding::Gsm7 => "gsm7",
            sms::Encoding::Ucs2 => "ucs2",
        };
        TemplateReport { sms_segments: sms::segment_count(&text), sms_encoding: encoding }
    }
}

/// How a citizen can stop further messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    /// The SMS goes through a modem that reads replies, so "STOP" works.
    pub reply_stop: bool,
    /// A page that stops them with one click.
    pub link: Option<String>,
}

impl OptOut {
    fn line(&self, lang: &str, medium: Medium) -> String {
        let english = lang == "en";
        match (medium, self.reply_stop, &self.link) {
            (Medium::Sms, true, _) => {
                if english {
                    "Reply STOP to opt out.".into()
                } else {
                    "Responda STOP para no recibir mensajes.".into()
                }
            }
            (_, _, Some(link)) => {
                if english {
                    format!("No more messages: {link}")
                } else {
                    format!("Para dejar de recibir mensajes: {link}")
                }
            }
            (_, _, None) => {
                if english {
                    "To receive no more messages, tell the office.".into()
                } else {
                    "Para dejar de recibir mensajes, avise en la oficina.".into()
                }
            }
        }
    }
}

fn builtin() -> BTreeMap<(NoticeKind, String), Template> {
    use NoticeKind::*;
    let entries: [(NoticeKind, &str, &str, &str); 20] = [
        (TurnNear, "es", "{office}: su turno se acerca", "{office}: su turno {ticket} se acerca. Delante: {ahead}, unos {minutes} min. Acérquese a la sala."),
        (TurnNear, "en", "{office}: your turn is near", "{office}: your turn {ticket} is near. Ahead of you: {ahead}, about {minutes} min. Please come to the waiting room."),
        (ComeNow, "es", "{office}: es hora de venir", "{office}: es hora de venir. Su turno {ticket} llega en unos {minutes} min. {link}"),
        (ComeNow, "en", "{office}: time to come", "{office}: time to come. Your turn {ticket} comes in about {minutes} min. {link}"),
        (Called, "es", "{office}: le llaman", "{office}: turno {ticket}, acuda a la ventanilla {counter}."),
        (Called, "en", "{office}: you are called", "{office}: ticket {ticket}, please go to counter {counter}."),
        (SurveyInvite, "es", "{office}: ¿cómo le atendimos?", "{office}: gracias por su visita ({ticket}). ¿Cómo le atendimos? {link}"),
        (SurveyInvite, "en", "{office}: how did we do?", "{office}: thank you for your visit ({ticket}). How did we do? {link}"),
        (BookingCode, "es", "{office}: su código", "{office}: su código de verificación es {code}."),
        (BookingCode, "en", "{office}: your code", "{office}: your verification code is {code}."),
        (BookingConfirmed, "es", "{office}: cita confirmada", "{office}: cita {code} el {date} a las {time}, {service}, en {address}. {link}"),
        (BookingConfirmed, "en", "{office}: appointment confirmed", "{office}: appointment {code} on {date} at {time}, {service}, at {address}. {link}"),
        (Reminder, "es", "{office}: recordatorio de su cita", "{office}: le recordamos su cita el {date} a las {time}, {service}. {link}"),
        (Reminder, "en", "{office}: appointment reminder", "{office}: a reminder of your appointment on {date} at {time}, {service}. {link}"),
        (WaitlistOffer, "es", "{office}: hay una cita libre", "{office}: hay una cita libre el {date} a las {time}, {service}. {link}"),
        (WaitlistOffer, "en", "{office}: a slot is free", "{office}: a slot is free on {date} at {time}, {service}. {link}"),
        (LowScoreAlert, "es", "{office}: encuesta con puntuación baja ({score}/5)", "{office}: el turno {ticket} del {day} valoró la atención con {score}/5 y comentó:\n\n{comment}"),
        (LowScoreAlert, "en", "{office}: a low survey score ({score}/5)", "{office}: ticket {ticket} of {day} rated the service {score}/5 and said:\n\n{comment}"),
        (OpsAlert, "es", "Alerta de {office}: {alert}", "{office}: {alert} desde {since}.\n\n{detail}"),
        (OpsAlert, "en", "Alert at {office}: {alert}", "{office}: {alert} since {since}.\n\n{detail}"),
    ];
    entries
        .into_iter()
        .map(|(kind, lang, subject, text)| {
            ((kind, lang.to_string()), Template { subject: subject.into(), text: text.into() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    fn template(text: &str) -> Template {
        Template { subject: "{office}".into(), text: text.into() }
    }

    #[test]
    fn placeholders_are_filled_and_doubled_braces_are_characters() {
        let text = fill("Turno {ticket} en {{sala}} {counter}", &values(&[("ticket", "A-023"), ("counter", "4")]));
        assert_eq!(text, "Turno A-023 en {sala} 4");
    }

    #[test]
    fn a_placeholder_the_kind_does_not_know_is_a_problem() {
        let found = problems(NoticeKind::Called, &template("Turno {ticket}, código {code}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("{code}") && found[0].contains("called"), "{found:?}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let found =
            problems(NoticeKind::Called, &Template { subject: "{oops".into(), text: "a } and {Ticket}".into() });
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn builtin_texts_use_only_their_kinds_placeholders() {
        let (_, found) = Templates::new(builtin().into_iter().map(|((k, l), t)| (k, l, t)));
        assert!(found.is_empty(), "{found:?}");
        for kind in NoticeKind::ALL {
            for lang in ["es", "en"] {
                assert!(builtin().contains_key(&(kind, lang.to_string())), "{kind} {lang}");
            }
        }
    }

    #[test]
    fn a_configured_text_overrides_the_builtin_and_a_bad_one_is_reported_not_used() {
        let good = (NoticeKind::Called, "es".to_string(), template("{ticket} a la {counter}"));
        let bad = (NoticeKind::Called, "en".to_string(), template("{ticket} to {code}"));
        let (templates, found) = Templates::new([good, bad]);
        assert_eq!(found.len(), 1);
        let opt_out = OptOut { reply_stop: true, link: None };
        let v = values(&[("ticket", "A-023"), ("counter", "4")]);
        let es =
            templates.render(NoticeKind::Called, "es", Medium::Sms, &v, &opt_out).expect("a template for the kind");
        assert_eq!(es.text, "A-023 a la 4 Responda STOP para no recibir mensajes.");
        let en =
            templates.render(NoticeKind::Called, "en", Medium::Sms, &v, &opt_out).expect("a template for the kind");
        assert!(en.text.starts_with(": ticket A-023, please go to counter 4."), "{}", en.text);
    }

    #[test]
    fn an_unknown_language_falls_back_to_spanish_with_a_spanish_opt_out() {
        let opt_out = OptOut { reply_stop: true, link: None };
        let v = values(&[("office", "Centro"), ("ticket", "A-023"), ("counter", "4")]);
        let rendered = Templates::builtin()
            .render(NoticeKind::Called, "fr", Medium::Sms, &v, &opt_out)
            .expect("a template for the kind");
        assert_eq!(
            rendered.text,
            "Centro: turno A-023, acuda a la ventanilla 4. Responda STOP para no recibir mensajes."
        );
    }

    #[test]
    fn every_message_ends_with_a_way_out() {
        let v = values(&[("office", "Centro"), ("ticket", "A-023"), ("link", "https://x.example/s/1")]);
        let link = OptOut { reply_stop: false, link: Some("https://x.example/o/abc".into()) };
        let mail = Templates::builtin()
            .render(NoticeKind::SurveyInvite, "en", Medium::Email, &v, &link)
            .expect("a template for the kind");
        assert!(mail.text.ends_with("No more messages: https://x.example/o/abc\n"), "{}", mail.text);
        assert_eq!(mail.subject, "Centro: how did we do?");
        let sms = Templates::builtin()
            .render(NoticeKind::SurveyInvite, "es", Medium::Sms, &v, &link)
            .expect("a template for the kind");
        assert!(sms.text.ends_with("Para dejar de recibir mensajes: https://x.example/o/abc"), "{}", sms.text);
    }

    #[test]
    fn saving_a_template_reports_its_sms_segments() {
        let short = Templates::report(NoticeKind::Called, "en", &template("{ticket} to {counter}"));
        assert_eq!((short.sms_segments, short.sms_encoding), (1, "gsm7"));
        let gsm = Templates::report(NoticeKind::Called, "es", &template(&"Acérquese ".repeat(8)));
        assert_eq!((gsm.sms_segments, gsm.sms_encoding), (1, "gsm7"), "é is in the GSM alphabet");
        let accents = Templates::report(NoticeKind::Called, "es", &template(&"Información ".repeat(6)));
        assert_eq!(accents.sms_encoding, "ucs2", "ó is not in the GSM alphabet");
        assert_eq!(accents.sms_segments, 2, "over 70 UCS-2 characters");
    }

    fn configured(kind: &str, lang: &str, text: &str) -> fila_protocol::config::TemplateConfig {
        fila_protocol::config::TemplateConfig {
            kind: kind.into(),
            lang: lang.into(),
            subject: "{office}".into(),
            text: text.into(),
        }
    }

    #[test]
    fn saving_templates_reports_each_ones_sms_length_or_every_problem() {
        let mut notices = NoticesConfig {
            templates: vec![
                configured("called", "es", "Turno {ticket}: diríjase a la ventanilla {counter}."),
                configured("called", "en", "Ticket {ticket}: counter {counter}."),
            ],
            ..NoticesConfig::default()
        };
        let reports = check_configured(&notices).expect("good templates");
        assert_eq!(reports.len(), 2);
        // "í" is not in GSM 7-bit: the Spanish text goes as UCS-2, 70 characters a segment.
        assert_eq!((reports[1].lang.as_str(), reports[1].report.sms_encoding), ("en", "gsm7"));
        assert_eq!(reports[0].report.sms_encoding, "ucs2");

        notices.templates.push(configured("called", "es", "Turno {code}"));
        notices.templates.push(configured("birthday", "es", "Feliz cumpleaños"));
        notices.templates.push(configured("turn_near", "es", "Turno {ticket"));
        let problems = check_configured(&notices).expect_err("bad templates");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        assert!(text[0].starts_with("notices.templates[2]: text: {code} is not known to called"), "{text:#?}");
        assert!(text[1].starts_with("notices.templates[3].kind: \"birthday\" is not a kind"), "{text:#?}");
        assert!(text[2].starts_with("notices.templates[4]: text: a '{' that is never closed"), "{text:#?}");
    }

    #[test]
    fn a_configured_text_replaces_the_builtin_one_in_its_language_only() {
        let notices = NoticesConfig {
            templates: vec![configured("called", "en", "Please go to counter {counter}, {ticket}.")],
            ..NoticesConfig::default()
        };
        let templates = Templates::configured(&notices);
        let values = values(&[("ticket", "A-001"), ("counter", "4"), ("office", "Centro")]);
        let none = OptOut { reply_stop: true, link: None };
        let en = templates.render(NoticeKind::Called, "en", Medium::Sms, &values, &none).expect("en");
        assert!(en.text.starts_with("Please go to counter 4, A-001."), "{}", en.text);
        let es = templates.render(NoticeKind::Called, "es", Medium::Sms, &values, &none).expect("es");
        assert!(es.text.starts_with("Centro: turno A-001, acuda a la ventanilla 4."), "{}", es.text);
    }
}
