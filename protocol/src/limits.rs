//! Every bound on something that grows, in one place.

/// Ticket numbers are printed with three digits ("A-023").
pub const TICKETS_PER_SERVICE_MAX: u16 = 999;
/// All tickets of one business day, across services.
pub const TICKETS_PER_DAY_MAX: u32 = 26 * TICKETS_PER_SERVICE_MAX as u32;
pub const SERVICES_MAX: usize = 26;
pub const COUNTERS_MAX: usize = 200;
pub const CATEGORIES_MAX: usize = 32;
pub const USERS_MAX: usize = 1_000;
/// Recalls a rule may allow before a ticket becomes a no-show.
pub const RECALLS_MAX: u8 = 10;
pub const TRANSFERS_PER_TICKET_MAX: u8 = 10;
/// Free text: reasons for out-of-order calls and cancellations, outcomes.
pub const REASON_LEN_MAX: usize = 500;
pub const NAME_LEN_MAX: usize = 100;
pub const ID_LEN_MAX: usize = 32;
pub const TOKEN_LEN_MAX: usize = 128;
/// Message templates an office configures (kinds × languages), and their lengths: an SMS of
/// three GSM segments, a short e-mail subject.
pub const TEMPLATES_MAX: usize = 32;
pub const TEMPLATE_TEXT_CHARS_MAX: usize = 480;
pub const TEMPLATE_SUBJECT_CHARS_MAX: usize = 120;
/// Days after a visit its survey link is answered, at most.
pub const SURVEY_OPEN_DAYS_MAX: u32 = 30;
/// Opening hours: spans in one weekday, and listed closures.
pub const SPANS_PER_DAY_MAX: usize = 6;
pub const CLOSURES_MAX: usize = 200;
/// Appointments: the longest slot, most bookings in one, furthest day bookable.
pub const SLOT_MINUTES_MAX: u32 = 240;
pub const SLOT_CAPACITY_MAX: u32 = 200;
pub const BOOKING_HORIZON_DAYS_MAX: u32 = 180;
/// A service's requirements: items per list, and each item's length.
pub const REQUIREMENT_ITEMS_MAX: usize = 20;
pub const REQUIREMENT_CHARS_MAX: usize = 300;
/// How long before closing the last call may be required to fall.
pub const LAST_CALL_MARGIN_MINUTES_MAX: u32 = 240;
/// People a waiting room may be configured to hold.
pub const ROOM_CAPACITY_MAX: u32 = 10_000;
/// Signage in one office's configuration.
pub const SIGNAGE_MEDIA_MAX: usize = 500;
pub const SIGNAGE_PLAYLISTS_MAX: usize = 100;
pub const SIGNAGE_ITEMS_MAX: usize = 200;
pub const SIGNAGE_SCHEDULES_MAX: usize = 200;
pub const SIGNAGE_URGENT_MAX: usize = 50;
pub const SIGNAGE_SCREENS_MAX: usize = 50;
pub const SIGNAGE_TEXT_CHARS_MAX: usize = 500;
pub const SIGNAGE_ITEM_SECONDS_MAX: u32 = 3600;
/// HTTP request bodies.
pub const BODY_BYTES_MAX: usize = 16 * 1024;
/// One edge<->central frame (an initial sync of a busy day is ~200 KB).
pub const FRAME_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Documents one office keeps in sync at once: its config and the days of its window.
pub const SYNC_DOCS_MAX: usize = 64;

const _: () = assert!(TICKETS_PER_SERVICE_MAX <= 999);
const _: () = assert!(SERVICES_MAX <= 26, "one letter prefix per service");
const _: () = assert!(TICKETS_PER_DAY_MAX < 1_000_000, "ticket ids are six-digit keys");
