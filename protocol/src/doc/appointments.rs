//! The appointments document, `branch/<office>/appointments/<yyyy-mm-dd>`:
//!
//! ```text
//! { schema: 1, office: "centro", day: "2026-12-07",
//!   bookings: { "<id>": { service, start: "09:30", minutes, state, code_hash, booked_at, updated_at } } }
//! ```
//! Central creates it and is its only writer; the edge syncs it and reads it. Bookings live in
//! a map keyed by id and are never deleted: a cancellation is a state. No name, identity number
//! or contact is ever written here: a document's history cannot be erased.

use automerge::transaction::Transactable;
use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ROOT};

use super::keys::{self, booking as bk};
use super::scalar::{self, i, s, t, Fields, Record};
use super::DocError;
use crate::booking::appointments::{Appointments, Booking, BookingState};
use crate::calendar::LocalTime;
use crate::ids::{BusinessDay, ServiceId};

/// The skeleton of an office's date, with the same first change wherever it is made (a fixed
/// actor and time), so a central that makes it again after losing its disk shares it.
pub fn create(office: &str, day: BusinessDay, actor: &[u8]) -> Result<AutoCommit, DocError> {
    let skeleton_actor = format!("fila-appointments-skeleton/{office}/{day}");
    let mut doc = AutoCommit::new().with_actor(ActorId::from(skeleton_actor.as_bytes()));
    doc.put(ROOT, keys::SCHEMA, keys::SCHEMA_VERSION)?;
    doc.put(ROOT, keys::OFFICE, office)?;
    doc.put(ROOT, keys::DAY, day.to_string())?;
    doc.put_object(ROOT, keys::BOOKINGS, ObjType::Map)?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    doc.set_actor(ActorId::from(actor));
    Ok(doc)
}

fn fields(booking: &Booking) -> Fields {
    vec![
        (bk::SERVICE, s(booking.service.as_str())),
        (bk::START, s(&booking.start.to_string())),
        (bk::MINUTES, i(booking.minutes)),
        (bk::STATE, s(booking.state.name())),
        (bk::CODE_HASH, s(&booking.code_hash)),
        (bk::BOOKED_AT, t(booking.booked_at)),
        (bk::UPDATED_AT, t(booking.updated_at)),
    ]
}

/// Writes a booking: a new one whole, a known one field by field where it changed. A change
/// of state the rules forbid (a cancelled booking booked again) is refused and writes nothing.
pub fn put_booking(doc: &mut AutoCommit, booking: &Booking) -> Result<(), DocError> {
    let bookings = match doc.get(ROOT, keys::BOOKINGS)? {
        Some((_, id)) => id,
        None => return Err(DocError::Field(keys::BOOKINGS.into())),
    };
    match doc.get(&bookings, booking.id.as_str())? {
        Some((_, obj)) => {
            let old = read_booking(&booking.id, &Record::read(doc, &obj))?;
            if !old.state.may_become(booking.state) {
                return Err(DocError::Field(format!(
                    "{}: {} cannot become {}",
                    booking.id,
                    old.state.name(),
                    booking.state.name()
                )));
            }
            scalar::write(doc, &obj, Some(&fields(&old)), &fields(booking))?;
        }
        None => {
            scalar::create(doc, &bookings, &booking.id, &fields(booking), None)?;
        }
    }
    doc.commit();
    Ok(())
}

/// The bookings a document holds. A booking that does not read, or not as central writes
/// them, is left out and named in the second list: a reader never acts on it.
pub fn read(doc: &AutoCommit) -> Result<(Appointments, Vec<String>), DocError> {
    let (office, day, bookings) = header(doc)?;
    let mut appointments = Appointments::new(&office, day);
    let mut refused = Vec::new();
    for (id, obj) in bookings.objects() {
        match read_booking(id, &Record::read(doc, obj)) {
            Ok(booking) if booking.is_well_formed() => {
                appointments.bookings.insert(id.clone(), booking);
            }
            _ => refused.push(id.clone()),
        }
    }
    refused.extend(bookings.scalars().map(|(id, _)| id.clone()));
    Ok((appointments, refused))
}

