//! The office's bookings as central wrote them, from the synced appointments documents of today
//! and tomorrow: what the kiosk checks a typed code against and the console lists. The edge only
//! reads them; a pass signed by central checks in even a booking that is not here yet.

use std::collections::BTreeMap;
use std::sync::RwLock;

use fila_protocol::booking::Appointments;
use fila_protocol::doc::keys::appointments_doc_id;
use fila_protocol::BusinessDay;
use fila_store::Store;

#[derive(Default)]
pub struct AppointmentsView {
    days: RwLock<BTreeMap<BusinessDay, Appointments>>,
    changed: tokio::sync::Notify,
}

impl AppointmentsView {
    /// What the store holds for `days` (a box restarted offline still checks codes in).
    pub fn load(store: &dyn Store, office: &str, days: &[BusinessDay]) -> AppointmentsView {
        let view = AppointmentsView::default();
        for day in days {
            let doc_id = appointments_doc_id(office, *day);
            let Ok(chunks) = store.chunks(&doc_id) else { continue };
            if chunks.is_empty() {
                continue;
            }
            let doc = fila_protocol::doc::load_chunks(&doc_id, &chunks);
            if let Ok((appointments, _)) = fila_protocol::doc::appointments::read(&doc) {
                view.set(appointments);
            }
        }
        view
    }

    pub fn set(&self, appointments: Appointments) {
        if let Ok(mut days) = self.days.write() {
            days.insert(appointments.day, appointments);
            // Only the days around now matter; older ones go.
            while days.len() > 4 {
                days.pop_first();
            }
        }
        self.changed.notify_waiters();
    }

    /// Resolves at the next change of the bookings.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// The bookings of `day`, as far as the office has them (none is an empty list).
    pub fn of(&self, office: &str, day: BusinessDay) -> Appointments {
        self.days.read().ok().and_then(|days| days.get(&day).cloned()).unwrap_or_else(|| Appointments::new(office, day))
    }
}
