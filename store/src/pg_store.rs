//! The PostgreSQL implementation of [`Store`], for central run as several processes (replicas)
//! on one database.
//!
//! One connection writes, in a transaction that the first write opens and [`Store::flush`]
//! commits (or a background commit half a second later, as sled flushes on its own): the writes
//! of a step, from every thread, cost one commit. Meta values are read on that connection too,
//! so a process reads what it wrote before its flush. Chunks are read on connections of their
//! own: they are read in bulk (a day of an office) and must not wait behind the writes.
//!
//! A document's chunks are numbered by `fila_docs.next_seq`, incremented by the writing
//! transaction: the row's lock orders the writers of one document across processes, so a reader
//! never sees a sequence after one that commits later. Each commit notifies `fila_docs` with the
//! documents it wrote; every other process listening hears of them a round trip later and
//! catches up the copies it holds in memory ([`Store::watch`]).
//!
//! The driver (tokio-postgres) runs on a runtime of its own with one thread: the store is called
//! from another runtime's threads (actix's) and from blocking threads alike, and each call waits
//! on a plain channel for its answer.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, NoTls, Row, Statement};

use super::{Store, StoreError, StoredElsewhere};

/// The schema, one step per version; `migrate` applies those a database lacks, in order.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
    CREATE TABLE fila_docs (
        doc_id text COLLATE "C" PRIMARY KEY,
        next_seq bigint NOT NULL
    );
    CREATE TABLE fila_chunks (
        doc_id text COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (doc_id, seq)
    );
    CREATE TABLE fila_meta (
        key text COLLATE "C" PRIMARY KEY,
        value bytea NOT NULL
    );
    "#,
    ),
    (
        2,
        r#"
    CREATE TABLE fila_blobs (
        name text COLLATE "C" NOT NULL,
        part integer NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (name, part)
    );
    "#,
    ),
];
/// Files are kept in parts of this size: neither side holds a whole video in memory.
const BLOB_PART_BYTES: usize = 4 << 20;

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;
const CHANNEL: &str = "fila_docs";
/// An open transaction is committed after this long even if nobody flushes (as sled does).
const COMMIT_AFTER: Duration = Duration::from_millis(500);
/// Connections that read chunks.
const READERS: usize = 2;
/// Keys of the advisory locks taken by `migrate` and `lock_doc` (a second argument of
/// `hashtextextended`, so fila's locks do not collide with another application's).
const MIGRATION_LOCK: i64 = 0x6669_6c61;
const DOC_LOCK_SEED: i64 = 0x6669_6c62;

pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    /// Told apart from the other processes in notifications: a process ignores its own.
    replica: String,
    driver: Driver,
    writer: Mutex<Writer>,
    readers: Vec<Mutex<Arc<Conn>>>,
    next_reader: AtomicUsize,
    watching: Mutex<bool>,
    /// Per role, the connection that holds (or tries for) its lock, and whether it holds it.
    roles: Mutex<HashMap<String, (Arc<Conn>, bool)>>,
}

struct Writer {
    conn: Arc<Conn>,
    /// When the open transaction began, if one is open.
    open_since: Option<Instant>,
    /// Documents written in the open transaction: notified at its commit.
    touched: BTreeSet<String>,
    /// The open transaction failed and was rolled back, taking writes of other threads with it:
    /// the next flush reports it, so nobody acknowledges what was lost.
    failed: Option<String>,
}

/// A connection with the statements it has prepared (a statement costs a round trip once).
struct Conn {
    client: Client,
    statements: Mutex<HashMap<&'static str, Statement>>,
}

/// The runtime that drives the connections.
pub(crate) struct Driver {
    runtime: Option<tokio::runtime::Runtime>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

fn pg(error: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(describe(&error))
}

impl Driver {
    pub(crate) fn new() -> Result<Driver, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fila-postgres")
            .enable_all()
            .build()?;
        Ok(Driver { runtime: Some(runtime) })
    }

