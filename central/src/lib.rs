//! fila's headquarters aggregator.
//!
//! Every branch office's edge opens a WebSocket to central and syncs its documents (its
//! configuration and its business days) with the automerge sync protocol; central stores them
//! durably and shows them to headquarters. [`App::build`] wires the sled store, the [`hub::Hub`]
//! (per-office state shared by all connections) and the actix-web server. Tests build it on
//! port 0 with a temporary data directory.

pub mod access;
pub mod alert_monitor;
pub mod alerts;
pub mod auth;
pub mod bookings;
pub mod charts;
pub mod day_window;
pub mod demo;
pub mod doc_cache;
pub mod forecast;
pub mod http;
pub mod hub;
pub mod kpi_cache;
pub mod kpis;
pub mod media;
pub mod metrics;
pub mod network;
pub mod outbox;
pub mod presence;
pub mod remote_joins;
pub mod replacements;
pub mod rollups;
pub mod settings;
pub mod signage_network;
pub mod signage_plays;
pub mod surveys;
pub mod templates;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{middleware, web, HttpServer};
use anyhow::Context;
use fila_store::{PgStore, SledStore, Store};

use crate::auth::Tokens;
use crate::http::AppState;
use crate::hub::Hub;
use crate::settings::Settings;

pub struct App {
    server: actix_web::dev::Server,
    port: u16,
    hub: Arc<Hub>,
    /// Reloads the TLS certificate on SIGHUP (and keeps SIGHUP from ending a plain central).
    reload: tokio::task::JoinHandle<()>,
    /// Central's outbox: sending, and deleting what is past its retention period.
    outbox_tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Stops a running [`App`] gracefully: edges' WebSockets close first (1001, "going away"), since
/// an open WebSocket would otherwise hold the shutdown until its timeout and then be cut.
#[derive(Clone)]
pub struct StopHandle {
    server: actix_web::dev::ServerHandle,
    hub: Arc<Hub>,
}

impl StopHandle {
    pub async fn stop(&self) {
        self.hub.stop();
        self.server.stop(true).await;
    }
}

impl App {
    pub fn build(settings: Settings) -> anyhow::Result<App> {
        Self::build_with_clock(settings, hub::system_clock())
    }

