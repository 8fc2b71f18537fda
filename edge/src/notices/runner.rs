//! The task that turns the office's state into notices.
//!
//! After every office event (and at start, which is what makes a restart after a crash derive
//! what was missed) it asks the office which notices its state calls for, enqueues the new ones
//! and stores them; `fila_notify::dispatch` sends them, as it does central's.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use fila_notify::kind::NoticeKind;
use fila_notify::outbox::{Draft, NoticeKey};
use fila_notify::template::{OptOut, Templates};
use fila_protocol::office::Event;
use tokio::sync::broadcast;

use super::derive::{self, Wanted};
use super::{lock, ticket_cause, to_jiff, Notices};
use crate::office_loop::{Clock, OfficeHandle};

/// How often contacts and notices past their retention period are looked for.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

pub async fn run(notices: Arc<Notices>, office: OfficeHandle, clock: Clock) {
    let mut events = office.subscribe();
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
        // Each derive is after an event; a survey invitation's delay is the outbox's to keep.
        let wait = last_purge.map_or(Duration::ZERO, |at| PURGE_EVERY.saturating_sub(at.elapsed()));
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
            if notices.dispatch.outbox().get(&key).is_some() {
                continue;
            }
            let Some(stored) = notices.book().get(&cause)? else { continue };
            let draft = draft(&notices, &templates, key, day, wanted, &stored);
            let span = tracing::info_span!("notice", ticket = %draft.key.cause, kind = %draft.key.kind);
            let _entered = span.enter();
            if notices.dispatch.outbox().enqueue(draft, to_jiff(now)) {
                tracing::info!("notice queued");
            }
        }
        // Stored, then sent: the dispatch loop looks at the outbox once woken.
        notices.dispatch.persist()?;
        notices.dispatch.wake();
        Ok(())
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
    let reads_replies = notices.dispatch.channels().for_medium(medium).is_some_and(|c| c.reads_replies());
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
    Draft { key, medium, contact: notices.book().fingerprint(&stored.contact), message, not_before, office: None }
}

/// Deletes contacts and finished notices older than the retention period.
async fn purge(notices: &Arc<Notices>, clock: &Clock) {
    let cutoff = to_jiff(clock.as_ref()()) - notices.rules.retention;
    let notices = notices.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<(usize, usize), fila_store::StoreError> {
        let contacts = notices.book().purge(cutoff)?;
        notices.comments.purge(fila_protocol::Timestamp::from_ms(cutoff.as_millisecond()))?;
        let forgotten = notices.dispatch.forget_before(cutoff)?;
        let prefix = format!("ticket/{}/", notices.office_id);
        let left: BTreeSet<_> = notices
            .book()
            .causes(&prefix)?
            .iter()
            .filter_map(|cause| super::parse_cause(&cause[prefix.len()..]))
            .collect();
        *lock(&notices.contacts) = left;
        Ok((contacts, forgotten))
    })
    .await;
    match result {
        Ok(Ok((0, 0))) => {}
        Ok(Ok((contacts, forgotten))) => tracing::info!(contacts, notices = forgotten, "retention period: deleted"),
        _ => tracing::error!("contacts past their retention period could not be deleted"),
    }
}
