//! A PostgreSQL database of its own for a test: created on the server tests use, dropped after.
//!
//! The server is `FILA_TEST_POSTGRES` (a URL of a database to connect to for creating others),
//! by default the local one at 127.0.0.1:5432 as user `postgres`. Without a server a test skips
//! on a developer's machine and fails in CI, where `.ci/run` starts one.

use crate::pg_store::Driver;
use crate::StoreError;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TempDatabase {
    server: String,
    name: String,
    url: String,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.as_str(), "" | "0" | "false"))
}

impl TempDatabase {
    /// A new empty database, or `None` (with a note) when no server answers outside CI.
    pub fn create() -> Option<TempDatabase> {
        let server = std::env::var("FILA_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_string());
        let name = format!("fila_test_{:016x}", rand::random::<u64>());
        match admin(&server, format!("CREATE DATABASE {name}")) {
            Ok(()) => {}
            Err(error) if !in_ci() => {
                eprintln!("skipped: no PostgreSQL at {server} ({error}); set FILA_TEST_POSTGRES or start one");
                return None;
            }
            Err(error) => panic!("PostgreSQL at {server} is needed in CI: {error}"),
        }
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("FILA_TEST_POSTGRES must end with a database name: {server}"),
        };
        Some(TempDatabase { server, name, url })
    }

    /// The URL of the new database, for `PgStore` and central's settings.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // FORCE: a replica a test killed may not have closed its connections yet.
        if let Err(error) = admin(&self.server, format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("could not drop the test database {}: {error}", self.name);
        }
    }
}

fn admin(server: &str, sql: String) -> Result<(), StoreError> {
    let driver = Driver::new()?;
    let server = server.to_string();
    driver
        .run(async move {
            let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await
        })?
        .map_err(|error| StoreError::Postgres(error.to_string()))
}
