//! The waiting-room board on MQTT: the latest calls and how many wait per service, as one
//! retained state. It is published from its own task, at most every `EVERY`, so a burst of
//! calls never waits behind the office queries it needs.

use std::collections::BTreeMap;
use std::time::Duration;

use fila_devices::mqtt::{BoardCall, BoardState, MqttLink};
use fila_protocol::office::{Event, Office};
use fila_protocol::Timestamp;
use tokio::sync::broadcast;

use crate::office_loop::{Clock, OfficeHandle};

/// Calls kept on the board.
const BOARD_CALLS: usize = 8;
/// The board changes at most this often; calls themselves reach displays at once.
const EVERY: Duration = Duration::from_millis(250);

pub async fn run(office: OfficeHandle, mqtt: MqttLink, clock: Clock) {
    let mut events = office.subscribe();
    let mut seq = 0u64;
    loop {
        let Ok(board) = office.query(board_now).await else { return };
        seq = (seq + 1).max(clock.as_ref()().as_ms().max(0) as u64);
        let state = BoardState { seq, calls: board.0, waiting: board.1 };
        match state.to_payload() {
            Ok(payload) => mqtt.publish_state(mqtt.topics().board_state(), payload).await,
            Err(error) => tracing::warn!(%error, "board state not sent"),
        }
        tokio::time::sleep(EVERY).await;
        // Wait for something that changes the board; a missed event only means a fresh look.
        loop {
            match events.recv().await {
                Ok(Event::Issued(_) | Event::Called { .. } | Event::TicketChanged(_) | Event::DayStarted(_)) => break,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
        // Everything that happened meanwhile is in the next look.
        while events.try_recv().is_ok() {}
    }
}

fn board_now(office: &Office, _now: Timestamp) -> (Vec<BoardCall>, BTreeMap<String, u32>) {
    let day = office.day();
    let calls = day
        .calls
        .iter()
        .rev()
        .take(BOARD_CALLS)
        .map(|call| BoardCall {
            ticket: call.number.to_string(),
            counter: call.counter.as_str().into(),
            ts: call.at.as_ms(),
        })
        .collect();
    let waiting = office
        .config()
        .services
        .iter()
        .map(|s| (s.id.as_str().to_string(), u32::try_from(office.waiting_count(&s.id)).unwrap_or(u32::MAX)))
        .collect();
    (calls, waiting)
}
