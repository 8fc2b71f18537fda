//! The requests document, `branch/<office>/requests/<yyyy-mm-dd>`:
//!
//! ```text
//! { schema: 1, office: "centro", day: "2026-12-07",
//!   requests: { "<id>": { service, at, travel_minutes } } }
//! ```
//! Central creates it and is its only writer; the edge syncs it and answers each request in its
//! day document. A request is written once and never changed or deleted. It names no one.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ROOT};

use super::keys::{self, request as rk};
use super::scalar::{self, i, s, t, Record};
use super::DocError;
use crate::ids::{BusinessDay, ServiceId};
use crate::remote::{Request, Requests};

/// The skeleton of an office's date, the same first change wherever it is made (as for
/// appointments), so a central that makes it again after losing its disk shares it.
pub fn create(office: &str, day: BusinessDay, actor: &[u8]) -> Result<AutoCommit, DocError> {
    let skeleton_actor = format!("fila-requests-skeleton/{office}/{day}");
    let mut doc = AutoCommit::new().with_actor(ActorId::from(skeleton_actor.as_bytes()));
    doc.put(ROOT, keys::SCHEMA, keys::SCHEMA_VERSION)?;
    doc.put(ROOT, keys::OFFICE, office)?;
    doc.put(ROOT, keys::DAY, day.to_string())?;
    doc.put_object(ROOT, keys::REQUESTS, ObjType::Map)?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
    doc.set_actor(ActorId::from(actor));
    Ok(doc)
}

/// Adds a request. One already there is refused: a request is never rewritten.
pub fn put_request(doc: &mut AutoCommit, request: &Request) -> Result<(), DocError> {
    let requests = match doc.get(ROOT, keys::REQUESTS)? {
        Some((_, id)) => id,
        None => return Err(DocError::Field(keys::REQUESTS.into())),
    };
    if !request.is_well_formed() {
        return Err(DocError::Field(format!("request {} is not well formed", request.id)));
    }
    if doc.get(&requests, request.id.as_str())?.is_some() {
        return Err(DocError::Field(format!("request {} is already written", request.id)));
    }
    let fields = vec![
        (rk::SERVICE, s(request.service.as_str())),
        (rk::AT, t(request.at)),
        (rk::TRAVEL_MINUTES, i(request.travel_minutes)),
    ];
    scalar::create(doc, &requests, &request.id, &fields, None)?;
    doc.commit();
    Ok(())
}

/// The requests a document holds. One that does not read as central writes them is left out
/// and named in the second list: the edge never acts on it.
pub fn read(doc: &AutoCommit) -> Result<(Requests, Vec<String>), DocError> {
    let root = Record::read(doc, &ROOT);
    let schema = root.int(keys::SCHEMA)?;
    if schema != keys::SCHEMA_VERSION {
        return Err(DocError::Schema { expected: keys::SCHEMA_VERSION, found: schema });
    }
    let office = root.str(keys::OFFICE)?;
    let day = BusinessDay::parse(&root.str(keys::DAY)?).ok_or_else(|| DocError::Field(keys::DAY.into()))?;
    let map = Record::read(doc, &root.object(keys::REQUESTS)?);
    let mut requests = Requests::new(&office, day);
    let mut refused: Vec<String> = map.scalars().map(|(id, _)| id.clone()).collect();
    for (id, obj) in map.objects() {
        match read_request(id, &Record::read(doc, obj)) {
            Ok(request) if request.is_well_formed() => {
                requests.requests.insert(id.clone(), request);
            }
            _ => refused.push(id.clone()),
        }
    }
    Ok((requests, refused))
}

fn read_request(id: &str, record: &Record) -> Result<Request, DocError> {
    let travel = record.int(rk::TRAVEL_MINUTES)?;
    Ok(Request {
        id: id.to_string(),
        service: ServiceId(record.str(rk::SERVICE)?),
        at: record.time(rk::AT)?,
        travel_minutes: u32::try_from(travel).map_err(|_| DocError::Field(format!("{id}.{}", rk::TRAVEL_MINUTES)))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Timestamp;

    fn day() -> BusinessDay {
        BusinessDay::parse("2026-12-07").expect("day")
    }

    fn request(id: &str) -> Request {
        Request { id: id.into(), service: ServiceId("general".into()), at: Timestamp(5_000), travel_minutes: 25 }
    }

    #[test]
    fn requests_read_back_as_written_and_are_never_rewritten() {
        let mut doc = create("centro", day(), b"central").expect("create");
        put_request(&mut doc, &request("r1")).expect("r1");
        put_request(&mut doc, &request("r2")).expect("r2");
        assert!(put_request(&mut doc, &Request { travel_minutes: 5, ..request("r1") }).is_err(), "rewritten");
        let (read_back, refused) = read(&doc).expect("read");
        assert!(refused.is_empty());
        assert_eq!(read_back.requests.values().cloned().collect::<Vec<_>>(), vec![request("r1"), request("r2")]);
        assert_eq!((read_back.office.as_str(), read_back.day), ("centro", day()));
    }

    #[test]
    fn a_request_that_does_not_read_is_left_out_and_named() {
        let mut doc = create("centro", day(), b"central").expect("create");
        put_request(&mut doc, &request("r1")).expect("r1");
        let Ok(Some((_, map))) = doc.get(ROOT, keys::REQUESTS) else { panic!("requests map") };
        doc.put(&map, "garbage", "x").expect("put");
        let bad = doc.put_object(&map, "bad", ObjType::Map).expect("object");
        doc.put(&bad, rk::SERVICE, "general").expect("put");
        doc.put(&bad, rk::TRAVEL_MINUTES, 100_000).expect("put");
        doc.commit();
        let (read_back, mut refused) = read(&doc).expect("read");
        refused.sort();
        assert_eq!(read_back.requests.keys().collect::<Vec<_>>(), vec!["r1"]);
        assert_eq!(refused, vec!["bad".to_string(), "garbage".to_string()]);
    }
}