    /// As [`App::build`], with a clock of the caller's for the days edges may name (tests set it
    /// to their scenario's date).
    pub fn build_with_clock(settings: Settings, clock: hub::Clock) -> anyhow::Result<App> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
        let store = open_store(&settings)?;
        let hub = Arc::new(
            Hub::open(store.clone(), &settings.offices).context("cannot read the document index")?.with_clock(clock),
        );
        follow_other_replicas(store.as_ref(), &hub)?;
        for config in &settings.seed_configs {
            if hub.config(&config.office.id).is_ok_and(|held| held.is_none()) {
                hub.set_config(&config.office.id, config, None)
                    .context("cannot set the demo office's configuration")?;
            }
        }
        let media = Arc::new(
            media::MediaLibrary::open(&settings.data_dir, store.clone(), settings.media_limits)
                .context("cannot open the media library")?,
        );
        let surveys = Arc::new(surveys::Surveys::new(store.clone(), &settings.offices));
        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        // Links in citizens' messages: the configured address, else the one just bound.
        let citizen_url = settings.public_url.clone().unwrap_or_else(|| {
            let scheme = if settings.tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{}:{port}", settings.listen.ip())
        });
        let outbox = Arc::new(outbox::CentralOutbox::open(store.clone(), &settings, &citizen_url, hub.now())?);
        let outbox_tasks = outbox.start(hub.clock(), surveys.clone());
        let secrets = match &settings.demo_booking_seed {
            Some(seed) => bookings::secrets::Secrets::from_seed(seed),
            None => {
                bookings::secrets::Secrets::load_or_create(store.as_ref()).context("cannot read the booking secrets")?
            }
        };
        let remote_joins = Arc::new(remote_joins::RemoteJoins::new(
            store.clone(),
            hub.clone(),
            outbox.clone(),
            secrets.identity,
            settings.remote_joins.clone(),
            citizen_url.clone(),
        ));
        let bookings = Arc::new(bookings::Bookings::new(
            store.clone(),
            hub.clone(),
            outbox.clone(),
            secrets,
            settings.bookings.clone(),
            citizen_url,
        ));
        // Check-ins and no-shows follow what the offices sync, every minute; what is past its
        // retention period goes.
        let mut outbox_tasks = outbox_tasks;
        outbox_tasks.push({
            let (bookings, joins, clock, store) = (bookings.clone(), remote_joins.clone(), hub.clock(), store.clone());
            tokio::spawn(async move {
                loop {
                    let (bookings, joins, now) = (bookings.clone(), joins.clone(), fila_protocol::Timestamp(clock()));
                    let store = store.clone();
                    // Each on its own: a failing one must not stop the others (the purge of
                    // personal data least of all). Where replicas share the store, one runs them.
                    let passes = tokio::task::spawn_blocking(move || {
                        match store.try_lead("passes") {
                            Ok(true) => {}
                            Ok(false) => return,
                            Err(error) => {
                                tracing::error!(%error, "cannot tell whether this replica runs the minute's passes");
                                return;
                            }
                        }
                        if let Err(error) = bookings.settle(now) {
                            tracing::error!(%error, "bookings could not be settled");
                        }
                        if let Err(error) = bookings.offer_freed(now) {
                            tracing::error!(%error, "freed places could not be offered");
                        }
                        if let Err(error) = bookings.purge(now) {
                            tracing::error!(%error, "booking records past their retention could not be deleted");
                        }
                        if let Err(error) = joins.tell_to_come(now) {
                            tracing::error!(%error, "remote joins could not be told to come");
                        }
                        if let Err(error) = joins.purge(now) {
                            tracing::error!(%error, "remote joins past their day could not be deleted");
                        }
                    });
                    let _ = passes.await;
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                }
            })
        });
        outbox_tasks.extend(presence::start(store.clone(), hub.clone()));
        // The network view's rows, then the last two months' KPIs per office and day, computed
        // (or loaded as kept) once in the background, so the first look at the network or a
        // roll-up after a start does not wait for every office to be read.
        let network = Arc::new(network::Network::with_surveys(surveys.clone()));
        let kpi_cache = Arc::new(kpi_cache::KpiCache::kept_in(store.clone()));
        outbox_tasks.push({
            let (network, kpi_cache, hub) = (network.clone(), kpi_cache.clone(), hub.clone());
            tokio::spawn(async move {
                let warm = {
                    let (network, kpi_cache, hub) = (network.clone(), kpi_cache.clone(), hub.clone());
                    tokio::task::spawn_blocking(move || {
                        if let Err(error) = network.glance(&hub, hub.now()) {
                            tracing::warn!(%error, "the network view could not be prepared");
                        }
                        let started = std::time::Instant::now();
                        match kpi_cache.warm(&hub, hub.now()) {
                            Ok(warmed) => tracing::info!(
                                kept = warmed.loaded,
                                computed = warmed.computed,
                                unreadable = warmed.unreadable,
                                seconds = started.elapsed().as_secs_f64(),
                                "the KPIs of past days are ready"
                            ),
                            Err(error) => tracing::warn!(%error, "the KPIs of past days could not be prepared"),
                        }
                    })
                };
                let _ = warm.await;
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
                    let (kpi_cache, now) = (kpi_cache.clone(), hub.now());
                    let forgotten = tokio::task::spawn_blocking(move || kpi_cache.forget_old(now)).await;
                    if let Ok(Err(error)) = forgotten {
                        tracing::warn!(%error, "old days' kept KPIs could not be forgotten");
                    }
                }
            })
        });
        let alerts = Arc::new(alert_monitor::AlertMonitor::new(settings.alerts.clone(), store.clone(), hub.now()));
        outbox_tasks.push(alert_monitor::start(alerts.clone(), hub.clone(), network.clone(), outbox.clone()));
        let state = web::Data::new(AppState {
            hub: hub.clone(),
            tokens: Tokens::new(&settings),
            heartbeat: settings.heartbeat,
            surveys,
            outbox,
            bookings,
            remote_joins,
            media,
            plays: Arc::new(signage_plays::SignagePlays::new(store.clone())),
            store: store.clone(),
            network: network.clone(),
            alerts,
            forecasts: Arc::default(),
            kpi_cache,
        });
        let certificate = match &settings.tls {
            Some(files) => Some(fila_tls::server::ReloadingCert::load(files.clone())?),
            None => None,
        };
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .wrap(http::security_headers())
                .wrap(access_log())
                .configure(http::routes)
        })
        // Edges reconnect on their own, so a stop need not wait long for a socket to finish.
        .shutdown_timeout(2)
        // Signals are handled in `run_until_stopped`, which closes the WebSockets first.
        .disable_signals();
        let server = match &certificate {
            Some(certificate) => server.listen_rustls_0_23(listener, certificate.server_config()?)?,
            None => server.listen(listener)?,
        }
        .run();
        let reload = fila_tls::server::reload_on_hangup("fila-central", certificate.clone())
            .context("cannot watch for SIGHUP")?;
        let scheme = if certificate.is_some() { "https" } else { "http" };
        tracing::info!(port, scheme, offices = settings.offices.len(), "central listening");
        Ok(App { server, port, hub, reload, outbox_tasks })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's own handle, as the edge has. Stopping through it leaves open WebSockets to
    /// the shutdown timeout; [`App::stop_handle`] closes them first.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn stop_handle(&self) -> StopHandle {
        StopHandle { server: self.server.handle(), hub: self.hub.clone() }
    }

    /// Serve until stopped (SIGTERM, SIGINT or a handle); then flush the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let stop = self.stop_handle();
        // The server future itself carries out a stop, so it must keep being polled meanwhile.
        let stop_on_signal = async {
            stop_signal().await;
            tracing::info!("stopping");
            stop.stop().await;
            std::future::pending::<std::convert::Infallible>().await
        };
        tokio::select! {
            result = self.server => result?,
            never = stop_on_signal => match never {},
        }
        self.reload.abort();
        for task in &self.outbox_tasks {
            task.abort();
        }
        // Connection tasks that outlived a hard stop close now, if any are left.
        self.hub.stop();
        self.hub.flush().context("cannot flush the store")?;
        tracing::info!("central stopped");
        Ok(())
    }
}