    /// Runs `future` on the driver's runtime and waits for it from any thread.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tell, answer) = mpsc::sync_channel(1);
        let runtime = self.runtime.as_ref().ok_or_else(|| StoreError::Postgres("the store is closed".into()))?;
        runtime.spawn(async move {
            let _ = tell.send(future.await);
        });
        answer.recv().map_err(|_| StoreError::Postgres("the database driver stopped".into()))
    }

    fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        if let Some(runtime) = &self.runtime {
            runtime.spawn(future);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Dropping a runtime from within another (actix's) would panic; this one just stops.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Conn {
    async fn open(url: String) -> Result<Arc<Conn>, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(error = %describe(&error), "a database connection ended");
            }
        });
        Ok(Arc::new(Conn { client, statements: Mutex::new(HashMap::new()) }))
    }

    async fn prepared(&self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = lock(&self.statements).get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        lock(&self.statements).insert(sql, statement.clone());
        Ok(statement)
    }

    async fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepared(sql).await?;
        self.client.query(&statement, params).await
    }

    async fn execute(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, tokio_postgres::Error> {
        let statement = self.prepared(sql).await?;
        self.client.execute(&statement, params).await
    }
}

impl PgStore {
    /// Brings the database's schema up to this build's, each step in a transaction; returns the
    /// versions applied. Safe to run from several processes at once (they take turns).
    pub fn migrate(url: &str) -> Result<Vec<i32>, StoreError> {
        let driver = Driver::new()?;
        let url = url.to_string();
        driver.run(async move {
            let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await.map_err(pg)?;
            tokio::spawn(connection);
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS fila_migrations (
                        version integer PRIMARY KEY,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )",
                )
                .await
                .map_err(pg)?;
            client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
            let mut applied = Vec::new();
            for (version, sql) in MIGRATIONS {
                let done = client
                    .query_opt("SELECT 1 FROM fila_migrations WHERE version = $1", &[version])
                    .await
                    .map_err(pg)?
                    .is_some();
                if done {
                    continue;
                }
                let transaction = client.transaction().await.map_err(pg)?;
                transaction.batch_execute(sql).await.map_err(pg)?;
                transaction
                    .execute("INSERT INTO fila_migrations (version) VALUES ($1)", &[version])
                    .await
                    .map_err(pg)?;
                transaction.commit().await.map_err(pg)?;
                applied.push(*version);
            }
            client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
            Ok(applied)
        })?
    }

    /// Connects to a database `migrate` has prepared; refuses one at another schema version.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let driver = Driver::new()?;
        let writer = driver.run(Conn::open(url.to_string()))?.map_err(pg)?;
        let check = writer.clone();
        let version: Option<i32> = driver.run(async move {
            match check.client.query_one("SELECT max(version) FROM fila_migrations", &[]).await {
                Ok(row) => row.try_get(0).map_err(pg),
                // No table of migrations at all: a database nobody has migrated.
                Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => Ok(None),
                Err(error) => Err(pg(error)),
            }
        })??;
        match version {
            Some(SCHEMA_VERSION) => {}
            Some(newer) if newer > SCHEMA_VERSION => {
                return Err(StoreError::Postgres(format!(
                    "the database's schema is at version {newer}, newer than this fila-central's \
                     {SCHEMA_VERSION}: run the newer fila-central"
                )))
            }
            _ => {
                return Err(StoreError::Postgres(format!(
                    "the database's schema is at version {}, this fila-central needs {SCHEMA_VERSION}: run \
                     `fila-central migrate` first",
                    version.unwrap_or(0)
                )))
            }
        }
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(Mutex::new(driver.run(Conn::open(url.to_string()))?.map_err(pg)?));
        }
        let replica = format!("{:016x}", rand::random::<u64>());
        let inner = Arc::new(Inner {
            url: url.to_string(),
            replica,
            driver,
            writer: Mutex::new(Writer { conn: writer, open_since: None, touched: BTreeSet::new(), failed: None }),
            readers,
            next_reader: AtomicUsize::new(0),
            watching: Mutex::new(false),
            roles: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new().name("fila-pg-commit".into()).spawn(move || commit_now_and_then(weak))?;
        Ok(PgStore { inner })
    }

    /// This process's name in notifications.
    pub fn replica(&self) -> &str {
        &self.inner.replica
    }
}

