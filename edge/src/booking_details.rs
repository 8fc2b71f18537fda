//! What the counters see of today's and tomorrow's bookings beside the appointments documents:
//! the identity's last four characters (the counter may ask for the document and compare) and
//! the citizen's note on what they need. Asked of central over the office's authenticated link
//! at start, every minute and whenever the bookings change; kept in memory only. Personal data
//! never goes into the box's store, a document or a log: a restarted box asks again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use fila_protocol::BusinessDay;
use serde::Deserialize;

use crate::office_loop::{Clock, OfficeHandle};
use crate::settings::CentralSettings;

const EVERY: Duration = Duration::from_secs(60);
const TIMEOUT: Duration = Duration::from_secs(10);
/// Central's limits, checked again here: the data comes from a peer.
const LAST4_CHARS_MAX: usize = 8;
const NOTE_CHARS_MAX: usize = 300;
/// A day of a large office's bookings is far below this; more is a broken or hostile peer.
const BODY_BYTES_MAX: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CounterDetail {
    pub booking: String,
    pub last4: String,
    pub note: Option<String>,
}

impl CounterDetail {
    fn is_sound(&self) -> bool {
        fila_protocol::ids::is_valid_id(&self.booking)
            && self.last4.chars().count() <= LAST4_CHARS_MAX
            && self.last4.chars().all(|c| c.is_ascii_alphanumeric())
            && self.note.as_ref().is_none_or(|n| n.chars().count() <= NOTE_CHARS_MAX)
    }
}

#[derive(Default)]
pub struct BookingDetails {
    by_booking: RwLock<HashMap<String, CounterDetail>>,
}

impl BookingDetails {
    pub fn get(&self, booking: &str) -> Option<CounterDetail> {
        self.by_booking.read().ok()?.get(booking).cloned()
    }

    fn replace(&self, details: Vec<CounterDetail>) {
        if let Ok(mut by_booking) = self.by_booking.write() {
            *by_booking = details.into_iter().map(|d| (d.booking.clone(), d)).collect();
        }
    }
}

/// Keeps `details` up to date until aborted.
pub async fn run(central: CentralSettings, office: OfficeHandle, clock: Clock, details: Arc<BookingDetails>) {
    if central.is_unencrypted_over_a_network() {
        // Documents' last characters and citizens' notes do not cross a network in clear.
        tracing::warn!("booking details are not asked of central over plain ws:// to another host; use wss://");
        return;
    }
    let client = match central.http_client(|builder| builder.timeout(TIMEOUT)) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot make the client that asks central for booking details");
            return;
        }
    };
    loop {
        let today = BusinessDay::containing(clock(), &office.config().time_zone);
        let mut fetched = Vec::new();
        let mut complete = true;
        for day in [today, today.plus_days(1)] {
            match fetch(&client, &central, day).await {
                Ok(mut day_details) => fetched.append(&mut day_details),
                Err(error) => {
                    // Offline is normal for a box; what it had stays until central answers.
                    tracing::debug!(%error, %day, "booking details not fetched");
                    complete = false;
                }
            }
        }
        if complete {
            let sound = fetched.len();
            fetched.retain(CounterDetail::is_sound);
            if fetched.len() < sound {
                tracing::warn!(refused = sound - fetched.len(), "central sent booking details that do not check");
            }
            details.replace(fetched);
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = office.appointments().changed() => {}
        }
    }
}

async fn fetch(
    client: &reqwest::Client,
    central: &CentralSettings,
    day: BusinessDay,
) -> Result<Vec<CounterDetail>, String> {
    let body = central.get_bounded(client, &format!("/api/v1/branch/bookings/{day}"), BODY_BYTES_MAX).await?;
    serde_json::from_slice(&body).map_err(|e| format!("central's answer does not read: {e}"))
}