/// The store: PostgreSQL when configured (shared with other replicas), else sled on this disk.
fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &settings.postgres {
        // The address may hold a password: it is never logged.
        let store = PgStore::open(url).context("cannot open the PostgreSQL store")?;
        tracing::info!(replica = store.replica(), "documents and records in PostgreSQL, shared with other replicas");
        return Ok(Arc::new(store));
    }
    let store_dir = settings.data_dir.join("store");
    Ok(Arc::new(
        SledStore::open(&store_dir, settings.cache_bytes)
            .with_context(|| format!("cannot open the store in {}", store_dir.display()))?,
    ))
}

/// What other replicas store reaches the hub's copies (and so the edges connected here) as they
/// commit it. The thread ends with the store, or with the hub.
fn follow_other_replicas(store: &dyn Store, hub: &Arc<Hub>) -> anyhow::Result<()> {
    let Some(changes) = store.watch() else { return Ok(()) };
    let hub = Arc::downgrade(hub);
    std::thread::Builder::new()
        .name("fila-replicas".into())
        .spawn(move || {
            for change in changes {
                let Some(hub) = hub.upgrade() else { return };
                hub.stored_elsewhere(&change);
            }
        })
        .context("cannot start following the other replicas")?;
    Ok(())
}

/// The access log, without the private links' secrets: each is one citizen's credential.
fn access_log() -> middleware::Logger {
    middleware::Logger::new("%s %{request}xi %Dms")
        .custom_request_replace("request", |request| logged_request(request.method().as_str(), request.path()))
}

fn logged_request(method: &str, path: &str) -> String {
    if path.starts_with("/s/") && path.len() > "/s/survey.css".len() || path.starts_with("/api/v1/public/surveys/") {
        format!("{method} [survey link]")
    } else if ["/b/", "/w/", "/f/", "/api/v1/public/bookings/", "/api/v1/public/waitlist/", "/api/v1/public/joins/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        // A booking's or a waiting-list place's private link, or a hold's id: each opens one
        // citizen's booking.
        format!("{method} [booking link]")
    } else if path.starts_with("/o/") {
        // Anyone holding it can stop a citizen's messages.
        format!("{method} [opt-out link]")
    } else {
        format!("{method} {path}")
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot watch for SIGTERM; only SIGINT stops central");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_access_log_never_shows_a_survey_links_mac() {
        let mac = "0123456789abcdef0123456789abcdef";
        for path in [
            format!("/s/centro/2026-12-05/000001/{mac}"),
            format!("/api/v1/public/surveys/centro/2026-12-05/000001/{mac}"),
        ] {
            assert_eq!(super::logged_request("GET", &path), "GET [survey link]");
        }
        assert_eq!(super::logged_request("GET", "/s/survey.js"), "GET /s/survey.js");
        let token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let paths = [
            format!("/b/{token}"),
            format!("/api/v1/public/bookings/{token}/cancel"),
            format!("/w/{token}"),
            format!("/api/v1/public/waitlist/{token}/leave"),
        ];
        for path in paths {
            assert_eq!(super::logged_request("POST", &path), "POST [booking link]");
        }
        assert_eq!(super::logged_request("POST", &format!("/o/{mac}")), "POST [opt-out link]");
        assert_eq!(super::logged_request("POST", "/api/v1/public/bookings"), "POST /api/v1/public/bookings");
        assert_eq!(super::logged_request("GET", "/api/v1/kpis"), "GET /api/v1/kpis");
    }
}