/// Commits a transaction left open (writes nobody flushed) after [`COMMIT_AFTER`].
fn commit_now_and_then(inner: Weak<Inner>) {
    loop {
        std::thread::sleep(COMMIT_AFTER / 4);
        let Some(inner) = inner.upgrade() else { return };
        let stale = lock(&inner.writer).open_since.is_some_and(|since| since.elapsed() >= COMMIT_AFTER);
        if stale {
            if let Err(error) = inner.flush() {
                tracing::error!(%error, "a background commit failed");
            }
        }
    }
}

impl Inner {
    /// The writer connection, reconnected if it was lost (and what was open with it failed).
    fn writer(&self) -> Result<MutexGuard<'_, Writer>, StoreError> {
        let mut writer = lock(&self.writer);
        if writer.conn.client.is_closed() {
            if writer.open_since.take().is_some() {
                writer.failed = Some("the database connection was lost with writes not yet committed".into());
                writer.touched.clear();
            }
            writer.conn = self.driver.run(Conn::open(self.url.clone()))?.map_err(pg)?;
        }
        Ok(writer)
    }

    /// Runs a write in the open transaction (opening one if needed). A failed write rolls the
    /// whole transaction back.
    fn write<T, F>(&self, doc: Option<&str>, op: impl FnOnce(Arc<Conn>) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let mut writer = self.writer()?;
        let conn = writer.conn.clone();
        let begin = writer.open_since.is_none();
        let future = op(conn.clone());
        let result = self.driver.run(async move {
            if begin {
                conn.client.batch_execute("BEGIN").await?;
            }
            future.await
        })?;
        match result {
            Ok(value) => {
                if begin {
                    writer.open_since = Some(Instant::now());
                }
                if let Some(doc) = doc {
                    writer.touched.insert(doc.to_string());
                }
                Ok(value)
            }
            Err(error) => {
                // Only the writes before this one, of other threads, are lost with it: a
                // transaction this write began held nothing else.
                let message = describe(&error);
                self.roll_back(&mut writer, &message);
                Err(StoreError::Postgres(message))
            }
        }
    }

    fn roll_back(&self, writer: &mut Writer, why: &str) {
        let conn = writer.conn.clone();
        let _ = self.driver.run(async move { conn.client.batch_execute("ROLLBACK").await });
        if writer.open_since.take().is_some() {
            tracing::error!(why, "a database transaction failed; its writes are rolled back");
            writer.failed = Some(format!("a transaction was rolled back: {why}"));
        }
        writer.touched.clear();
    }

    /// A read on the writer connection: it sees the open transaction's writes.
    fn read_own<T, F>(&self, op: impl FnOnce(Arc<Conn>) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let writer = self.writer()?;
        let future = op(writer.conn.clone());
        self.driver.run(future)?.map_err(pg)
    }

    /// A read of committed data, on a reader connection.
    fn read<T, F>(&self, op: impl FnOnce(Arc<Conn>) -> F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let slot = &self.readers[self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len()];
        let conn = {
            let mut conn = lock(slot);
            if conn.client.is_closed() {
                *conn = self.driver.run(Conn::open(self.url.clone()))?.map_err(pg)?;
            }
            conn.clone()
        };
        self.driver.run(op(conn))?.map_err(pg)
    }

    fn flush(&self) -> Result<(), StoreError> {
        let mut writer = self.writer()?;
        if let Some(failed) = writer.failed.take() {
            return Err(StoreError::Postgres(failed));
        }
        if writer.open_since.is_none() {
            return Ok(());
        }
        let conn = writer.conn.clone();
        let docs: Vec<String> = writer.touched.iter().cloned().collect();
        let replica = self.replica.clone();
        let committed = self.driver.run(async move {
            if !docs.is_empty() {
                // Delivered at the commit, and only if it commits.
                conn.execute(
                    "SELECT pg_notify('fila_docs', $1 || ' ' || d) FROM unnest($2::text[]) AS d",
                    &[&replica, &docs],
                )
                .await?;
            }
            conn.client.batch_execute("COMMIT").await
        })?;
        match committed {
            Ok(()) => {
                writer.open_since = None;
                writer.touched.clear();
                Ok(())
            }
            Err(error) => {
                let message = describe(&error);
                self.roll_back(&mut writer, &message);
                writer.failed = None;
                Err(StoreError::Postgres(message))
            }
        }
    }
}

