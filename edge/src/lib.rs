//! fila's branch office daemon.
//!
//! [`App::build`] wires the pieces: the sled store, the office loop (the only writer of the
//! queue), authentication, and the actix-web server with the API, the event stream and the
//! pages. Tests build it on port 0 with a temporary data directory.

pub mod access;
pub mod appointments;
pub mod auth;
pub mod booking_details;
pub mod demo;
pub mod devices;
pub mod http;
pub mod notices;
pub mod office_loop;
pub mod security;
pub mod settings;
pub mod signage;
pub mod sync_client;
pub mod sync_window;
pub mod throttle;
pub mod tracking;
pub mod wait_history;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{middleware, web, HttpServer};
use anyhow::Context;

use crate::auth::Auth;
use crate::http::AppState;
use crate::office_loop::{Clock, OfficeHandle};
use crate::settings::Settings;
use fila_store::{SledStore, Store};

pub struct App {
    server: actix_web::dev::Server,
    port: u16,
    office: OfficeHandle,
    /// The link to central and the booking details asked of it.
    links: Vec<tokio::task::JoinHandle<()>>,
    devices: Arc<devices::Devices>,
    /// The notices' runner and the reader of STOP replies. Stopped with the office: a send cut
    /// short is found `sending` at the next start and not sent again (at most once).
    notices: Vec<tokio::task::JoinHandle<()>>,
    /// Reloads the HTTPS certificate on SIGHUP (and keeps SIGHUP from ending a plain edge).
    reload: tokio::task::JoinHandle<()>,
}

impl App {
    pub fn build(settings: Settings) -> anyhow::Result<App> {
        Self::build_with_clock(settings, office_loop::system_clock())
    }

    /// As [`App::build`], with a clock of the caller's (tests move time to cross midnight).
    pub fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<App> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
        let store_dir = settings.data_dir.join("store");
        let store: Arc<dyn Store> = Arc::new(
            SledStore::open(&store_dir, settings.cache_bytes)
                .with_context(|| format!("cannot open the store in {}", store_dir.display()))?,
        );
        Self::build_with_store(settings, clock, store)
    }

    /// As [`App::build_with_clock`], on a store of the caller's (tests make one fail).
    pub fn build_with_store(settings: Settings, clock: Clock, store: Arc<dyn Store>) -> anyhow::Result<App> {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
        let office_config = headquarters_config(store.as_ref(), &settings).unwrap_or_else(|| settings.office.clone());
        let office = office_loop::spawn(office_config, store.clone(), clock.clone(), settings.central.is_some())?;

        let auth = Arc::new(Auth::new(&settings.users, &settings.kiosks));
        for (key, id) in store.scan_meta(http::KIOSK_META_PREFIX)? {
            let hash = key.trim_start_matches(http::KIOSK_META_PREFIX);
            auth.add_kiosk(&String::from_utf8_lossy(&id), hash);
        }

        for note in settings.notes() {
            tracing::warn!("{note}");
        }
        let link_status = Arc::new(sync_client::LinkStatus::default());
        let link = settings.central.clone().map(|central| {
            tracing::info!(url = %central.url, "syncing with central");
            tokio::spawn(sync_client::run(central, office.clone(), link_status.clone()))
        });
        access::restore(store.as_ref(), &auth);
        let staff = settings
            .central
            .clone()
            .map(|central| tokio::spawn(access::run(central, store.clone(), auth.clone(), settings.access_every)));
        let booking_details = Arc::new(booking_details::BookingDetails::default());
        let details = settings.central.clone().map(|central| {
            tokio::spawn(booking_details::run(central, office.clone(), clock.clone(), booking_details.clone()))
        });
        let media = Arc::new(
            signage::MediaCache::open(&settings.data_dir, settings.media_cache_bytes)
                .context("cannot open the signage media cache")?,
        );
        let media_fetch = settings.central.clone().map(|central| {
            let rate = settings.media_download_bytes_per_second;
            tokio::spawn(signage::fetch::run(central, office.clone(), media.clone(), rate))
        });
        let plays = signage::plays::PlayLog::open(store.clone()).context("cannot read the signage plays kept")?;
        let play_reports =
            settings.central.clone().map(|central| tokio::spawn(signage::plays::run(central, plays.clone())));
        let mut links: Vec<_> =
            link.into_iter().chain(staff).chain(details).chain(media_fetch).chain(play_reports).collect();
        if settings.public_url.is_none()
            && settings.listen.ip().is_unspecified()
            && !settings.devices.printers.is_empty()
        {
            tracing::warn!(
                "set [server] public_url: tickets printed from buttons carry a QR code to this box, \
                 and {} is no address a phone can reach",
                settings.listen
            );
        }
        let scheme = if settings.tls.is_some() { "https" } else { "http" };
        // Bound before anything links to it: with port 0 (tests) the address is known only now.
        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let bound = listener.local_addr()?;
        let base_url = settings.public_url.clone().unwrap_or_else(|| format!("{scheme}://{bound}"));
        let public_base_url = base_url.clone();
        let kiosks = settings.kiosks.iter().map(|k| k.id.clone()).collect();
        let security = security::Security::new(settings.security.clone());
        let devices = Arc::new(devices::Devices::start(
            &settings.devices,
            kiosks,
            office.clone(),
            &settings.data_dir,
            base_url,
            clock.clone(),
            security.clone(),
        ));
        // Headquarters alerts on a device down from what the box tells it.
        if let Some(central) = settings.central.clone() {
            links.push(tokio::spawn(devices::report::run(central, devices.health.clone())));
        }
        let channels = notices::channels_from_settings(settings.notices.as_ref(), devices.modem_channel())?;
        let notices = notices::Notices::open(
            &settings.office.id,
            store.clone(),
            channels,
            notices::NoticeRules {
                central_surveys: settings.central.as_ref().map(notices::CentralSurveys::from_settings),
                ..notices::NoticeRules::from_settings(settings.notices.as_ref(), &office.config().time_zone)
            },
            public_base_url,
            clock.as_ref()(),
        )?;
        let notice_tasks = notices.start(office.clone(), clock.clone(), devices.take_modem_replies());
        let comments = fila_notify::survey_comments::SurveyComments::new(store.clone());
        let state = web::Data::new(AppState {
            office: office.clone(),
            auth,
            store,
            public_url: settings.public_url.clone(),
            central: settings.central.is_some().then_some(link_status),
            devices: devices.clone(),
            security,
            notices,
            comments,
            booking_key: settings.central.as_ref().and_then(|central| central.booking_key),
            booking_details,
            media,
            plays,
        });
        let certificate = match &settings.tls {
            Some(files) => Some(fila_tls::server::ReloadingCert::load(files.clone())?),
            None => None,
        };
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .wrap(http::security_headers())
                .wrap(access_log())
                .configure(http::routes)
        })
        .workers(2)
        .shutdown_timeout(3);
        let server = match &certificate {
            Some(certificate) => server.listen_rustls_0_23(listener, certificate.server_config()?)?,
            None => server.listen(listener)?,
        }
        .run();
        let reload = fila_tls::server::reload_on_hangup("fila-edge", certificate).context("cannot watch for SIGHUP")?;
        tracing::info!(office = %settings.office.id, port, scheme, "edge listening");
        Ok(App { server, port, office, links, devices, notices: notice_tasks, reload })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server gracefully (tests; the daemon stops on SIGTERM).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn office(&self) -> OfficeHandle {
        self.office.clone()
    }

    /// Serve until SIGTERM or SIGINT; then finish requests, flush the store and stop. If the
    /// office loop dies (the store failed, a bug), stop serving and return why: the daemon exits
    /// non-zero and systemd restarts it from what is on disk.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let server = self.server;
        let office = self.office.clone();
        tokio::pin!(server);
        let died = tokio::select! {
            served = &mut server => {
                served?;
                None
            }
            reason = office.died() => Some(reason),
        };
        self.reload.abort();
        for task in &self.notices {
            task.abort();
        }
        if let Some(reason) = died {
            // The server runs inside its own future: it must be polled to carry out the stop.
            let _ = tokio::join!(handle.stop(false), &mut server);
            for link in &self.links {
                link.abort();
            }
            self.devices.shutdown().await;
            anyhow::bail!("the office cannot go on: {reason}");
        }
        for link in &self.links {
            link.abort();
        }
        self.office.shutdown().await;
        self.devices.shutdown().await;
        tracing::info!("edge stopped");
        Ok(())
    }
}

