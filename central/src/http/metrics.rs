//! `GET /metrics` in the Prometheus text format (0.0.4): few enough series to write by hand.

use std::fmt::Write;

use actix_web::{web, HttpResponse};

use super::AppState;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain; version=0.0.4", body = String,
               description = "Prometheus text format: offices configured and online, sync frames, refusals, \
                              replaced connections, notices by state, alerts open and raised by kind")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let census = state.hub.census();
    let counts = state.hub.metrics().counts();
    let mut text = String::new();
    let mut series = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(text, "{name}{labels} {value}");
        }
    };
    series(
        "fila_central_offices_configured",
        "gauge",
        "Offices in the configuration.",
        &[("", census.configured as u64)],
    );
    series(
        "fila_central_offices_online",
        "gauge",
        "Offices with an edge connected now.",
        &[("", census.online as u64)],
    );
    series(
        "fila_central_sync_frames_total",
        "counter",
        "Sync frames accepted from edges (in) and sent to them (out).",
        &[("{direction=\"in\"}", counts.frames_in), ("{direction=\"out\"}", counts.frames_out)],
    );
    series(
        "fila_central_frames_rejected_total",
        "counter",
        "Messages from edges that were refused, closing their connection.",
        &[("", counts.frames_rejected)],
    );
    series(
        "fila_central_changes_refused_total",
        "counter",
        "Changes from edges that broke a day's rules or rewrote its history: refused, nothing stored.",
        &[("", counts.changes_refused)],
    );
    series("fila_central_docs_held", "gauge", "Documents central holds.", &[("", census.docs_held as u64)]);
    if let Some(warmed) = state.kpi_cache.warmed() {
        series(
            "fila_central_kpi_days_warmed",
            "gauge",
            "Past days' KPIs made ready after the start: loaded as kept, computed from their documents, unreadable.",
            &[
                ("{source=\"kept\"}", warmed.loaded as u64),
                ("{source=\"computed\"}", warmed.computed as u64),
                ("{source=\"unreadable\"}", warmed.unreadable as u64),
            ],
        );
    }
    series(
        "fila_central_sync_lag_seconds_max",
        "gauge",
        "The largest replication delay among online offices (age of the newest change on arrival).",
        &[("", (census.sync_lag_ms_max / 1000) as u64)],
    );
    let replacements = state.hub.replacements();
    // Only offices that ever had a connection replaced: thousands of zeros say nothing.
    let replaced: Vec<(String, u64)> = replacements
        .iter()
        .filter(|(_, total, _)| *total > 0)
        .map(|(office, total, _)| (format!("{{office=\"{office}\"}}"), *total))
        .collect();
    let replaced: Vec<(&str, u64)> = replaced.iter().map(|(labels, total)| (labels.as_str(), *total)).collect();
    series(
        "fila_central_connection_replacements_total",
        "counter",
        "Connections of an office replaced by a newer one of the same office.",
        &replaced,
    );
    let shared = replacements.iter().filter(|(_, _, alerting)| *alerting).count() as u64;
    series(
        "fila_central_offices_token_shared",
        "gauge",
        "Offices whose connections keep replacing each other (two boxes with one token, or a stolen one).",
        &[("", shared)],
    );
    let notices = state.outbox.counts();
    series(
        "fila_central_notices",
        "gauge",
        "Notices in central's outbox by state (finished ones are forgotten after the retention period).",
        &[
            ("{state=\"queued\"}", notices.queued as u64),
            ("{state=\"sending\"}", notices.sending as u64),
            ("{state=\"sent\"}", notices.sent as u64),
            ("{state=\"failed\"}", notices.failed as u64),
        ],
    );
    let alerts = state.alerts.counts();
    let open: Vec<(String, u64)> =
        alerts.iter().map(|(kind, open, _)| (format!("{{kind=\"{}\"}}", kind.as_str()), *open as u64)).collect();
    let open: Vec<(&str, u64)> = open.iter().map(|(labels, n)| (labels.as_str(), *n)).collect();
    series("fila_central_alerts_open", "gauge", "Headquarters' alerts open now, by kind.", &open);
    let raised: Vec<(String, u64)> =
        alerts.iter().map(|(kind, _, raised)| (format!("{{kind=\"{}\"}}", kind.as_str()), *raised)).collect();
    let raised: Vec<(&str, u64)> = raised.iter().map(|(labels, n)| (labels.as_str(), *n)).collect();
    series(
        "fila_central_alerts_raised_total",
        "counter",
        "Headquarters' alerts opened since central started, by kind.",
        &raised,
    );
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}
