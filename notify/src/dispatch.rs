//! The sending side both daemons run over their outbox: hands due notices to their channels and
//! stores what came of them.
//!
//! The rule that makes a notice at most once: a notice is `Sending` on disk before its message
//! leaves, and a `Sending` found at start is closed as failed ("interrupted"), never resent
//! (`outbox`). Each send runs in a task of its own, so a slow modem never holds back an e-mail,
//! and a channel that does not answer within [`SEND_TIMEOUT`] has failed, transiently.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fila_store::{Store, StoreError};
use jiff::Timestamp;
use tokio::sync::{mpsc, Notify};
use tracing::Instrument;

use crate::channel::{Channel, SendError};
use crate::contact::{Contact, Medium};
use crate::contact_book::ContactBook;
use crate::outbox::{Counts, Draft, Notice, NoticeKey, Outbox, Policy};
use crate::outbox_store;

/// A channel that takes longer than this has failed, transiently.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// When nothing is due, how long the loop sleeps before looking again anyway.
const IDLE: Duration = Duration::from_secs(3600);

/// The daemon's clock, as the outbox reads it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The channels a daemon has, by medium.
#[derive(Clone, Default)]
pub struct Channels {
    pub sms: Option<Arc<dyn Channel>>,
    pub email: Option<Arc<dyn Channel>>,
}

impl Channels {
    pub fn for_medium(&self, medium: Medium) -> Option<&Arc<dyn Channel>> {
        match medium {
            Medium::Sms => self.sms.as_ref(),
            Medium::Email => self.email.as_ref(),
        }
    }
}

/// An outbox with its store, its contacts and its channels.
pub struct Dispatch {
    outbox: Mutex<Outbox>,
    store: Arc<dyn Store>,
    book: ContactBook,
    channels: Channels,
    /// Sends in flight at once.
    in_flight_max: usize,
    wake: Notify,
    /// Where processes share the store, whether this one sends (see [`Dispatch::run`]).
    sending: AtomicBool,
}

/// The role, in the store, of the one process that sends where several share it.
const SENDER: &str = "outbox";
/// Where several share the store, how often the one sending takes up what the others queued.
const ADOPT_EVERY: Duration = Duration::from_secs(1);

type Finished = (NoticeKey, Result<(), SendError>);

impl Dispatch {
    /// The outbox as the store holds it; a notice the last run left mid-send is closed as
    /// interrupted, on disk too, before anything else happens. Blocking.
    pub fn open(
        store: Arc<dyn Store>,
        book: ContactBook,
        channels: Channels,
        policy: Policy,
        in_flight_max: usize,
        now: Timestamp,
    ) -> Result<Arc<Dispatch>, StoreError> {
        let outbox = Outbox::restore(policy, outbox_store::load(store.as_ref())?, now);
        let dispatch = Dispatch {
            outbox: Mutex::new(outbox),
            store,
            book,
            channels,
            in_flight_max: in_flight_max.max(1),
            wake: Notify::new(),
            sending: AtomicBool::new(false),
        };
        dispatch.persist()?;
        Ok(Arc::new(dispatch))
    }

    pub fn book(&self) -> &ContactBook {
        &self.book
    }

    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// The outbox, for reading and for what only its owner decides (cancelling, forgetting).
    /// Call [`Dispatch::persist`] after changing it.
    pub fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.outbox.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a notice unless its key was queued before, stored before return; `true` if new.
    /// Blocking.
    pub fn enqueue(&self, draft: Draft, now: Timestamp) -> Result<bool, StoreError> {
        let new = self.outbox().enqueue(draft, now);
        if new {
            self.persist()?;
            self.wake.notify_one();
        }
        Ok(new)
    }

    pub fn counts(&self) -> Counts {
        self.outbox().counts()
    }

    /// Stores what changed in the outbox, durably. Blocking.
    pub fn persist(&self) -> Result<(), StoreError> {
        let changed = self.outbox().take_changed();
        if changed.is_empty() {
            return Ok(());
        }
        outbox_store::save(self.store.as_ref(), &changed)?;
        if self.store.shared() && !self.sending.load(Ordering::SeqCst) {
            outbox_store::mark_for_sender(self.store.as_ref(), &changed)?;
        }
        self.store.flush()
    }

    /// Where processes share the store (only then is it called), whether this one sends now; when it has just become
    /// the one, it takes up every stored notice (the one before may have stopped mid-send), and
    /// then, each time, what the others marked for it. Blocking.
    fn take_up(&self, now: Timestamp) -> Result<bool, StoreError> {
        if !self.store.try_lead(SENDER)? {
            self.sending.store(false, Ordering::SeqCst);
            return Ok(false);
        }
        let stored = match self.sending.swap(true, Ordering::SeqCst) {
            false => outbox_store::load(self.store.as_ref())?,
            true => outbox_store::take_marked(self.store.as_ref())?,
        };
        self.outbox().adopt(stored, now);
        self.persist()?;
        Ok(true)
    }

