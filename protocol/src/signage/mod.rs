//! Digital signage in an office's configuration (`[signage]`): the screens of its waiting room,
//! the media headquarters uploaded (named by SHA-256), playlists of them and of text slides,
//! schedules that place playlists by date range, weekday, time of day and target, urgent
//! messages that take the signage area until they expire, and the ticker's text.
//!
//! Headquarters writes it into each office's configuration document; the office's supervisor may
//! add urgent messages for their own office. The edge resolves what each screen plays from its
//! own clock ([`playing`]), so an office offline keeps switching at the right times.

mod play;
mod schedule;
pub mod ticker;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::calendar::TimeSpan;
use crate::ids::is_valid_id;
use crate::limits;

pub use play::{Play, PLAYS_PER_REPORT_MAX, PLAY_AGE_MAX_MS};
pub use schedule::{playing, Playing};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignageConfig {
    /// The waiting room's screens (each display page names one); none: one screen, "sala".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub screens: Vec<ScreenConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub playlists: Vec<Playlist>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urgent: Vec<UrgentMessage>,
    /// The ticker's text per language: plain text with `**bold**` and `*italic*`, never HTML.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ticker: Vec<LocalText>,
}

impl SignageConfig {
    pub fn is_default(&self) -> bool {
        *self == SignageConfig::default()
    }

    pub fn media(&self, sha256: &str) -> Option<&MediaRef> {
        self.media.iter().find(|m| m.sha256 == sha256)
    }

    pub fn playlist(&self, id: &str) -> Option<&Playlist> {
        self.playlists.iter().find(|p| p.id == id)
    }

    /// The media the schedules can play, for the box to keep in its cache.
    pub fn scheduled_media(&self) -> BTreeSet<&str> {
        let used: BTreeSet<&str> = self.schedules.iter().map(|s| s.playlist.as_str()).collect();
        self.playlists
            .iter()
            .filter(|p| used.contains(p.id.as_str()))
            .flat_map(|p| p.items.iter().filter_map(|i| i.media.as_deref()))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub profile: Profile,
    /// Whether the screen shows the ticker line.
    #[serde(default = "yes")]
    pub ticker: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Landscape,
    Portrait,
}

/// A file headquarters uploaded and checked, as the office needs to know it: by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaRef {
    /// SHA-256 of the file, 64 lowercase hex digits: how the box fetches and verifies it.
    pub sha256: String,
    /// `png`, `jpeg`, `webp`, `mp4` or `webm`.
    pub kind: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl MediaRef {
    pub fn is_video(&self) -> bool {
        matches!(self.kind.as_str(), "mp4" | "webm")
    }

    /// The `Content-Type` a screen gets it with.
    pub fn mime(&self) -> &'static str {
        match self.kind.as_str() {
            "png" => "image/png",
            "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "mp4" => "video/mp4",
            "webm" => "video/webm",
            _ => "application/octet-stream",
        }
    }
}

/// Whether `text` is a SHA-256 as signage names files: 64 lowercase hex digits (a file name on
/// both daemons' disks, so nothing else may pass).
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playlist {
    pub id: String,
    pub name: String,
    pub items: Vec<Item>,
}

/// One thing a playlist shows: a medium, or a text slide per language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slide: Vec<Slide>,
    /// How long it shows; a video shows for its own length when this is 0.
    pub seconds: u32,
    /// Languages it is for; none: every language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub langs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slide {
    pub lang: String,
    pub title: String,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalText {
    pub lang: String,
    pub text: String,
}

/// Where a playlist plays and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub id: String,
    pub playlist: String,
    /// The campaign's first and last day (`yyyy-mm-dd`, the office's dates), both optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// `mon` ... `sun`; none: every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<String>,
    /// Time of day (`"08:00-12:00"`, the office's clock); none: all day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<TimeSpan>,
    #[serde(default)]
    pub target: Target,
}

/// What a schedule or an urgent message is for. In files: `"all"`, `"tag:<tag>"`,
/// `"office:<id>"` or `"screen:<office>/<screen>"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Target {
    #[default]
    All,
    Tag(String),
    Office(String),
    Screen {
        office: String,
        screen: String,
    },
}

impl Target {
    /// How narrowly it aims: a screen's own schedule beats its office's, which beats a tag's.
    pub fn specificity(&self) -> u8 {
        match self {
            Target::All => 0,
            Target::Tag(_) => 1,
            Target::Office(_) => 2,
            Target::Screen { .. } => 3,
        }
    }