/// The date's office and day, and its map of bookings (not read yet).
fn header(doc: &AutoCommit) -> Result<(String, BusinessDay, Record), DocError> {
    let root = Record::read(doc, &ROOT);
    let schema = root.int(keys::SCHEMA)?;
    if schema != keys::SCHEMA_VERSION {
        return Err(DocError::Schema { expected: keys::SCHEMA_VERSION, found: schema });
    }
    let office = root.str(keys::OFFICE)?;
    let day = BusinessDay::parse(&root.str(keys::DAY)?).ok_or_else(|| DocError::Field(keys::DAY.into()))?;
    let bookings = Record::read(doc, &root.object(keys::BOOKINGS)?);
    Ok((office, day, bookings))
}

/// Central writing one date: the bookings it puts are remembered, so that what the write made can
/// be read back and checked without reading every booking of the day again.
pub struct Writer<'a> {
    doc: &'a mut AutoCommit,
    written: Vec<String>,
}

impl<'a> Writer<'a> {
    pub fn new(doc: &'a mut AutoCommit) -> Writer<'a> {
        Writer { doc, written: Vec::new() }
    }

    /// Every key the bookings map holds now, readable or not: what a write may not add to
    /// unless it writes it.
    pub fn keys(&self) -> Result<std::collections::BTreeSet<String>, DocError> {
        let (_, _, bookings) = header(self.doc)?;
        Ok(bookings.objects().map(|(id, _)| id.clone()).chain(bookings.scalars().map(|(id, _)| id.clone())).collect())
    }

    pub fn put(&mut self, booking: &Booking) -> Result<(), DocError> {
        put_booking(self.doc, booking)?;
        self.written.push(booking.id.clone());
        Ok(())
    }

    pub fn written(self) -> Vec<String> {
        self.written
    }
}

/// The date as a write left it: `previous` with the bookings in `written` read back from `doc`.
/// `before` is every key the bookings map held before the write ([`Writer::keys`]): entries that
/// never read (left out of `previous`) stay left out, but the write may not add any. Refused if
/// the document now names another office or day, lost a booking, or holds a key that was
/// neither there before nor written; a written booking that does not read is refused too.
pub fn read_written(
    doc: &AutoCommit,
    previous: &Appointments,
    before: &std::collections::BTreeSet<String>,
    written: &[String],
) -> Result<Appointments, DocError> {
    let (office, day, bookings) = header(doc)?;
    if office != previous.office || day != previous.day {
        return Err(DocError::Field("the document now names another office or date".into()));
    }
    let held: BTreeMap<&String, &ObjId> = bookings.objects().collect();
    if let Some(gone) = previous.bookings.keys().find(|id| !held.contains_key(id)) {
        return Err(DocError::Field(format!("booking {gone} disappeared")));
    }
    let now: Vec<&String> = held.keys().copied().chain(bookings.scalars().map(|(id, _)| id)).collect();
    if let Some(stray) = now.into_iter().find(|id| !before.contains(*id) && !written.contains(id)) {
        return Err(DocError::Field(format!("{stray} appeared in the bookings without being written")));
    }
    let mut next = previous.clone();
    for id in written {
        let obj = held.get(id).ok_or_else(|| DocError::Field(format!("booking {id} was not written")))?;
        let booking = read_booking(id, &Record::read(doc, obj))?;
        if !booking.is_well_formed() {
            return Err(DocError::Field(format!("booking {id} is not well formed")));
        }
        next.bookings.insert(id.clone(), booking);
    }
    Ok(next)
}

fn read_booking(id: &str, record: &Record) -> Result<Booking, DocError> {
    let field = |name: &str| DocError::Field(format!("{id}.{name}"));
    let minutes = record.int(bk::MINUTES)?;
    Ok(Booking {
        id: id.to_string(),
        service: ServiceId(record.str(bk::SERVICE)?),
        start: LocalTime::parse(&record.str(bk::START)?).ok_or_else(|| field(bk::START))?,
        minutes: u32::try_from(minutes).map_err(|_| field(bk::MINUTES))?,
        state: BookingState::from_name(&record.str(bk::STATE)?).ok_or_else(|| field(bk::STATE))?,
        code_hash: record.str(bk::CODE_HASH)?,
        booked_at: record.time(bk::BOOKED_AT)?,
        updated_at: record.time(bk::UPDATED_AT)?,
    })
}

/// Whether `next` may follow `previous` as central's writing of the same date: the same
/// office and day, no booking gone, and every booking's state moved only as the rules allow.
/// Central checks its own writes with it, and an edge checks what it receives.
pub fn may_follow(previous: &Appointments, next: &Appointments) -> Result<(), String> {
    if previous.office != next.office || previous.day != next.day {
        return Err("the document now names another office or date".into());
    }
    for (id, before) in &previous.bookings {
        let Some(after) = next.bookings.get(id) else {
            return Err(format!("booking {id} disappeared"));
        };
        if !before.state.may_become(after.state) {
            return Err(format!("booking {id} went from {} back to {}", before.state.name(), after.state.name()));
        }
        if (&before.service, before.start, &before.code_hash) != (&after.service, after.start, &after.code_hash) {
            return Err(format!("booking {id} was rewritten"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Timestamp;

    /// A scalar placed where a booking belongs, as a hostile peer could.
    fn put_garbage(doc: &mut AutoCommit, key: &str) {
        if let Ok(Some((_, bookings))) = doc.get(ROOT, keys::BOOKINGS) {
            doc.put(&bookings, key, automerge::ScalarValue::Str("garbage".into())).expect("put");
            doc.commit();
        }
    }

    fn day() -> BusinessDay {
        BusinessDay::parse("2026-12-07").expect("a date")
    }

    fn booking(id: &str, start: &str, state: BookingState) -> Booking {
        Booking {
            id: id.into(),
            service: ServiceId("cedulas".into()),
            start: LocalTime::parse(start).expect("a time"),
            minutes: 30,
            state,
            code_hash: "ab".repeat(32),
            booked_at: Timestamp(1_000),
            updated_at: Timestamp(1_000),
        }
    }

    #[test]
    fn bookings_survive_the_document_and_a_slot_counts_what_holds_a_place() {
        let mut doc = create("centro", day(), b"central").expect("create");
        put_booking(&mut doc, &booking("b1", "09:30", BookingState::Booked)).expect("b1");
        put_booking(&mut doc, &booking("b2", "09:30", BookingState::Booked)).expect("b2");
        put_booking(&mut doc, &booking("b2", "09:30", BookingState::Cancelled)).expect("b2 cancelled");
        put_booking(&mut doc, &booking("b3", "10:00", BookingState::Booked)).expect("b3");
        let loaded = AutoCommit::load(&doc.save()).expect("load");
        let (appointments, refused) = read(&loaded).expect("read");
        assert!(refused.is_empty());
        assert_eq!(appointments.bookings.len(), 3);
        let cedulas = ServiceId("cedulas".into());
        assert_eq!(appointments.booked_in(&cedulas, LocalTime::parse("09:30").expect("time")), 1);
        assert_eq!(appointments.by_code_hash(&"ab".repeat(32)).map(|b| b.id.as_str()), Some("b1"));
    }

    #[test]
    fn a_write_read_back_by_what_it_wrote_is_the_whole_read_and_strays_are_refused() {
        let mut doc = create("centro", day(), b"central").expect("create");
        put_booking(&mut doc, &booking("b1", "09:30", BookingState::Booked)).expect("b1");
        let (previous, _) = read(&doc).expect("read");
        // Garbage a peer once put where bookings live is left out, and blocks nothing.
        put_garbage(&mut doc, "b0");
        let mut writer = Writer::new(&mut doc);
        let before = writer.keys().expect("keys");
        writer.put(&booking("b1", "09:30", BookingState::Cancelled)).expect("b1 cancelled");
        writer.put(&booking("b2", "10:00", BookingState::Booked)).expect("b2");
        let written = writer.written();
        let next = read_written(&doc, &previous, &before, &written).expect("read back");
        assert_eq!(next, read(&doc).expect("read").0, "the same as reading every booking");

        // A booking put beside the writer, or new garbage where bookings live, is not what was
        // written.
        let before: std::collections::BTreeSet<String> = ["b0", "b1", "b2"].map(String::from).into();
        put_booking(&mut doc, &booking("b3", "10:30", BookingState::Booked)).expect("b3");
        assert!(read_written(&doc, &next, &before, &[]).is_err(), "b3 appeared unwritten");
        let (now, _) = read(&doc).expect("read");
        let before: std::collections::BTreeSet<String> = ["b0", "b1", "b2", "b3"].map(String::from).into();
        put_garbage(&mut doc, "b4");
        assert!(read_written(&doc, &now, &before, &[]).is_err(), "b4 is no booking");
    }

    #[test]
    fn a_cancelled_booking_is_never_booked_again() {
        let mut doc = create("centro", day(), b"central").expect("create");
        put_booking(&mut doc, &booking("b1", "09:30", BookingState::Cancelled)).expect("b1");
        let again = put_booking(&mut doc, &booking("b1", "09:30", BookingState::Booked));
        assert!(again.is_err());
        let (appointments, _) = read(&doc).expect("read");
        assert_eq!(appointments.bookings["b1"].state, BookingState::Cancelled);
    }

    #[test]
    fn two_centrals_making_the_same_date_share_its_skeleton() {
        let mut one = create("centro", day(), b"central-1").expect("one");
        let mut two = create("centro", day(), b"central-2").expect("two");
        put_booking(&mut one, &booking("b1", "09:30", BookingState::Booked)).expect("b1");
        put_booking(&mut two, &booking("b2", "10:00", BookingState::Booked)).expect("b2");
        one.merge(&mut two).expect("merge");
        let (appointments, _) = read(&one).expect("read");
        assert_eq!(appointments.bookings.len(), 2, "neither map hides the other");
    }

    #[test]
    fn a_malformed_booking_is_left_out_and_named() {
        let mut doc = create("centro", day(), b"central").expect("create");
        put_booking(&mut doc, &booking("b1", "09:30", BookingState::Booked)).expect("b1");
        let mut bad = booking("b2", "23:50", BookingState::Booked);
        bad.code_hash = "not a hash".into();
        put_booking(&mut doc, &bad).expect("written, as a hostile peer could");
        put_garbage(&mut doc, "b3");
        let (appointments, refused) = read(&doc).expect("read");
        assert_eq!(appointments.bookings.keys().collect::<Vec<_>>(), ["b1"]);
        assert_eq!(refused, ["b2", "b3"]);
    }

    #[test]
    fn history_that_the_rules_fix_cannot_be_rewritten() {
        let before = Appointments {
            bookings: [("b1".to_string(), booking("b1", "09:30", BookingState::CheckedIn))].into(),
            ..Appointments::new("centro", day())
        };
        let mut after = before.clone();
        after.bookings.insert("b2".into(), booking("b2", "10:00", BookingState::Booked));
        assert_eq!(may_follow(&before, &after), Ok(()), "a new booking");
        let mut undone = before.clone();
        undone.bookings.get_mut("b1").expect("b1").state = BookingState::Booked;
        assert!(may_follow(&before, &undone).is_err(), "a check-in undone");
        let mut moved = before.clone();
        moved.bookings.get_mut("b1").expect("b1").start = LocalTime::parse("08:00").expect("time");
        assert!(may_follow(&before, &moved).is_err(), "a slot rewritten");
        assert!(may_follow(&before, &Appointments::new("centro", day())).is_err(), "a booking deleted");
    }
}