    /// The citizen asked for no more messages: `contact` is stopped for good, and for every
    /// cause under `prefix` that has it, what is queued ends and the contact is deleted. Returns
    /// how many causes stopped. Durable on return. Blocking.
    pub fn opt_out(&self, contact: &Contact, prefix: &str, now: Timestamp) -> Result<usize, StoreError> {
        self.book.opt_out(contact, None, now)?;
        let causes = self.book.causes_of(contact, prefix)?;
        {
            let mut outbox = self.outbox();
            for cause in &causes {
                outbox.cancel_cause(cause, "the citizen opted out", now);
            }
        }
        for cause in &causes {
            self.book.remove(cause)?;
        }
        self.persist()?;
        self.store.flush()?;
        Ok(causes.len())
    }

    /// Forgets finished notices older than `cutoff`, on disk too; returns how many. Blocking.
    pub fn forget_before(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        let forgotten = self.outbox().forget_before(cutoff);
        if forgotten.is_empty() {
            return Ok(0);
        }
        outbox_store::delete(self.store.as_ref(), &forgotten)?;
        self.store.flush()?;
        Ok(forgotten.len())
    }

    /// Look at the outbox now (something was queued outside [`Dispatch::enqueue`]).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends until the task is aborted.
    pub async fn run(self: Arc<Self>, clock: Clock) {
        let (done_tx, mut done_rx) = mpsc::channel::<Finished>(self.in_flight_max);
        let mut in_flight = 0usize;
        // Where several processes share the store, one sends, and looks for what the others
        // queued every second.
        let shared = self.store.shared();
        loop {
            // A store nobody shares (every box) has nothing to take up: no thread hop per pass.
            let sends = !shared || {
                let (this, now) = (self.clone(), clock());
                match tokio::task::spawn_blocking(move || this.take_up(now)).await {
                    Ok(Ok(sends)) => sends,
                    _ => {
                        tracing::error!("cannot tell whether this process sends the outbox");
                        false
                    }
                }
            };
            if sends {
                in_flight += self.start_due(&clock, &done_tx, self.in_flight_max - in_flight).await;
            }
            let now = clock();
            let wait = match sends {
                false => ADOPT_EVERY,
                true => self
                    .outbox()
                    .next_wake()
                    .map(|at| Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
                    .unwrap_or(IDLE)
                    .min(if shared { ADOPT_EVERY } else { IDLE }),
            };
            tokio::select! {
                Some((key, result)) = done_rx.recv() => {
                    in_flight = in_flight.saturating_sub(1);
                    self.finish(&clock, key, result).await;
                }
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Hands due notices to their channels; returns how many went.
    async fn start_due(self: &Arc<Self>, clock: &Clock, done: &mpsc::Sender<Finished>, room: usize) -> usize {
        if room == 0 {
            return 0;
        }
        let now = clock();
        let due = self.outbox().start_due(now, room);
        if due.is_empty() {
            return 0;
        }
        // `Sending` is on disk before any message leaves: a crash now never sends one twice.
        let stored = {
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.persist()).await
        };
        if !matches!(stored, Ok(Ok(()))) {
            tracing::error!("the outbox could not be stored; nothing is sent until it can be");
            let mut outbox = self.outbox();
            for notice in &due {
                outbox.finish(&notice.key, Err(SendError::Transient("the store failed".into())), now);
            }
            return 0;
        }
        let count = due.len();
        for notice in due {
            let (this, done) = (self.clone(), done.clone());
            let span = tracing::info_span!("notice", cause = %notice.key.cause, kind = %notice.key.kind);
            tokio::spawn(
                async move {
                    let result = this.send(&notice).await;
                    match &result {
                        Ok(()) => tracing::info!(medium = notice.medium.as_str(), "notice sent"),
                        Err(error) => tracing::warn!(medium = notice.medium.as_str(), %error, "notice not sent"),
                    }
                    let _ = done.send((notice.key, result)).await;
                }
                .instrument(span),
            );
        }
        count
    }

    async fn send(&self, notice: &Notice) -> Result<(), SendError> {
        let Some(channel) = self.channels.for_medium(notice.medium).cloned() else {
            return Err(SendError::Permanent(format!("no {} channel is configured", notice.medium.as_str())));
        };
        let book = self.book.clone();
        let cause = notice.key.cause.clone();
        let stored = tokio::task::spawn_blocking(move || book.get(&cause)).await;
        let Ok(Ok(Some(stored))) = stored else {
            return Err(SendError::Permanent("the contact was withdrawn".into()));
        };
        match tokio::time::timeout(SEND_TIMEOUT, channel.send(&stored.contact, &notice.message)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Transient("the channel did not answer in time".into())),
        }
    }

    async fn finish(self: &Arc<Self>, clock: &Clock, key: NoticeKey, result: Result<(), SendError>) {
        self.outbox().finish(&key, result, clock());
        let this = self.clone();
        if !matches!(tokio::task::spawn_blocking(move || this.persist()).await, Ok(Ok(()))) {
            tracing::error!("the outbox could not be stored");
        }
    }
}