/// The configuration headquarters pushed, if the store holds a valid one for this office: it
/// takes precedence over the file's office sections, which only bootstrap a new box.
fn headquarters_config(store: &dyn Store, settings: &Settings) -> Option<fila_protocol::OfficeConfig> {
    let raw = sync_window::stored_config(store, &settings.office.id)?;
    match raw.validate() {
        Ok(config) if config.id == settings.office.id && config.time_zone_name == settings.office.time_zone_name => {
            tracing::info!(office = %config.id, "using the configuration headquarters pushed");
            Some(config)
        }
        Ok(_) => None,
        Err(problems) => {
            tracing::error!(
                count = problems.len(),
                "stored configuration from headquarters is invalid; using the file"
            );
            None
        }
    }
}

/// Request log lines without tracking tokens (they are credentials to a citizen's ticket).
fn access_log() -> middleware::Logger {
    middleware::Logger::new("%s %{path}xi %Dms")
        .custom_request_replace("path", |request| logged_request(request.method().as_str(), request.path()))
}

/// A request as the access log shows it: a path that holds a tracking token (the API's
/// `/api/v1/track/...`, the page `/t/...` and its QR code) is not written down.
fn logged_request(method: &str, path: &str) -> String {
    if path.contains("/track/") || path.starts_with("/t/") {
        format!("{method} [tracking path]")
    } else if path.starts_with("/o/") {
        // An opt-out link is a credential too: it stops a citizen's messages.
        format!("{method} [opt-out path]")
    } else {
        format!("{method} {path}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_access_log_never_shows_a_tracking_token() {
        let token = "0123456789abcdef0123456789abcdef";
        for path in [format!("/t/{token}"), format!("/t/{token}/qr.svg"), format!("/api/v1/track/{token}/cancel")] {
            let logged = super::logged_request("GET", &path);
            assert!(!logged.contains(token), "{logged}");
            assert_eq!(logged, "GET [tracking path]");
        }
        assert_eq!(super::logged_request("POST", "/api/v1/tickets"), "POST /api/v1/tickets");
        assert_eq!(super::logged_request("POST", &format!("/o/2026-12-05/000001/{token}")), "POST [opt-out path]");
    }
}
