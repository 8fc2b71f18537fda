//! The devices' health, told to central within seconds of a change and every half minute besides,
//! so headquarters can alert on a printer or display down ([`fila_protocol::device_report`]):
//! ids, kinds, up or down and a problem code, never a device's error text. A central that does
//! not take reports (an older one) answers 404; the box carries on and tells it less often.

use std::time::Duration;

use fila_protocol::device_report::{DeviceReport, DeviceState, DEVICE_KINDS};

use super::health::{DeviceHealth, HealthBoard};
use crate::settings::CentralSettings;

/// How often the board is looked at for a change.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A report even without a change: central forgets nothing, but a restarted central knows
/// nothing.
const EVERY: Duration = Duration::from_secs(30);
/// After a central said it does not know the route.
const UNKNOWN_EVERY: Duration = Duration::from_secs(600);

/// What central is told of the devices on `board`.
pub fn report(board: &HealthBoard) -> DeviceReport {
    DeviceReport { devices: board.all().iter().filter_map(state).collect() }
}

fn state(device: &DeviceHealth) -> Option<DeviceState> {
    let kind = DEVICE_KINDS.iter().find(|kind| **kind == device.kind)?;
    let (up, problem) = match device.alert().map(|(code, _)| code) {
        Some("printer_paper_out") => (false, Some("paper_out")),
        Some("printer_cover_open") => (false, Some("cover_open")),
        Some("printer_paper_low") => (true, Some("paper_low")),
        Some(_) => (false, Some("offline")),
        None => (true, None),
    };
    Some(DeviceState { id: device.id.clone(), kind: kind.to_string(), up, problem: problem.map(str::to_string) })
}

/// Tells central of the devices until aborted.
pub async fn run(central: CentralSettings, board: HealthBoard) {
    let client = match central.http_client(|builder| builder.timeout(Duration::from_secs(15))) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot make the client that reports devices to central");
            return;
        }
    };
    let url = format!("{}/api/v1/branch/devices", central.api_url());
    let mut last: Option<(DeviceReport, tokio::time::Instant, Duration)> = None;
    loop {
        let report = report(&board);
        let due = match &last {
            Some((sent, at, wait)) => *sent != report || at.elapsed() >= *wait,
            None => true,
        };
        if due {
            let sent = client.post(&url).bearer_auth(&central.token).json(&report).send().await;
            let wait = match sent {
                Ok(response) if response.status().is_success() => EVERY,
                Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => {
                    tracing::debug!("central takes no device reports");
                    UNKNOWN_EVERY
                }
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "central refused the device report");
                    EVERY
                }
                Err(error) => {
                    tracing::debug!(error = %error.without_url(), "the device report waits for central");
                    EVERY
                }
            };
            // Unsent, it goes again on the next change or after `wait`: a change while central
            // cannot be reached would otherwise be tried every second.
            last = Some((report, tokio::time::Instant::now(), wait));
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_hears_up_or_down_and_a_code_never_the_devices_error_text() {
        let board = HealthBoard::default();
        board.register(DeviceHealth::new("entrada", "printer", None));
        board.register(DeviceHealth::new("display-4", "display", Some("4")));
        board.register(DeviceHealth::new("broker", "broker", None));
        board.set_paper("entrada", "out");
        board.failed("display-4", "no answer from unit 4 (showed A-023 Juan)".into());
        board.seen("broker", 1);
        let report = report(&board);
        assert_eq!(report.problem(), None, "central takes it");
        let find = |id: &str| report.devices.iter().find(|d| d.id == id).cloned().expect(id);
        assert_eq!((find("entrada").up, find("entrada").problem.as_deref()), (false, Some("paper_out")));
        assert_eq!((find("display-4").up, find("display-4").problem.as_deref()), (false, Some("offline")));
        assert_eq!((find("broker").up, find("broker").problem), (true, None));
        let json = serde_json::to_string(&report).expect("json");
        assert!(!json.contains("Juan") && !json.contains("A-023"), "{json}");
    }

    #[test]
    fn a_printer_running_low_is_still_up() {
        let board = HealthBoard::default();
        board.register(DeviceHealth::new("entrada", "printer", None));
        board.set_paper("entrada", "near_end");
        let device = report(&board).devices.remove(0);
        assert_eq!((device.up, device.problem.as_deref()), (true, Some("paper_low")));
    }
}
