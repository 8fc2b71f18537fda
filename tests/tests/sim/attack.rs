//! What an attacker holding the office's branch token sends: bytes flipped in flight, and
//! well-formed automerge changes that break a day's rules, carried in a sync message built by
//! hand (automerge applies any change whose dependencies it holds; only the receiver's checks
//! of the day stand between it and the history).

use automerge::sync::{Message, MessageVersion};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use fila_protocol::doc::day::read_day;
use fila_protocol::doc::keys;
use fila_protocol::doc::load_chunks;
use fila_protocol::wire::Frame;
use fila_protocol::TicketId;

/// The rule-breaking edits the attacker tries, as the issue names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hostile {
    /// A call deleted from the day's record (hiding an out-of-order call).
    DeleteCall,
    /// A service's sequence pushed to 65535 (no more tickets for the day).
    Sequence,
    /// A closed ticket's outcome rewritten.
    RewriteClosed,
    /// A second ticket with a number already issued, as the day's next ticket (racing the
    /// office's own next one) or further on.
    DuplicateNumber,
}

impl Hostile {
    pub const ALL: [Hostile; 4] =
        [Hostile::DeleteCall, Hostile::Sequence, Hostile::RewriteClosed, Hostile::DuplicateNumber];
}

/// A sync message carrying one change that applies `wanted` to the day stored as `chunks`,
/// made as `actor` at `now` (s) so that runs replay. A day without what that edit needs (no
/// call yet, no closed ticket) gets the next edit it allows; the sequence edit any day allows.
/// `gap`: how far after the day's last ticket a duplicate goes (1: the office's next id).
/// `None` for a document that holds nothing yet.
pub fn hostile_message(
    chunks: &[Vec<u8>],
    wanted: Hostile,
    gap: u32,
    actor: &str,
    now: i64,
) -> Option<(Hostile, Vec<u8>)> {
    let mut doc = load_chunks("attacked day", chunks).with_actor(ActorId::from(actor.as_bytes()));
    let day = read_day(&doc).ok()?;
    let before = doc.get_heads();
    let start = Hostile::ALL.iter().position(|h| *h == wanted).unwrap_or(0);
    let order = Hostile::ALL.iter().cycle().skip(start).take(Hostile::ALL.len());
    let hostile = *order.into_iter().find(|hostile| edit(&mut doc, &day, **hostile, gap))?;
    doc.commit_with(CommitOptions::default().with_time(now));
    let change = doc.save_after(&before);
    let message = Message {
        heads: doc.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![change].into(),
        flags: None,
        version: MessageVersion::V1,
    };
    Some((hostile, message.encode()))
}

/// Make the edit in `doc` (holding `day`), if the day has what it needs.
fn edit(doc: &mut AutoCommit, day: &fila_protocol::Day, hostile: Hostile, gap: u32) -> bool {
    match hostile {
        Hostile::DeleteCall => delete_call(doc),
        Hostile::Sequence => push_sequence(doc),
        Hostile::RewriteClosed => {
            let closed = day.tickets.values().find(|t| t.status.is_closed()).map(|t| t.id);
            closed.is_some_and(|id| rewrite_outcome(doc, id))
        }
        Hostile::DuplicateNumber => {
            let next = day.tickets.keys().next_back().map(|id| TicketId(id.0 + gap));
            let copied = day.tickets.keys().next().copied();
            matches!((copied, next), (Some(from), Some(to)) if duplicate(doc, from, to))
        }
    }
}

/// Flip `count` bytes of a frame at random places (never into the same value).
pub fn flip(bytes: &mut [u8], mut pick: impl FnMut(u64) -> u64, count: usize) {
    if bytes.is_empty() {
        return;
    }
    for _ in 0..count {
        let at = pick(bytes.len() as u64) as usize;
        bytes[at] ^= 1 + pick(255) as u8;
    }
}

/// Whether `frame` is a sync message that decodes but carries a change that does not: automerge
/// drops such a change without a word (see `FLIPS_INTO_CHANGES`).
pub fn damages_a_change(frame: &[u8], office: &str) -> bool {
    let Ok(Frame::Sync { message, .. }) = Frame::decode(frame, office) else { return false };
    let Ok(message) = Message::decode(&message) else { return false };
    let damaged = message.changes.iter().any(|change| Change::from_bytes(change.to_vec()).is_err());
    damaged
}

fn map(doc: &AutoCommit, parent: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(parent, key) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
        _ => None,
    }
}

fn delete_call(doc: &mut AutoCommit) -> bool {
    let Some(calls) = map(doc, &ROOT, keys::CALLS) else { return false };
    let Some(first) = doc.keys(&calls).next() else { return false };
    doc.delete(&calls, first.as_str()).is_ok()
}

fn push_sequence(doc: &mut AutoCommit) -> bool {
    let Some(sequences) = map(doc, &ROOT, keys::SEQUENCES) else { return false };
    doc.put(&sequences, "A", 65_535_i64).is_ok()
}

fn rewrite_outcome(doc: &mut AutoCommit, id: TicketId) -> bool {
    let ticket = map(doc, &ROOT, keys::TICKETS).and_then(|tickets| map(doc, &tickets, &id.key()));
    ticket.is_some_and(|ticket| doc.put(&ticket, keys::ticket::OUTCOME, "rewritten by an attacker").is_ok())
}

/// A new ticket `to` that copies every field of ticket `from`, its number included.
fn duplicate(doc: &mut AutoCommit, from: TicketId, to: TicketId) -> bool {
    let Some(tickets) = map(doc, &ROOT, keys::TICKETS) else { return false };
    let Some(source) = map(doc, &tickets, &from.key()) else { return false };
    let fields: Vec<(String, ScalarValue)> = doc
        .keys(&source)
        .filter_map(|key| match doc.get(&source, key.as_str()) {
            Ok(Some((Value::Scalar(value), _))) => Some((key, value.into_owned())),
            _ => None,
        })
        .collect();
    let Ok(copy) = doc.put_object(&tickets, to.key(), ObjType::Map) else { return false };
    fields.into_iter().all(|(key, value)| doc.put(&copy, key, value).is_ok())
}
