//! `GET /metrics`: Prometheus text exposition (format 0.0.4) of the office's live state.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use actix_web::{web, HttpResponse};
use fila_protocol::office::{CounterStatus, Office};
use fila_protocol::{TicketStatus, Timestamp};

use super::error::ApiError;
use super::AppState;

pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut text = state.office.query(office_metrics).await?;
    if let Some(link) = &state.central {
        let connected = u8::from(link.connected.load(Ordering::SeqCst));
        let heard = link.last_heard_ms.load(Ordering::SeqCst);
        metric(
            &mut text,
            "fila_edge_central_connected",
            "gauge",
            "1 while the sync link to central is up",
            &[("", connected as f64)],
        );
        metric(
            &mut text,
            "fila_edge_sync_refused_total",
            "counter",
            "frames from central refused and undone because they broke the day's rules",
            &[("", link.refused.load(Ordering::SeqCst) as f64)],
        );
        metric(
            &mut text,
            "fila_edge_central_last_heard_seconds",
            "gauge",
            "when central was last heard from (unix time; 0: never)",
            &[("", heard as f64 / 1000.0)],
        );
    }
    let devices = state.devices.health.all();
    if !devices.is_empty() {
        let online: Vec<(String, f64)> = devices
            .iter()
            .map(|d| (format!("device=\"{}\",kind=\"{}\"", d.id, d.kind), f64::from(u8::from(d.online == Some(true)))))
            .collect();
        let labelled: Vec<(&str, f64)> = online.iter().map(|(l, v)| (l.as_str(), *v)).collect();
        metric(&mut text, "fila_edge_device_online", "gauge", "1 while the device answers", &labelled);
    }
    let notices = state.notices.counts();
    metric(
        &mut text,
        "fila_edge_notices",
        "gauge",
        "notices to citizens held by the outbox, by state (kept for the retention period)",
        &[
            ("state=\"queued\"", notices.queued as f64),
            ("state=\"sending\"", notices.sending as f64),
            ("state=\"sent\"", notices.sent as f64),
            ("state=\"failed\"", notices.failed as f64),
        ],
    );
    security_metrics(&mut text, &state);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}

fn security_metrics(text: &mut String, state: &AppState) {
    let security = &state.security;
    let lockouts = security.lockouts_total.load(Ordering::Relaxed) as f64;
    metric(
        text,
        "fila_edge_login_lockouts_total",
        "counter",
        "sign-in lockouts (per username or address)",
        &[("", lockouts)],
    );
    let refused = security.kiosk_refusals_total.load(Ordering::Relaxed) as f64;
    metric(
        text,
        "fila_edge_kiosk_issues_refused_total",
        "counter",
        "tickets refused to kiosks over their rate",
        &[("", refused)],
    );
    let checks = state.auth.password_checks_peak() as f64;
    metric(text, "fila_edge_password_checks_peak", "gauge", "the most argon2 checks ever run at once", &[("", checks)]);
    let streams = security.event_streams_open() as f64;
    metric(text, "fila_edge_event_streams_open", "gauge", "open connections to the event stream", &[("", streams)]);
}

fn office_metrics(office: &Office, now: Timestamp) -> String {
    let day = office.day();
    let config = office.config();
    let mut text = String::new();
    let per_service = |status: TicketStatus| -> Vec<(String, f64)> {
        config
            .services
            .iter()
            .map(|s| {
                let count = day.tickets.values().filter(|t| t.service == s.id && t.status == status).count();
                (format!("service=\"{}\"", s.id), count as f64)
            })
            .collect()
    };
    let waiting: Vec<(String, f64)> =
        config.services.iter().map(|s| (format!("service=\"{}\"", s.id), office.waiting_count(&s.id) as f64)).collect();
    metric(&mut text, "fila_edge_tickets_waiting", "gauge", "tickets waiting to be called", &as_refs(&waiting));
    let room = office.room();
    let presence = [("where=\"present\"", f64::from(room.present)), ("where=\"away\"", f64::from(room.away))];
    metric(&mut text, "fila_edge_room_tickets", "gauge", "open tickets in the waiting room and outside it", &presence);
    if let Some(capacity) = room.capacity {
        metric(
            &mut text,
            "fila_edge_room_capacity",
            "gauge",
            "people the waiting room holds",
            &[("", f64::from(capacity))],
        );
    }
    let issued: Vec<(String, f64)> = config
        .services
        .iter()
        .map(|s| (format!("service=\"{}\"", s.id), f64::from(day.sequences.get(&s.prefix).copied().unwrap_or(0))))
        .collect();
    metric(&mut text, "fila_edge_tickets_issued", "gauge", "tickets issued today", &as_refs(&issued));
    let finished = per_service(TicketStatus::Finished);
    metric(&mut text, "fila_edge_tickets_finished", "gauge", "tickets served today", &as_refs(&finished));
    let oldest: Vec<(String, f64)> = config
        .services
        .iter()
        .map(|s| {
            let wait = day
                .tickets
                .values()
                .filter(|t| t.service == s.id && t.status == TicketStatus::Waiting)
                .map(|t| now.ms_since(t.issued_at))
                .max()
                .unwrap_or(0);
            (format!("service=\"{}\"", s.id), wait as f64 / 1000.0)
        })
        .collect();
    metric(
        &mut text,
        "fila_edge_oldest_wait_seconds",
        "gauge",
        "how long the longest-waiting ticket has waited",
        &as_refs(&oldest),
    );
    let open = day.counters.values().filter(|c| c.status == CounterStatus::Open).count();
    metric(&mut text, "fila_edge_counters_open", "gauge", "counters open now", &[("", open as f64)]);
    let deviations = day.calls.iter().filter(|c| c.is_out_of_order()).count();
    metric(&mut text, "fila_edge_out_of_order_calls", "gauge", "out-of-order calls today", &[("", deviations as f64)]);
    text
}

fn as_refs(values: &[(String, f64)]) -> Vec<(&str, f64)> {
    values.iter().map(|(labels, value)| (labels.as_str(), *value)).collect()
}

fn metric(text: &mut String, name: &str, kind: &str, help: &str, values: &[(&str, f64)]) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in values {
        if labels.is_empty() {
            let _ = writeln!(text, "{name} {value}");
        } else {
            let _ = writeln!(text, "{name}{{{labels}}} {value}");
        }
    }
}
