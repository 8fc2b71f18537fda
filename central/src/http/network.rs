//! `GET /api/v1/network?tag=&sort=`: every office's state today, one row each, for
//! headquarters' network view.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NetworkQuery {
    /// Only offices with this tag (a region).
    tag: Option<String>,
    /// `office` (default), `waiting`, `longest_wait`, `served`, `within_target`, `sync_lag`:
    /// the worst first for the measures, by id for `office`.
    sort: Option<String>,
}

const SORTS: [&str; 6] = ["office", "waiting", "longest_wait", "served", "within_target", "sync_lag"];

/// Every office at a glance: online and sync lag, people waiting now and the longest wait,
/// counters open, served today, share within target, preferential within the legal maximum,
/// out-of-order calls.
#[utoipa::path(get, path = "/api/v1/network", tag = "headquarters", params(NetworkQuery),
    responses((status = 200, body = Object, description = "one row per office"),
              (status = 400, body = ErrorBody, description = "`bad_query`: an unknown sort"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn network(
    _: Analyst,
    state: web::Data<AppState>,
    query: web::Query<NetworkQuery>,
) -> Result<HttpResponse, ApiError> {
    let NetworkQuery { tag, sort } = query.into_inner();
    let sort = sort.unwrap_or_else(|| "office".into());
    if !SORTS.contains(&sort.as_str()) {
        return Err(ApiError::bad_request("bad_query", format!("sort is one of {}", SORTS.join(", "))));
    }
    let (hub, network, now) = (state.hub.clone(), state.network.clone(), state.hub.now());
    let mut rows = web::block(move || network.glance(&hub, now)).await??;
    if let Some(tag) = &tag {
        rows.retain(|row| row.tags.contains(tag));
    }
    match sort.as_str() {
        "waiting" => rows.sort_by_key(|r| std::cmp::Reverse(r.waiting)),
        "longest_wait" => rows.sort_by_key(|r| std::cmp::Reverse(r.longest_wait_seconds)),
        "served" => rows.sort_by_key(|r| std::cmp::Reverse(r.served)),
        // The lowest share first; offices without one last.
        "within_target" => rows.sort_by(|a, b| {
            let share = |r: &crate::network::OfficeGlance| r.within_target_share.unwrap_or(f64::INFINITY);
            share(a).total_cmp(&share(b))
        }),
        "sync_lag" => rows.sort_by_key(|r| std::cmp::Reverse(r.sync_lag_ms.unwrap_or(0))),
        _ => rows.sort_by(|a, b| a.office.cmp(&b.office)),
    }
    Ok(HttpResponse::Ok().json(rows))
}

/// How often the live view looks for a change.
const LIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The same rows, live: a `text/event-stream` whose `network` events carry every office's row
/// whenever any of them changed (and once at the start), so the network view stays current
/// without asking again; `alerts` events carry headquarters' alerts (as `GET /api/v1/alerts`)
/// in the same way.
#[utoipa::path(get, path = "/api/v1/network/events", tag = "headquarters",
    responses((status = 200, content_type = "text/event-stream", body = String,
               description = "`event: network` with the rows as `data`, and `event: alerts` with the alerts, \
                              at the start and on every change"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(_: Analyst, state: web::Data<AppState>) -> HttpResponse {
    let stream = futures_util::stream::unfold((state, Last::default()), move |(state, last)| async move {
        let mut last = last;
        loop {
            if last.sent_any {
                tokio::time::sleep(LIVE_EVERY).await;
            }
            let (reader, cache, now) = (state.hub.clone(), state.network.clone(), state.hub.now());
            let rows = tokio::task::spawn_blocking(move || cache.glance(&reader, now)).await;
            let mut events = String::new();
            match rows {
                Ok(Ok(mut rows)) => {
                    rows.sort_by(|a, b| a.office.cmp(&b.office));
                    let json = serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into());
                    if json != last.network || !last.sent_any {
                        events.push_str(&format!("event: network\ndata: {json}\n\n"));
                        last.network = json;
                    }
                }
                _ => tracing::warn!("the network view could not be computed"),
            }
            let alerts = serde_json::to_string(&super::alerts::AlertsDto::now(&state)).unwrap_or_default();
            if alerts != last.alerts || !last.sent_any {
                events.push_str(&format!("event: alerts\ndata: {alerts}\n\n"));
                last.alerts = alerts;
            }
            last.sent_any = true;
            if !events.is_empty() {
                return Some((Ok::<_, actix_web::Error>(web::Bytes::from(events)), (state, last)));
            }
        }
    });
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/event-stream"))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(stream)
}

/// What a live view was last sent.
#[derive(Default)]
struct Last {
    network: String,
    alerts: String,
    sent_any: bool,
}
