//! MQTT devices without hardware: a counter display and a kiosk button, behaving as the ESP32
//! firmware should (see the module doc of `mqtt`).

use std::time::Duration;

use rand::Rng;
use rumqttc::{AsyncClient, Event, LastWill, Outgoing, Packet, QoS};
use thiserror::Error;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

use super::client::MqttSettings;
use super::payload::{
    parse_display_state, parse_kiosk_ticket, DisplayState, KioskButton, KioskTicket, OFFLINE, ONLINE,
};
use super::topics::{validate_id, TopicError, Topics};
use super::PayloadError;

/// How long [`press_button`] waits for the edge's answer, connecting included.
pub const PRESS_REPLY_WAIT: Duration = Duration::from_secs(3);
/// How long a finished press waits for its DISCONNECT to be written.
const PRESS_GOODBYE_WAIT: Duration = Duration::from_millis(300);

/// Why an emulated device stopped or a press failed.
#[derive(Debug, Error)]
pub enum EmulatorError {
    #[error("bad id: {0}")]
    Id(#[from] TopicError),
    #[error("bad payload: {0}")]
    Payload(#[from] PayloadError),
    #[error("cannot reach the MQTT broker: {0}")]
    Connection(String),
}

/// Whether a display showing `shown` should switch to `incoming`.
///
/// A newer `seq` wins, as the firmware is told. A lower `seq` with a newer `ts` wins too: the edge
/// keeps `seq` in memory, so after an edge restart it counts from 1 again, and a display that
/// kept its old number would ignore the edge until the count caught up, perhaps all day. The cost
/// is a stale state that is older by `seq` but newer by `ts`, which one edge with a steady clock
/// never produces. Anything else (older or a repeat, as after a reconnect) is dropped.
pub fn is_newer(incoming: &DisplayState, shown: Option<&DisplayState>) -> bool {
    match shown {
        None => true,
        Some(shown) => incoming.seq > shown.seq || incoming.ts > shown.ts,
    }
}

/// The line a display prints: `display 4: A-023 → 4` or `display 4: (blank)`.
pub fn display_line(counter: &str, state: Option<&DisplayState>) -> String {
    match state {
        Some(DisplayState { ticket: Some(ticket), counter: to, .. }) => format!("display {counter}: {ticket} → {to}"),
        Some(DisplayState { ticket: None, .. }) => format!("display {counter}: (blank)"),
        None => format!("display {counter}: (cleared)"),
    }
}

/// Runs one emulated counter display: its own connection and last will (`display/{counter}/status`
/// = `offline`, retained), `online` on every connect, and the retained `display/{counter}/state`.
/// What it shows goes to `shown` (`None` once the retained state is cleared) and, on change, to
/// stdout and the log. It reconnects with backoff like the edge, and runs until its task is
/// aborted (which drops the socket without DISCONNECT, so the broker publishes the will). It
/// returns only for an office or counter id that is not valid.
pub async fn run_display(
    settings: &MqttSettings,
    office: &str,
    counter: &str,
    shown: watch::Sender<Option<DisplayState>>,
) -> Result<(), EmulatorError> {
    let office = validate_id(office)?;
    let counter = validate_id(counter)?;
    let topics = Topics::new(&settings.prefix, &office);
    let (state_topic, status_topic) = (topics.display_state(&counter), topics.display_status(&counter));
    let will = LastWill::new(status_topic.clone(), OFFLINE, QoS::AtLeastOnce, true);
    let options = settings.options(format!("fila-display-{office}-{counter}"), Some(will));
    let (client, mut event_loop) = AsyncClient::new(options, 16);
    let mut backoff = settings.backoff();
    let mut connected_at = None;
    loop {
        match event_loop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                connected_at = Some(Instant::now());
                // The request queue was emptied when the last connection failed, so these fit.
                let subscribed = client.try_subscribe(state_topic.clone(), QoS::AtLeastOnce);
                let announced = client.try_publish(status_topic.clone(), QoS::AtLeastOnce, true, ONLINE);
                if let Err(error) = subscribed.and(announced) {
                    warn!(counter, %error, "display could not queue its subscription");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) if publish.topic == state_topic => {
                show(&counter, &shown, &publish.payload);
            }
            Ok(_) => {}
            Err(error) => {
                backoff.connection_ended(connected_at.take());
                let delay = backoff.next_delay(&mut rand::thread_rng());
                warn!(counter, %error, delay_ms = delay.as_millis(), "display lost the broker; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

fn show(counter: &str, shown: &watch::Sender<Option<DisplayState>>, payload: &[u8]) {
    let next = if payload.is_empty() {
        None
    } else {
        match parse_display_state(payload) {
            Ok(state) if is_newer(&state, shown.borrow().as_ref()) => Some(state),
            Ok(state) => {
                info!(counter, seq = state.seq, "display dropped a state no newer than the one shown");
                return;
            }
            Err(error) => {
                warn!(counter, %error, "display ignored a malformed state");
                return;
            }
        }
    };
    let (before, after) = (display_line(counter, shown.borrow().as_ref()), display_line(counter, next.as_ref()));
    if before != after {
        println!("{after}");
        info!(counter, line = after, "display changed");
    }
    shown.send_replace(next);
}

/// Presses a hardware kiosk button once: connects, listens on `kiosk/{kiosk}/ticket`, publishes a
/// [`KioskButton`] for `service` and waits up to [`PRESS_REPLY_WAIT`] for the edge's answer.
/// `Ok(None)` means no answer came in time.
pub async fn press_button(
    settings: &MqttSettings,
    office: &str,
    kiosk: &str,
    service: &str,
) -> Result<Option<KioskTicket>, EmulatorError> {
    let office = validate_id(office)?;
    let kiosk = validate_id(kiosk)?;
    let topics = Topics::new(&settings.prefix, &office);
    let button = KioskButton { service: service.to_owned(), category: None }.to_payload()?;
    super::payload::parse_kiosk_button(&button)?;
    let (button_topic, ticket_topic) = (topics.kiosk_button(&kiosk), topics.kiosk_ticket(&kiosk));
    // A random suffix: two presses at once must not take over each other's session. No will: a
    // button that vanishes mid-press has nothing to announce.
    let client_id = format!("fila-kiosk-{office}-{kiosk}-{:08x}", rand::thread_rng().gen::<u32>());
    let (client, mut event_loop) = AsyncClient::new(settings.options(client_id, None), 8);
    let deadline = Instant::now() + PRESS_REPLY_WAIT;
    let answer = loop {
        let event = match tokio::time::timeout_at(deadline, event_loop.poll()).await {
            Err(_) => break None,
            Ok(Err(error)) => return Err(EmulatorError::Connection(error.to_string())),
            Ok(Ok(event)) => event,
        };
        match event {
            Event::Incoming(Packet::ConnAck(_)) => {
                if let Err(error) = client.try_subscribe(ticket_topic.clone(), QoS::AtLeastOnce) {
                    return Err(EmulatorError::Connection(error.to_string()));
                }
            }
            // Press only once the answer can be heard.
            Event::Incoming(Packet::SubAck(_)) => {
                if let Err(error) = client.try_publish(button_topic.clone(), QoS::AtLeastOnce, false, button.clone()) {
                    return Err(EmulatorError::Connection(error.to_string()));
                }
            }
            Event::Incoming(Packet::Publish(publish)) if publish.topic == ticket_topic => {
                match parse_kiosk_ticket(&publish.payload) {
                    Ok(ticket) => break Some(ticket),
                    Err(error) => warn!(kiosk, %error, "kiosk ignored a malformed answer"),
                }
            }
            _ => {}
        }
    };
    // Say goodbye so the broker logs a clean disconnect; the answer is already in hand.
    if client.try_disconnect().is_ok() {
        let goodbye = async {
            while let Ok(event) = event_loop.poll().await {
                if event == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(PRESS_GOODBYE_WAIT, goodbye).await;
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(seq: u64, ts: i64, ticket: Option<&str>) -> DisplayState {
        DisplayState {
            seq,
            counter: "4".into(),
            label: "Ventanilla 4".into(),
            ticket: ticket.map(Into::into),
            blink: 0,
            ts,
        }
    }

    #[test]
    fn a_display_takes_newer_states_and_a_restarted_edge_but_drops_stale_ones() {
        let shown = state(10, 1_000, Some("A-023"));
        assert!(is_newer(&shown, None));
        assert!(is_newer(&state(11, 1_000, None), Some(&shown)));
        assert!(!is_newer(&state(9, 900, None), Some(&shown)), "late delivery of an older state");
        assert!(!is_newer(&shown.clone(), Some(&shown)), "the same state again after a reconnect");
        assert!(is_newer(&state(1, 5_000, None), Some(&shown)), "the edge restarted and counts from 1");
    }

    #[test]
    fn display_lines_read_as_the_counter_shows_them() {
        assert_eq!(display_line("4", Some(&state(1, 0, Some("A-023")))), "display 4: A-023 → 4");
        assert_eq!(display_line("4", Some(&state(1, 0, None))), "display 4: (blank)");
        assert_eq!(display_line("4", None), "display 4: (cleared)");
    }
}
