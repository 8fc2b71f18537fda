//! An edge that keeps every document it writes (its days and its configuration) and syncs them
//! all with central: the real office core, with the times a test gives it.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use fila_protocol::doc::keys::config_doc_id;
use fila_protocol::office::Priority;
use fila_protocol::sync::PeerSync;
use fila_protocol::wire::Frame;
use fila_protocol::{Command, Office, OfficeConfig, ServiceId, TicketNumber, Timestamp};

use super::Ws;

/// An edge that keeps every document it writes (its days, and its configuration once added),
/// as its store would, and syncs them all with central when it is online.
pub struct Edge {
    pub office: Office,
    config: OfficeConfig,
    docs: BTreeMap<String, (AutoCommit, PeerSync)>,
    tokens: u32,
}

impl Edge {
    pub fn new(config: OfficeConfig, now: Timestamp) -> Self {
        let office = Office::restore(config.clone(), b"kpi-edge".to_vec(), now, &[]).expect("office");
        let mut edge = Edge { office, config, docs: BTreeMap::new(), tokens: 0 };
        edge.persist();
        edge
    }

    /// What the office loop would store, into the document each chunk belongs to.
    fn persist(&mut self) {
        while let Some(persist) = self.office.poll_persist() {
            let (doc, _) = self.docs.entry(persist.doc_id).or_insert_with(|| (AutoCommit::new(), PeerSync::new()));
            doc.load_incremental(&persist.bytes).expect("the edge's own bytes load");
        }
    }

    pub fn run(&mut self, now: Timestamp, command: Command) {
        self.office.handle_command(now, command).expect("command accepted");
        self.persist();
    }

    pub fn issue(&mut self, now: Timestamp, priority: Priority) -> TicketNumber {
        self.tokens += 1;
        let command = Command::Issue {
            service: ServiceId::new("general"),
            priority,
            issuer: fila_protocol::Who::Kiosk("entrada".into()),
            token: format!("k{}", self.tokens),
        };
        match self.office.handle_command(now, command).expect("ticket issued") {
            fila_protocol::Reply::Ticket(ticket) => {
                self.persist();
                ticket.number
            }
            other => panic!("issue replied {other:?}"),
        }
    }

    /// The office's configuration document, as the edge would hold it.
    pub fn add_config(&mut self) {
        let doc = fila_protocol::doc::config::create(&self.config.to_raw(), b"kpi-config").expect("config doc");
        self.docs.insert(config_doc_id(&self.config.id), (doc, PeerSync::new()));
    }

    /// An edit of the configuration made at the box (the office's own administrator), field by
    /// field into the document as the edge's admin API writes it.
    pub fn edit_config(&mut self, edit: impl FnOnce(&mut fila_protocol::RawOfficeConfig)) {
        let (doc, _) = self.docs.get_mut(&config_doc_id(&self.config.id)).expect("the configuration was added");
        let mut raw = fila_protocol::doc::config::read(doc).expect("the configuration reads");
        edit(&mut raw);
        fila_protocol::doc::config::update(doc, &raw).expect("the edit applies");
    }

    /// Name every document, then exchange sync messages until central has all of them.
    pub async fn sync(&mut self, ws: &mut Ws) {
        for (_, peer) in self.docs.values_mut() {
            peer.restart();
        }
        ws.send(&Frame::Docs { docs: self.docs.keys().cloned().collect() }).await;
        loop {
            for (id, (doc, peer)) in self.docs.iter_mut() {
                while let Some(message) = peer.generate(doc) {
                    ws.send(&Frame::Sync { doc: id.clone(), message }).await;
                }
            }
            if self.docs.values_mut().all(|(doc, peer)| peer.their_heads() == Some(doc.get_heads().as_slice())) {
                return;
            }
            match ws.frame().await {
                Frame::Sync { doc, message } => {
                    let (doc, peer) = self.docs.get_mut(&doc).expect("central answers about documents named");
                    peer.receive(doc, &message).expect("central's messages apply");
                }
                other => panic!("central sent {other:?}"),
            }
        }
    }
}
