//! Topic names of one office, and the reverse: which inbound topic a message came on.
//!
//! Every id that becomes a topic level is lowercased, and anything outside `[a-z0-9-_]` becomes
//! `_`, so a topic can never gain a level (`/`) or a wildcard (`+`, `#`) from an id. The edge's
//! ids are 1-32 ASCII letters, digits, `-` and `_`; for them the only change is the case, so two
//! ids that differ only in case share a topic. [`validate_id`] says so at configuration time.

use thiserror::Error;

/// The longest id accepted in a topic level: the edge's own limit for office, counter and kiosk ids.
pub const ID_CHARS_MAX: usize = 32;

/// Why an id cannot name a topic level.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TopicError {
    #[error("an id in a topic cannot be empty")]
    EmptyId,
    #[error("id {id:?} is longer than {ID_CHARS_MAX} characters")]
    IdTooLong { id: String },
    #[error("id {id:?} may only hold letters, digits, '-' and '_'")]
    IdCharacter { id: String },
}

/// Checks an id as the edge configures it (1-32 ASCII letters, digits, `-`, `_`) and returns the
/// lowercase form that appears in topics.
pub fn validate_id(id: &str) -> Result<String, TopicError> {
    if id.is_empty() {
        return Err(TopicError::EmptyId);
    }
    if id.chars().count() > ID_CHARS_MAX {
        return Err(TopicError::IdTooLong { id: id.to_owned() });
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(TopicError::IdCharacter { id: id.to_owned() });
    }
    Ok(id.to_ascii_lowercase())
}

/// Whether `id` is an id as the edge configures it: 1-32 ASCII letters, digits, `-` and `_`.
pub fn is_valid_id(id: &str) -> bool {
    validate_id(id).is_ok()
}

/// Whether `level` is an id exactly as it appears in a topic: 1-32 of `[a-z0-9-_]`.
pub fn is_topic_id(level: &str) -> bool {
    !level.is_empty()
        && level.len() <= ID_CHARS_MAX
        && level.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The topic form of any id. Total on purpose: the topic getters return `String`, and a bad id
/// must not become a panic or a wildcard. Ids that pass [`validate_id`] are only lowercased.
fn topic_level(id: &str) -> String {
    let level: String = id
        .chars()
        .take(ID_CHARS_MAX)
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '_') => c,
            _ => '_',
        })
        .collect();
    if level.is_empty() {
        "_".to_owned()
    } else {
        level
    }
}

/// A message topic the edge subscribes to, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundTopic {
    /// `{root}/display/{counter}/status`: a display's birth message or last will.
    DisplayStatus { counter: String },
    /// `{root}/kiosk/{kiosk}/button`: a hardware button asks for a ticket.
    KioskButton { kiosk: String },
}

/// The topics of one office under one prefix: `{prefix}/{office}/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `{prefix}/{office}`, already in topic form.
    root: String,
}

impl Topics {
    /// `prefix` may hold several levels (`acme/qms`) or none (`""`); each level and the office are
    /// put in topic form (see the module doc).
    pub fn new(prefix: &str, office: &str) -> Topics {
        let mut levels: Vec<String> = prefix.split('/').filter(|level| !level.is_empty()).map(topic_level).collect();
        levels.push(topic_level(office));
        Topics { root: levels.join("/") }
    }

    /// Like [`Topics::new`], but refuses an office id that would have to be changed beyond its case.
    pub fn try_new(prefix: &str, office: &str) -> Result<Topics, TopicError> {
        validate_id(office)?;
        for level in prefix.split('/').filter(|level| !level.is_empty()) {
            validate_id(level)?;
        }
        Ok(Topics::new(prefix, office))
    }

    /// `{prefix}/{office}`: every topic of the office starts with it.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// `{root}/edge/status`: `online`/`offline`, retained; the edge's last will.
    pub fn edge_status(&self) -> String {
        format!("{}/edge/status", self.root)
    }

