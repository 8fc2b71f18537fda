//! What the wait estimate needs from outside the day: the office's past days of the same
//! weekday (service times, preferential arrivals) and today's bookings not yet checked in.

use fila_protocol::booking::Appointments;
use fila_protocol::estimate::{Expected, History};
use fila_protocol::office::Office;
use fila_protocol::{BusinessDay, OfficeConfig};
use fila_store::Store;

/// Past weeks of the same weekday read: two months follow a seasonal change soon enough.
const WEEKS: i64 = 8;

/// The stored days of `today`'s weekday in the last [`WEEKS`] weeks. A day that is missing or
/// unreadable is left out (a new box has none; the configured service times stand in).
fn load(store: &dyn Store, config: &OfficeConfig, today: BusinessDay) -> History {
    let mut history = History::default();
    for week in 1..=WEEKS {
        let day = today.plus_days(-7 * week);
        let doc_id = fila_protocol::doc::keys::day_doc_id(&config.id, day);
        let Ok(chunks) = store.chunks(&doc_id) else { continue };
        if chunks.is_empty() {
            continue;
        }
        let doc = fila_protocol::doc::load_chunks(&doc_id, &chunks);
        match fila_protocol::doc::day::read_day(&doc) {
            Ok(day) => history.add_day(&day, &config.time_zone),
            Err(error) => tracing::warn!(doc = %doc_id, %error, "past day unreadable; left out of the wait history"),
        }
    }
    history
}

/// Give the office its history and today's expected bookings.
pub fn refresh(office: &mut Office, store: &dyn Store, bookings: &Appointments) {
    let today = office.day().day;
    let history = load(store, office.config(), today);
    office.set_history(history);
    expect(office, bookings);
}

/// Give the office today's bookings that have not come yet.
pub fn expect(office: &mut Office, bookings: &Appointments) {
    if bookings.day == office.day().day {
        let expected = Expected::from_bookings(bookings, &office.config().time_zone);
        office.set_expected(expected);
    }
}
