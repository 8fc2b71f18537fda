//! The task that turns the office's state into notices and sends them.
//!
//! After every office event (and at start, which is what makes a restart after a crash derive
//! what was missed) it asks the office which notices its state calls for, enqueues the new ones,
//! stores them, and hands the due ones to their channels, each send in a task of its own so a
//! slow modem never holds back an e-mail. Results come back here; the outbox alone decides what
//! happens next.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use fila_notify::channel::SendError;
use fila_notify::kind::NoticeKind;
use fila_notify::outbox::{Draft, NoticeKey};
use fila_notify::outbox_store;
use fila_notify::template::{OptOut, Templates};
use fila_protocol::office::Event;
use tokio::sync::{broadcast, mpsc};
use tracing::Instrument;

use super::derive::{self, Wanted};
use super::{lock, ticket_cause, to_jiff, Notices};
use crate::office_loop::{Clock, OfficeHandle};

/// Sends in flight at once: a modem sends one SMS at a time anyway; SMTP takes a few.
const IN_FLIGHT_MAX: usize = 8;
/// A channel that takes longer than this has failed, transiently.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// How often contacts and notices past their retention period are looked for.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

type Finished = (NoticeKey, Result<(), SendError>);

pub async fn run(notices: Arc<Notices>, office: OfficeHandle, clock: Clock) {
    let mut events = office.subscribe();
    let (done_tx, mut done_rx) = mpsc::channel::<Finished>(IN_FLIGHT_MAX);
    let mut in_flight = 0usize;
    let mut derive_now = true;
    let mut last_purge: Option<tokio::time::Instant> = None;
    loop {
        if derive_now {
            derive_now = false;
            if let Err(error) = derive_and_enqueue(&notices, &office, &clock).await {
                tracing::error!(%error, "notices could not be derived");
            }
        }
        if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
            last_purge = Some(tokio::time::Instant::now());
            purge(&notices, &clock).await;
        }
        in_flight += start_due(&notices, &clock, &done_tx, IN_FLIGHT_MAX - in_flight).await;

        let now = to_jiff(clock.as_ref()());
        let wait = lock(&notices.outbox)
            .next_wake()
            .map(|at| Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
            .unwrap_or(PURGE_EVERY)
            .min(PURGE_EVERY);
        tokio::select! {
            event = events.recv() => match event {
                Ok(Event::Issued(_) | Event::Called { .. } | Event::TicketChanged(_) | Event::DayStarted(_)) => {
                    derive_now = true;
                    // Everything that happened meanwhile is in the next look.
                    while events.try_recv().is_ok() {}
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => derive_now = true,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            Some((key, result)) = done_rx.recv() => {
                in_flight = in_flight.saturating_sub(1);
                finish(&notices, &clock, key, result).await;
            }
            () = notices.wake.notified() => derive_now = true,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Asks the office what its state calls for and enqueues what is new, stored before return.
async fn derive_and_enqueue(notices: &Arc<Notices>, office: &OfficeHandle, clock: &Clock) -> anyhow::Result<()> {
    let contacts: BTreeSet<_> = lock(&notices.contacts).clone();
    if contacts.is_empty() {
        return Ok(());
    }
    let thresholds = notices.rules.thresholds;
    let (day, wanted) = office.query(move |office, now| derive::wanted(office, now, &contacts, thresholds)).await?;
    // Headquarters' texts as the office has them now, over the built-in ones.
    let templates = Templates::configured(&office.config().notices);
    let notices = notices.clone();
    let now = clock.as_ref()();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for wanted in wanted {
            let cause = ticket_cause(&notices.office_id, day, wanted.ticket);
            let key = NoticeKey { cause: cause.clone(), kind: wanted.kind };
            if lock(&notices.outbox).get(&key).is_some() {
                continue;
            }
            let Some(stored) = notices.book.get(&cause)? else { continue };
            let draft = draft(&notices, &templates, key, day, wanted, &stored);
            let span = tracing::info_span!("notice", ticket = %draft.key.cause, kind = %draft.key.kind);
            let _entered = span.enter();
            if lock(&notices.outbox).enqueue(draft, to_jiff(now)) {
                tracing::info!("notice queued");
            }
        }
        Ok(notices.persist()?)
    })
    .await?
}

fn draft(
    notices: &Notices,
    templates: &Templates,
    key: NoticeKey,
    day: fila_protocol::BusinessDay,
    mut wanted: Wanted,
    stored: &fila_notify::contact_book::StoredContact,
) -> Draft {
    let medium = stored.contact.medium();
    let reads_replies = notices.channels.for_medium(medium).is_some_and(|c| c.reads_replies());
    let opt_out = OptOut { reply_stop: reads_replies, link: Some(notices.opt_out_link(day, wanted.ticket)) };
    let link = match (&notices.rules.central_surveys, key.kind) {
        (Some(central), NoticeKind::SurveyInvite) => {
            central.key.link(&central.base_url, &notices.office_id, &day.to_string(), &wanted.ticket.key())
        }
        _ => format!("{}/t/{}", notices.base_url, wanted.token),
    };
    wanted.values.insert("link", link);
    let message = templates.render(key.kind, &stored.lang, medium, &wanted.values, &opt_out).unwrap_or_else(|| {
        fila_notify::template::Rendered { subject: String::new(), text: String::new(), opt_out_link: None }
    });
    let not_before = wanted.not_before.map(super::to_jiff);
    Draft { key, medium, contact: notices.book.fingerprint(&stored.contact), message, not_before }
}

/// Hands due notices to their channels; returns how many went.
async fn start_due(notices: &Arc<Notices>, clock: &Clock, done: &mpsc::Sender<Finished>, room: usize) -> usize {
    if room == 0 {
        return 0;
    }
    let now = to_jiff(clock.as_ref()());
    let due = lock(&notices.outbox).start_due(now, room);
    if due.is_empty() {
        return 0;
    }
    // `Sending` is on disk before any message leaves: a crash now never sends one twice.
    let stored = {
        let notices = notices.clone();
        tokio::task::spawn_blocking(move || notices.persist()).await
    };
    if !matches!(stored, Ok(Ok(()))) {
        tracing::error!("the outbox could not be stored; nothing is sent until it can be");
        for notice in &due {
            lock(&notices.outbox).finish(&notice.key, Err(SendError::Transient("the box's store failed".into())), now);
        }
        return 0;
    }
    let count = due.len();
    for notice in due {
        let (notices, done) = (notices.clone(), done.clone());
        let span = tracing::info_span!("notice", ticket = %notice.key.cause, kind = %notice.key.kind);
        tokio::spawn(
            async move {
                let result = send(&notices, &notice).await;
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

async fn send(notices: &Notices, notice: &fila_notify::outbox::Notice) -> Result<(), SendError> {
    let Some(channel) = notices.channels.for_medium(notice.medium).cloned() else {
        return Err(SendError::Permanent(format!("this office sends no {} messages", notice.medium.as_str())));
    };
    let book = notices.book.clone();
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

async fn finish(notices: &Arc<Notices>, clock: &Clock, key: NoticeKey, result: Result<(), SendError>) {
    lock(&notices.outbox).finish(&key, result, to_jiff(clock.as_ref()()));
    let notices = notices.clone();
    if !matches!(tokio::task::spawn_blocking(move || notices.persist()).await, Ok(Ok(()))) {
        tracing::error!("the outbox could not be stored");
    }
}

/// Deletes contacts and finished notices older than the retention period.
async fn purge(notices: &Arc<Notices>, clock: &Clock) {
    let cutoff = to_jiff(clock.as_ref()()) - notices.rules.retention;
    let notices = notices.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<(usize, usize), fila_store::StoreError> {
        let contacts = notices.book.purge(cutoff)?;
        notices.comments.purge(fila_protocol::Timestamp::from_ms(cutoff.as_millisecond()))?;
        let forgotten = lock(&notices.outbox).forget_before(cutoff);
        outbox_store::delete(notices.store.as_ref(), &forgotten)?;
        notices.store.flush()?;
        let prefix = format!("ticket/{}/", notices.office_id);
        let left: BTreeSet<_> = notices
            .book
            .causes(&prefix)?
            .iter()
            .filter_map(|cause| super::parse_cause(&cause[prefix.len()..]))
            .collect();
        *lock(&notices.contacts) = left;
        Ok((contacts, forgotten.len()))
    })
    .await;
    match result {
        Ok(Ok((0, 0))) => {}
        Ok(Ok((contacts, forgotten))) => tracing::info!(contacts, notices = forgotten, "retention period: deleted"),
        _ => tracing::error!("contacts past their retention period could not be deleted"),
    }
}
