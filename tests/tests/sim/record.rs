//! What a run did (its statistics) and what it promised citizens (the tickets acknowledged).

use std::collections::BTreeMap;

use fila_protocol::{Day, TicketNumber};

use super::attack::Hostile;

/// What happened in a run; summed over the seeds, it says what the simulation exercised.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub commands: u64,
    pub batches: u64,
    pub acknowledged: u64,
    pub timeouts: u64,
    pub alarms: u64,
    pub midnights: u64,
    pub edge_crashes: u64,
    pub writes_lost: u64,
    pub central_crashes: u64,
    pub partitions: u64,
    pub connections: u64,
    pub frames_lost: u64,
    pub replaced_boxes: u64,
    /// Messages from central naming heads only the old box held (answered with a reset).
    pub resets: u64,
    pub recoveries: u64,
    pub refused_while_recovering: u64,
    pub tickets_lost_with_a_box: u64,
    pub flips: u64,
    pub flips_refused_by_central: u64,
    pub flips_refused_by_edge: u64,
    /// Flipped frames the receiver took without harm (a hash or a bloom filter bit changed).
    pub flips_taken: u64,
    pub injected_towards_central: BTreeMap<Hostile, u64>,
    pub injected_towards_edge: BTreeMap<Hostile, u64>,
    /// Changes refused because they break a day's rules, by the rule they break.
    pub refused_by_central: BTreeMap<&'static str, u64>,
    pub refused_by_edge: BTreeMap<&'static str, u64>,
    pub hostile_changes_hidden_at_central: u64,
}

/// Which rule a refusal names (the breach's words, `fila_protocol::Breach`).
pub fn breach_class(reason: &str) -> &'static str {
    const CLASSES: [(&str, &str); 4] = [
        ("issued twice", "duplicate number"),
        ("over the limit", "sequence over its limit"),
        ("closed tickets are history", "closed ticket rewritten"),
        ("calls are history", "call deleted"),
    ];
    CLASSES.iter().find(|(words, _)| reason.contains(words)).map_or("other", |(_, class)| class)
}

impl Stats {
    pub fn add(&mut self, other: &Stats) {
        let Stats {
            commands,
            batches,
            acknowledged,
            timeouts,
            alarms,
            midnights,
            edge_crashes,
            writes_lost,
            central_crashes,
            partitions,
            connections,
            frames_lost,
            replaced_boxes,
            resets,
            recoveries,
            refused_while_recovering,
            tickets_lost_with_a_box,
            flips,
            flips_refused_by_central,
            flips_refused_by_edge,
            flips_taken,
            injected_towards_central,
            injected_towards_edge,
            refused_by_central,
            refused_by_edge,
            hostile_changes_hidden_at_central,
        } = other;
        self.commands += commands;
        self.batches += batches;
        self.acknowledged += acknowledged;
        self.timeouts += timeouts;
        self.alarms += alarms;
        self.midnights += midnights;
        self.edge_crashes += edge_crashes;
        self.writes_lost += writes_lost;
        self.central_crashes += central_crashes;
        self.partitions += partitions;
        self.connections += connections;
        self.frames_lost += frames_lost;
        self.replaced_boxes += replaced_boxes;
        self.resets += resets;
        self.recoveries += recoveries;
        self.refused_while_recovering += refused_while_recovering;
        self.tickets_lost_with_a_box += tickets_lost_with_a_box;
        self.flips += flips;
        self.flips_refused_by_central += flips_refused_by_central;
        self.flips_refused_by_edge += flips_refused_by_edge;
        self.flips_taken += flips_taken;
        for (kind, n) in injected_towards_central {
            *self.injected_towards_central.entry(*kind).or_default() += n;
        }
        for (kind, n) in injected_towards_edge {
            *self.injected_towards_edge.entry(*kind).or_default() += n;
        }
        for (class, n) in refused_by_central {
            *self.refused_by_central.entry(class).or_default() += n;
        }
        for (class, n) in refused_by_edge {
            *self.refused_by_edge.entry(class).or_default() += n;
        }
        self.hostile_changes_hidden_at_central += hostile_changes_hidden_at_central;
    }
}

/// Every ticket a box acknowledged, per office and day: number → (token, disk). A number may be
/// given to a second citizen only if the first ticket was lost with a replaced box's disk
/// before central held it.
#[derive(Default)]
pub struct History {
    days: BTreeMap<(usize, String), BTreeMap<TicketNumber, (String, u64)>>,
}

impl History {
    pub fn acknowledge(&mut self, office: usize, doc: &str, number: TicketNumber, token: &str, disk: u64) {
        let day = self.days.entry((office, doc.to_string())).or_default();
        if let Some((earlier, _)) = day.insert(number, (token.to_string(), disk)) {
            assert_eq!(earlier, token, "office {office} gave {number} of {doc} to two citizens");
        }
    }

    /// A box lost its disk: what central did not hold is gone with it. Returns how many.
    pub fn box_replaced(&mut self, office: usize, central: impl Fn(&str) -> Option<Day>) -> u64 {
        let mut lost = 0;
        for ((_, doc), tickets) in self.days.iter_mut().filter(|((o, _), _)| *o == office) {
            let held = central(doc);
            let before = tickets.len();
            tickets.retain(|number, (token, _)| {
                held.as_ref().is_some_and(|day| day.tickets.values().any(|t| t.number == *number && t.token == *token))
            });
            lost += (before - tickets.len()) as u64;
        }
        lost
    }

    pub fn office(&self, office: usize) -> impl Iterator<Item = (&String, &BTreeMap<TicketNumber, (String, u64)>)> {
        self.days.iter().filter(move |((o, _), _)| *o == office).map(|((_, doc), tickets)| (doc, tickets))
    }
}
