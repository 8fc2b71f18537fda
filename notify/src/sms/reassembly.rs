//! Parts of concatenated messages put back together, in whatever order they come.

use std::collections::BTreeMap;

use super::pdu::Concat;

/// Messages waiting for parts; past this, the one waiting longest is dropped.
pub const INCOMPLETE_MAX: usize = 64;

/// Parts of one message: same sender, reference and total.
type MessageKey = (String, u16, u8);

/// Collects the parts of messages from several senders.
#[derive(Debug, Default)]
pub struct Reassembler {
    incomplete: BTreeMap<MessageKey, Incomplete>,
    arrivals: u64,
}

#[derive(Debug)]
struct Incomplete {
    /// When its first part came, to drop the oldest.
    arrival: u64,
    parts: Vec<Option<String>>,
}

impl Reassembler {
    pub fn new() -> Self {
        Reassembler::default()
    }

    /// Takes one part; answers the whole text once every part of its message is in. A part
    /// without concatenation is a whole message. A repeated part replaces the earlier copy.
    pub fn push(&mut self, sender: &str, text: String, concat: Option<Concat>) -> Option<String> {
        let Some(concat) = concat.filter(|c| c.total > 1) else {
            return Some(text);
        };
        let key = (sender.to_owned(), concat.reference, concat.total);
        self.arrivals += 1;
        let arrival = self.arrivals;
        let message = self
            .incomplete
            .entry(key.clone())
            .or_insert_with(|| Incomplete { arrival, parts: vec![None; usize::from(concat.total)] });
        let slot = message.parts.get_mut(usize::from(concat.sequence).checked_sub(1)?)?;
        *slot = Some(text);
        if message.parts.iter().all(Option::is_some) {
            let message = self.incomplete.remove(&key)?;
            return Some(message.parts.into_iter().flatten().collect());
        }
        self.drop_oldest_beyond_limit();
        None
    }

    /// Messages still missing a part.
    pub fn incomplete(&self) -> usize {
        self.incomplete.len()
    }

    fn drop_oldest_beyond_limit(&mut self) {
        while self.incomplete.len() > INCOMPLETE_MAX {
            let oldest = self.incomplete.iter().min_by_key(|(_, message)| message.arrival).map(|(key, _)| key.clone());
            match oldest {
                Some(key) => {
                    self.incomplete.remove(&key);
                    tracing::warn!("dropped an incomplete concatenated SMS: its other parts never came");
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(reference: u16, total: u8, sequence: u8) -> Option<Concat> {
        Some(Concat { reference, total, sequence })
    }

    #[test]
    fn parts_in_any_order_make_the_message_once_all_are_in() {
        let mut reassembler = Reassembler::new();
        assert_eq!(reassembler.push("+34600111222", "c".into(), part(9, 3, 3)), None);
        assert_eq!(reassembler.push("+34600111222", "a".into(), part(9, 3, 1)), None);
        assert_eq!(reassembler.push("+34600111222", "b".into(), part(9, 3, 2)), Some("abc".into()));
        assert_eq!(reassembler.incomplete(), 0);
    }

    #[test]
    fn the_same_reference_from_two_senders_are_two_messages() {
        let mut reassembler = Reassembler::new();
        assert_eq!(reassembler.push("+34600111222", "a".into(), part(1, 2, 1)), None);
        assert_eq!(reassembler.push("+34600333444", "x".into(), part(1, 2, 2)), None);
        assert_eq!(reassembler.incomplete(), 2);
    }

    #[test]
    fn a_single_part_is_a_message_at_once() {
        assert_eq!(Reassembler::new().push("+1", "STOP".into(), None), Some("STOP".into()));
    }

    #[test]
    fn the_oldest_incomplete_message_gives_way() {
        let mut reassembler = Reassembler::new();
        for reference in 0..=u16::try_from(INCOMPLETE_MAX).expect("small") {
            reassembler.push("+1", "a".into(), part(reference, 2, 1));
        }
        assert_eq!(reassembler.incomplete(), INCOMPLETE_MAX);
        // The first message lost its first part, so its second alone completes nothing.
        assert_eq!(reassembler.push("+1", "b".into(), part(0, 2, 2)), None);
    }
}