    /// `{root}/display/{counter}/state`: retained JSON [`super::DisplayState`].
    pub fn display_state(&self, counter: &str) -> String {
        format!("{}/display/{}/state", self.root, topic_level(counter))
    }

    /// `{root}/display/{counter}/status`: `online`/`offline`, retained; the display's last will.
    pub fn display_status(&self, counter: &str) -> String {
        format!("{}/display/{}/status", self.root, topic_level(counter))
    }

    /// The filter for every display's status, which the edge subscribes to.
    pub fn display_status_filter(&self) -> String {
        format!("{}/display/+/status", self.root)
    }

    /// `{root}/call`: non-retained [`super::CallEvent`].
    pub fn call(&self) -> String {
        format!("{}/call", self.root)
    }

    /// `{root}/board/state`: retained [`super::BoardState`] for the waiting-room board.
    pub fn board_state(&self) -> String {
        format!("{}/board/state", self.root)
    }

    /// `{root}/printer/{printer}/status`: retained [`super::PrinterStatusPayload`].
    pub fn printer_status(&self, printer: &str) -> String {
        format!("{}/printer/{}/status", self.root, topic_level(printer))
    }

    /// `{root}/kiosk/{kiosk}/button`: non-retained [`super::KioskButton`] from a hardware button.
    pub fn kiosk_button(&self, kiosk: &str) -> String {
        format!("{}/kiosk/{}/button", self.root, topic_level(kiosk))
    }

    /// The filter for every kiosk's buttons, which the edge subscribes to.
    pub fn kiosk_button_filter(&self) -> String {
        format!("{}/kiosk/+/button", self.root)
    }

    /// `{root}/kiosk/{kiosk}/ticket`: non-retained [`super::KioskTicket`], the answer to a press.
    pub fn kiosk_ticket(&self, kiosk: &str) -> String {
        format!("{}/kiosk/{}/ticket", self.root, topic_level(kiosk))
    }

    /// Which inbound topic `topic` is. Anything else, including ids outside `[a-z0-9-_]{1,32}`
    /// and other offices' topics, is `None`.
    pub fn parse(&self, topic: &str) -> Option<InboundTopic> {
        let rest = topic.strip_prefix(self.root.as_str())?.strip_prefix('/')?;
        let mut levels = rest.split('/');
        let (kind, id, leaf) = (levels.next()?, levels.next()?, levels.next()?);
        if levels.next().is_some() || !is_topic_id(id) {
            return None;
        }
        match (kind, leaf) {
            ("display", "status") => Some(InboundTopic::DisplayStatus { counter: id.to_owned() }),
            ("kiosk", "button") => Some(InboundTopic::KioskButton { kiosk: id.to_owned() }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(prefix: &str, office: &str, expected_root: &str) -> Topics {
        let topics = Topics::new(prefix, office);
        assert_eq!(topics.root(), expected_root);
        topics
    }

    #[test]
    fn ids_are_lowercased_and_can_never_add_a_level_or_wildcard() {
        check("qms", "Centro-1", "qms/centro-1");
        check("qms", "a/b+#", "qms/a_b__");
        check("", "x", "x");
        check("acme//qms/", "x", "acme/qms/x");
        let topics = check("qms", "", "qms/_");
        assert_eq!(topics.display_state("4/#"), "qms/_/display/4__/state");
        assert_eq!(topics.display_state(&"9".repeat(40)).len(), "qms/_/display//state".len() + ID_CHARS_MAX);
    }

    #[test]
    fn validate_id_accepts_the_edge_ids_and_names_what_is_wrong() {
        assert_eq!(validate_id("Ventanilla_4"), Ok("ventanilla_4".to_owned()));
        assert_eq!(validate_id(""), Err(TopicError::EmptyId));
        assert!(matches!(validate_id(&"a".repeat(33)), Err(TopicError::IdTooLong { .. })));
        assert!(matches!(validate_id("a b"), Err(TopicError::IdCharacter { .. })));
        assert!(Topics::try_new("qms", "ñ").is_err());
        assert!(Topics::try_new("q+s", "x").is_err());
    }
}
