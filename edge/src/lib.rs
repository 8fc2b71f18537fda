//! fila's branch office daemon.
//!
//! [`App::build`] wires the pieces: the sled store, the office loop (the only writer of the
//! queue), authentication, and the actix-web server with the API, the event stream and the
//! pages. Tests build it on port 0 with a temporary data directory.

pub mod auth;
pub mod demo;
pub mod http;
pub mod office_loop;
pub mod settings;
pub mod sync_client;
pub mod sync_window;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{middleware, web, HttpServer};
use anyhow::Context;
use fila_protocol::doc;

use crate::auth::Auth;
use crate::http::AppState;
use crate::office_loop::{Clock, OfficeHandle};
use crate::settings::Settings;
use fila_store::{SledStore, Store};

pub struct App {
    server: actix_web::dev::Server,
    port: u16,
    office: OfficeHandle,
    link: Option<tokio::task::JoinHandle<()>>,
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
        write_config_doc(store.as_ref(), &settings)?;
        let office = office_loop::spawn(settings.office.clone(), store.clone(), clock)?;

        let auth = Arc::new(Auth::new(&settings.users, &settings.kiosks));
        for (key, id) in store.scan_meta(http::KIOSK_META_PREFIX)? {
            let hash = key.trim_start_matches(http::KIOSK_META_PREFIX);
            auth.add_kiosk(&String::from_utf8_lossy(&id), hash);
        }

        let link_status = Arc::new(sync_client::LinkStatus::default());
        let link = settings.central.clone().map(|central| {
            tracing::info!(url = %central.url, "syncing with central");
            tokio::spawn(sync_client::run(central, office.clone(), link_status.clone()))
        });
        let state = web::Data::new(AppState {
            office: office.clone(),
            auth,
            store,
            public_url: settings.public_url.clone(),
            central: settings.central.is_some().then_some(link_status),
        });
        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            actix_web::App::new().app_data(state.clone()).wrap(access_log()).configure(http::routes)
        })
        .workers(2)
        .shutdown_timeout(3)
        .listen(listener)?
        .run();
        tracing::info!(office = %settings.office.id, port, "edge listening");
        Ok(App { server, port, office, link })
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

    /// Serve until SIGTERM or SIGINT; then finish requests, flush the store and stop.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await?;
        if let Some(link) = self.link {
            link.abort();
        }
        self.office.shutdown().await;
        tracing::info!("edge stopped");
        Ok(())
    }
}

/// Request log lines without tracking tokens (they are credentials to a citizen's ticket).
fn access_log() -> middleware::Logger {
    middleware::Logger::new("%s %{path}xi %Dms").custom_request_replace("path", |request| {
        let path = request.path();
        match path.find("/track/").or_else(|| path.strip_prefix("/t/").map(|_| 0)) {
            Some(_) => format!("{} [tracking path]", request.method()),
            None => format!("{} {}", request.method(), path),
        }
    })
}

/// Keep the office configuration document in step with the configuration file.
fn write_config_doc(store: &dyn Store, settings: &Settings) -> anyhow::Result<()> {
    let doc_id = settings.office.doc_id();
    let raw = settings.office.to_raw();
    let chunks = store.chunks(&doc_id)?;
    if !chunks.is_empty() {
        let mut stored = automerge::AutoCommit::new();
        for chunk in &chunks {
            stored.load_incremental(chunk)?;
        }
        if doc::config::read(&stored).ok().as_ref() == Some(&raw) {
            return Ok(());
        }
    }
    let actor = auth::tracking_token().into_bytes();
    let mut created = doc::config::create(&raw, &actor).context("cannot write the configuration document")?;
    store.replace_chunks(&doc_id, &created.save())?;
    store.flush()?;
    tracing::info!(doc = %doc_id, "configuration document written");
    Ok(())
}