    /// Whether it reaches any screen of `office` (an office with `tags`): what headquarters
    /// publishes there and what its supervisor sees.
    pub fn reaches_office(&self, office: &str, tags: &[String]) -> bool {
        match self {
            Target::Screen { office: id, .. } => id == office,
            target => target.reaches(office, tags, ""),
        }
    }

    /// Whether it reaches `screen` of `office` (an office with `tags`).
    pub fn reaches(&self, office: &str, tags: &[String], screen: &str) -> bool {
        match self {
            Target::All => true,
            Target::Tag(tag) => tags.contains(tag),
            Target::Office(id) => id == office,
            Target::Screen { office: id, screen: s } => id == office && s == screen,
        }
    }
}

impl TryFrom<String> for Target {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let bad = || {
            format!("{text:?} is not a target: \"all\", \"tag:<tag>\", \"office:<id>\" or \"screen:<office>/<screen>\"")
        };
        let id = |s: &str| is_valid_id(s).then(|| s.to_string());
        if text == "all" {
            return Ok(Target::All);
        }
        let (what, name) = text.split_once(':').ok_or_else(bad)?;
        match what {
            "tag" => id(name).map(Target::Tag).ok_or_else(bad),
            "office" => id(name).map(Target::Office).ok_or_else(bad),
            "screen" => {
                let (office, screen) = name.split_once('/').ok_or_else(bad)?;
                match (id(office), id(screen)) {
                    (Some(office), Some(screen)) => Ok(Target::Screen { office, screen }),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

impl From<Target> for String {
    fn from(target: Target) -> String {
        target.to_string()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::All => f.write_str("all"),
            Target::Tag(tag) => write!(f, "tag:{tag}"),
            Target::Office(id) => write!(f, "office:{id}"),
            Target::Screen { office, screen } => write!(f, "screen:{office}/{screen}"),
        }
    }
}

/// "La oficina cierra a las 12 hoy": shown over the signage on its targets from `from_ms` until
/// `until_ms`, by whoever wrote it (headquarters or the office's supervisor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgentMessage {
    pub id: String,
    pub texts: Vec<LocalText>,
    pub from_ms: i64,
    pub until_ms: i64,
    #[serde(default)]
    pub target: Target,
    /// `hq:<analyst>` or the supervisor's username: who put it there.
    pub by: String,
}

impl SignageConfig {
    /// Every problem at once, each with where it is, for [`crate::RawOfficeConfig::validate`].
    pub fn check(&self, problem: &mut impl FnMut(String, String)) {
        let unique = |at: &str, ids: Vec<&str>, problem: &mut dyn FnMut(String, String)| {
            let mut seen = BTreeSet::new();
            for (i, id) in ids.into_iter().enumerate() {
                if !is_valid_id(id) {
                    problem(format!("signage.{at}[{i}].id"), "must be 1-32 letters, digits, '-' or '_'".into());
                } else if !seen.insert(id) {
                    problem(format!("signage.{at}[{i}].id"), format!("{id:?} is defined twice"));
                }
            }
        };
        unique("screens", self.screens.iter().map(|s| s.id.as_str()).collect(), problem);
        unique("playlists", self.playlists.iter().map(|s| s.id.as_str()).collect(), problem);
        unique("schedules", self.schedules.iter().map(|s| s.id.as_str()).collect(), problem);
        unique("urgent", self.urgent.iter().map(|s| s.id.as_str()).collect(), problem);
        let counts = [
            ("media", self.media.len(), limits::SIGNAGE_MEDIA_MAX),
            ("playlists", self.playlists.len(), limits::SIGNAGE_PLAYLISTS_MAX),
            ("schedules", self.schedules.len(), limits::SIGNAGE_SCHEDULES_MAX),
            ("urgent", self.urgent.len(), limits::SIGNAGE_URGENT_MAX),
            ("screens", self.screens.len(), limits::SIGNAGE_SCREENS_MAX),
        ];
        for (at, count, max) in counts {
            if count > max {
                problem(format!("signage.{at}"), format!("at most {max}"));
            }
        }
        for (i, screen) in self.screens.iter().enumerate() {
            text(problem, format!("signage.screens[{i}].name"), &screen.name, limits::NAME_LEN_MAX, false);
        }
        for (i, media) in self.media.iter().enumerate() {
            if !is_sha256(&media.sha256) {
                problem(format!("signage.media[{i}].sha256"), "must be 64 lowercase hex digits".into());
            }
            if !matches!(media.kind.as_str(), "png" | "jpeg" | "webp" | "mp4" | "webm") {
                problem(format!("signage.media[{i}].kind"), "must be png, jpeg, webp, mp4 or webm".into());
            }
        }
        for (p, playlist) in self.playlists.iter().enumerate() {
            let at = format!("signage.playlists[{p}]");
            text(problem, format!("{at}.name"), &playlist.name, limits::NAME_LEN_MAX, false);
            if playlist.items.is_empty() || playlist.items.len() > limits::SIGNAGE_ITEMS_MAX {
                problem(format!("{at}.items"), format!("1 to {} items", limits::SIGNAGE_ITEMS_MAX));
            }
            for (i, item) in playlist.items.iter().enumerate() {
                self.check_item(problem, &format!("{at}.items[{i}]"), item);
            }
        }
        for (i, schedule) in self.schedules.iter().enumerate() {
            let at = format!("signage.schedules[{i}]");
            if self.playlist(&schedule.playlist).is_none() {
                problem(format!("{at}.playlist"), format!("no playlist {:?}", schedule.playlist));
            }
            let from = date(problem, format!("{at}.from"), schedule.from.as_deref());
            let until = date(problem, format!("{at}.until"), schedule.until.as_deref());
            if let (Some(from), Some(until)) = (from, until) {
                if until < from {
                    problem(format!("{at}.until"), "ends before it starts".into());
                }
            }
            for (w, day) in schedule.weekdays.iter().enumerate() {
                if schedule::weekday(day).is_none() {
                    problem(
                        format!("{at}.weekdays[{w}]"),
                        format!("{day:?} is not mon, tue, wed, thu, fri, sat or sun"),
                    );
                }
            }
        }
        for (i, urgent) in self.urgent.iter().enumerate() {
            let at = format!("signage.urgent[{i}]");
            if urgent.texts.is_empty() {
                problem(format!("{at}.texts"), "needs a text in at least one language".into());
            }
            for (t, local) in urgent.texts.iter().enumerate() {
                text(problem, format!("{at}.texts[{t}].text"), &local.text, limits::SIGNAGE_TEXT_CHARS_MAX, false);
            }
            if urgent.until_ms <= urgent.from_ms {
                problem(format!("{at}.until_ms"), "must be after from_ms".into());
            }
        }
        for (i, local) in self.ticker.iter().enumerate() {
            text(problem, format!("signage.ticker[{i}].text"), &local.text, limits::SIGNAGE_TEXT_CHARS_MAX, false);
        }
    }

    fn check_item(&self, problem: &mut impl FnMut(String, String), at: &str, item: &Item) {
        match (&item.media, item.slide.is_empty()) {
            (Some(sha256), true) => match self.media(sha256) {
                None => problem(format!("{at}.media"), format!("no media {sha256:?} in signage.media")),
                Some(media) if item.seconds == 0 && !media.is_video() => {
                    problem(format!("{at}.seconds"), "an image needs how many seconds it shows".into())
                }
                Some(_) => {}
            },
            (None, false) => {
                if item.seconds == 0 {
                    problem(format!("{at}.seconds"), "a slide needs how many seconds it shows".into());
                }
                for (s, slide) in item.slide.iter().enumerate() {
                    text(problem, format!("{at}.slide[{s}].title"), &slide.title, limits::NAME_LEN_MAX, false);
                    text(problem, format!("{at}.slide[{s}].body"), &slide.body, limits::SIGNAGE_TEXT_CHARS_MAX, true);
                }
            }
            _ => problem(at.to_string(), "an item is either a media file or a text slide".into()),
        }
        if item.seconds > limits::SIGNAGE_ITEM_SECONDS_MAX {
            problem(format!("{at}.seconds"), format!("at most {}", limits::SIGNAGE_ITEM_SECONDS_MAX));
        }
    }
}

/// Text a screen shows: not empty, not too long, no control characters (line breaks where `lines`).
fn text(problem: &mut impl FnMut(String, String), at: String, text: &str, max: usize, lines: bool) {
    let control = text.chars().any(|c| c.is_control() && !(lines && c == '\n'));
    if (text.trim().is_empty() && !lines) || text.chars().count() > max || control {
        problem(at, format!("must be 1-{max} characters{}", if lines { "" } else { " on one line" }));
    }
}

fn date(problem: &mut impl FnMut(String, String), at: String, text: Option<&str>) -> Option<jiff::civil::Date> {
    let text = text?;
    match text.parse::<jiff::civil::Date>() {
        Ok(date) => Some(date),
        Err(_) => {
            problem(at, format!("{text:?} is not a date such as \"2026-12-24\""));
            None
        }
    }
}