/// The keys from `prefix` on, up to (not including) the first that does not start with it.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

fn seq(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store for PgStore {
    fn append_chunk(&self, doc_id: &str, bytes: &[u8]) -> Result<u64, StoreError> {
        let (doc, bytes) = (doc_id.to_string(), bytes.to_vec());
        let value: i64 = self.inner.write(Some(doc_id), move |conn| async move {
            let row = conn
                .query(
                    "WITH next AS (
                        INSERT INTO fila_docs (doc_id, next_seq) VALUES ($1, 1)
                        ON CONFLICT (doc_id) DO UPDATE SET next_seq = fila_docs.next_seq + 1
                        RETURNING next_seq
                    )
                    INSERT INTO fila_chunks (doc_id, seq, bytes) SELECT $1, next_seq, $2 FROM next RETURNING seq",
                    &[&doc, &bytes],
                )
                .await?;
            Ok(row.first().map_or(0, |row| row.get(0)))
        })?;
        Ok(seq(value))
    }

    fn replace_chunks(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        let doc = doc_id.to_string();
        let last: Option<i64> = self.inner.write(Some(doc_id), move |conn| async move {
            let rows = conn.query("SELECT next_seq FROM fila_docs WHERE doc_id = $1 FOR UPDATE", &[&doc]).await?;
            Ok(rows.first().map(|row| row.get(0)))
        })?;
        match last {
            Some(last) => self.replace_chunks_through(doc_id, snapshot, seq(last)),
            None => self.append_chunk(doc_id, snapshot).map(|_| ()),
        }
    }

    fn replace_chunks_through(&self, doc_id: &str, snapshot: &[u8], through: u64) -> Result<(), StoreError> {
        let (doc, bytes) = (doc_id.to_string(), snapshot.to_vec());
        let through = i64::try_from(through).map_err(|_| StoreError::Postgres("sequence out of range".into()))?;
        self.inner.write(Some(doc_id), move |conn| async move {
            conn.execute("DELETE FROM fila_chunks WHERE doc_id = $1 AND seq < $2", &[&doc, &through]).await?;
            conn.execute(
                "INSERT INTO fila_chunks (doc_id, seq, bytes) VALUES ($1, $2, $3)
                 ON CONFLICT (doc_id, seq) DO UPDATE SET bytes = excluded.bytes",
                &[&doc, &through, &bytes],
            )
            .await?;
            Ok(())
        })
    }

    fn chunks_after(&self, doc_id: &str, after: Option<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let doc = doc_id.to_string();
        let after = after.map_or(-1, |after| i64::try_from(after).unwrap_or(i64::MAX));
        self.inner.read(move |conn| async move {
            let rows = conn
                .query(
                    "SELECT seq, bytes FROM fila_chunks WHERE doc_id = $1 AND seq > $2 ORDER BY seq",
                    &[&doc, &after],
                )
                .await?;
            Ok(rows.iter().map(|row| (seq(row.get(0)), row.get(1))).collect())
        })
    }

    fn last_seqs(&self, doc_ids: &[String]) -> Result<Vec<Option<u64>>, StoreError> {
        let docs = doc_ids.to_vec();
        // On the writer's connection: a sequence this replica's open transaction took counts,
        // as the copy in memory already holds its chunk; what is kept with it commits with it.
        let found: HashMap<String, i64> = self.inner.read_own(move |conn| async move {
            let rows = conn.query("SELECT doc_id, next_seq FROM fila_docs WHERE doc_id = ANY($1)", &[&docs]).await?;
            Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
        })?;
        Ok(doc_ids.iter().map(|doc| found.get(doc).map(|last| seq(*last))).collect())
    }

    fn chunk_count(&self, doc_id: &str) -> Result<usize, StoreError> {
        let doc = doc_id.to_string();
        let count: i64 = self.inner.read(move |conn| async move {
            let rows = conn.query("SELECT count(*) FROM fila_chunks WHERE doc_id = $1", &[&doc]).await?;
            Ok(rows.first().map_or(0, |row| row.get(0)))
        })?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_string();
        self.inner.read_own(move |conn| async move {
            let rows = conn.query("SELECT value FROM fila_meta WHERE key = $1", &[&key]).await?;
            Ok(rows.first().map(|row| row.get(0)))
        })
    }

    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.inner.write(None, move |conn| async move {
            conn.execute(
                "INSERT INTO fila_meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )
            .await
            .map(|_| ())
        })
    }

    fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_string();
        self.inner.write(None, move |conn| async move {
            conn.execute("DELETE FROM fila_meta WHERE key = $1", &[&key]).await.map(|_| ())
        })
    }

    fn scan_meta(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let (from, to) = (prefix.to_string(), prefix_end(prefix));
        self.inner.read_own(move |conn| async move {
            let rows = conn
                .query("SELECT key, value FROM fila_meta WHERE key >= $1 AND key < $2 ORDER BY key", &[&from, &to])
                .await?;
            Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
        })
    }

    fn shared(&self) -> bool {
        true
    }

    /// A session lock on the writer connection: it outlives the commits of other threads.
    /// Waiting for it holds up this process's writes; it is only ever held for one edit.
    fn lock_doc(&self, doc_id: &str) -> Result<(), StoreError> {
        let doc = doc_id.to_string();
        // In the open transaction, so that a wait PostgreSQL ends as a deadlock rolls it back
        // like any failed write.
        self.inner.write(None, move |conn| async move {
            conn.execute("SELECT pg_advisory_lock(hashtextextended($1, $2))", &[&doc, &DOC_LOCK_SEED]).await.map(|_| ())
        })
    }

    fn unlock_doc(&self, doc_id: &str) -> Result<(), StoreError> {
        let doc = doc_id.to_string();
        self.inner.write(None, move |conn| async move {
            conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, $2))", &[&doc, &DOC_LOCK_SEED])
                .await
                .map(|_| ())
        })
    }

    /// A session lock on a connection of the role's own: it is let go when the process ends or
    /// the connection drops, and then another process takes the role.
    fn try_lead(&self, role: &str) -> Result<bool, StoreError> {
        let mut roles = lock(&self.inner.roles);
        if let Some((conn, held)) = roles.get(role) {
            if *held && !conn.client.is_closed() {
                return Ok(true);
            }
        }
        let conn = match roles.get(role) {
            Some((conn, _)) if !conn.client.is_closed() => conn.clone(),
            _ => self.inner.driver.run(Conn::open(self.inner.url.clone()))?.map_err(pg)?,
        };
        let (asking, name) = (conn.clone(), role.to_string());
        let held: bool = self
            .inner
            .driver
            .run(async move {
                let rows = asking
                    .query("SELECT pg_try_advisory_lock(hashtextextended($1, $2))", &[&name, &DOC_LOCK_SEED])
                    .await?;
                Ok::<_, tokio_postgres::Error>(rows.first().is_some_and(|row| row.get(0)))
            })?
            .map_err(pg)?;
        if held {
            tracing::info!(role, replica = %self.inner.replica, "this replica now leads");
        }
        roles.insert(role.to_string(), (conn, held));
        Ok(held)
    }

    /// In parts, in a transaction of a connection of its own (a file is written rarely, and a
    /// long transaction must not hold up the others' statements).
    fn put_blob(&self, name: &str, from: &std::path::Path) -> Result<bool, StoreError> {
        use std::io::Read;
        let mut file = std::fs::File::open(from)?;
        let conn = self.inner.driver.run(Conn::open(self.inner.url.clone()))?.map_err(pg)?;
        let (begin, name_owned) = (conn.clone(), name.to_string());
        let present = self.inner.driver.run(async move {
            begin.client.batch_execute("BEGIN").await?;
            let rows = begin.query("SELECT 1 FROM fila_blobs WHERE name = $1 LIMIT 1", &[&name_owned]).await?;
            Ok::<_, tokio_postgres::Error>(!rows.is_empty())
        })?;
        if present.map_err(pg)? {
            return Ok(true);
        }
        let mut part = 0i32;
        loop {
            let mut bytes = Vec::with_capacity(BLOB_PART_BYTES);
            (&mut file).take(BLOB_PART_BYTES as u64).read_to_end(&mut bytes)?;
            if bytes.is_empty() && part > 0 {
                break;
            }
            let (conn, name) = (conn.clone(), name.to_string());
            self.inner
                .driver
                .run(async move {
                    conn.execute(
                        "INSERT INTO fila_blobs (name, part, bytes) VALUES ($1, $2, $3)",
                        &[&name, &part, &bytes],
                    )
                    .await
                })?
                .map_err(pg)?;
            part += 1;
        }
        self.inner.driver.run(async move { conn.client.batch_execute("COMMIT").await })?.map_err(pg)?;
        Ok(true)
    }

    fn get_blob(&self, name: &str, to: &std::path::Path) -> Result<bool, StoreError> {
        use std::io::Write;
        let conn = self.inner.driver.run(Conn::open(self.inner.url.clone()))?.map_err(pg)?;
        let mut file = None;
        let mut part = 0i32;
        loop {
            let (asking, name) = (conn.clone(), name.to_string());
            let rows = self
                .inner
                .driver
                .run(async move {
                    asking.query("SELECT bytes FROM fila_blobs WHERE name = $1 AND part = $2", &[&name, &part]).await
                })?
                .map_err(pg)?;
            let Some(row) = rows.first() else { break };
            let bytes: Vec<u8> = row.get(0);
            let file = match &mut file {
                Some(file) => file,
                None => file.insert(std::fs::File::create(to)?),
            };
            file.write_all(&bytes)?;
            part += 1;
        }
        match file {
            Some(file) => {
                file.sync_all()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn watch(&self) -> Option<mpsc::Receiver<StoredElsewhere>> {
        let mut watching = lock(&self.inner.watching);
        if *watching {
            return None;
        }
        *watching = true;
        let (tell, changes) = mpsc::channel();
        self.inner.driver.spawn(listen(self.inner.url.clone(), self.inner.replica.clone(), tell));
        Some(changes)
    }
}

/// Listens for the documents other processes commit, for as long as someone receives them;
/// after a lost connection it listens again and says that anything may have changed meanwhile.
async fn listen(url: String, replica: String, tell: mpsc::Sender<StoredElsewhere>) {
    loop {
        match tokio_postgres::connect(&url, NoTls).await {
            Ok((client, mut connection)) => {
                let (tell_driver, own) = (tell.clone(), replica.clone());
                let driver = tokio::spawn(async move {
                    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(note)) => {
                                let Some((from, doc)) = note.payload().split_once(' ') else { continue };
                                if from != own && tell_driver.send(StoredElsewhere::Doc(doc.to_string())).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                            Err(error) => {
                                tracing::warn!(error = %describe(&error), "the database's notifications stopped");
                                return;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        if tell.send(StoredElsewhere::Anything).is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(error = %describe(&error), "cannot listen for other replicas' changes")
                    }
                }
                let _ = driver.await;
            }
            Err(error) => {
                tracing::warn!(error = %describe(&error), "cannot connect to listen for other replicas' changes")
            }
        }
        // Nobody left to tell: the store was dropped.
        if tell.send(StoredElsewhere::Anything).is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_scan_ends_before_the_first_key_outside_it() {
        let end = prefix_end("doc/");
        assert!(*"doc/branch/a" < *end);
        assert!(*"doc0" > *end);
    }
}
