//! The lines a GSM modem answers (3GPP TS 27.007 and TS 27.005), read strictly: a line we do not
//! know the shape of is an error, never a guess. Lines that carry a PDU (after `+CMGL:`) are not
//! read here: only the driver knows that one is coming.

use thiserror::Error;

/// One line from the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The end of an answer.
    Final(Final),
    /// Our own command coming back while echo is on.
    Echo,
    /// `+CPIN: READY`
    Pin(SimState),
    /// `+CSQ: <rssi>,<ber>`; `None` is 99, not known or not detectable.
    SignalQuality { rssi: Option<u8>, ber: Option<u8> },
    /// `+CREG: <n>,<stat>` (or the unsolicited `+CREG: <stat>`).
    Registration(Registration),
    /// `+CMGS: <mr>`: the network took a part, under this message reference.
    Sent { reference: u8 },
    /// `+CMGL: <index>,<stat>,[<alpha>],<length>`; the PDU follows on the next line.
    Listed { index: u16, status: u8, length: usize },
    /// `+CMTI: <mem>,<index>`: a message arrived and is stored.
    NewMessage { index: u16 },
    /// `+CMGF: <mode>`
    MessageFormat { pdu: bool },
    /// A well-formed unsolicited line we have no use for (`RING`, `+CUSD: ...`, `^RSSI:25`).
    Unsolicited,
}

/// How an answer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Final {
    Ok,
    /// A bare `ERROR`: the command was refused, with no reason given.
    Error,
    /// `+CMS ERROR: <n>`: an SMS error, from the modem or the network (TS 27.005 §3.2.5).
    Cms(u16),
    /// `+CME ERROR: <n>`: an equipment error (TS 27.007 §9.2).
    Cme(u16),
}

/// What `AT+CPIN?` says of the SIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimState {
    Ready,
    /// Waiting for its PIN.
    Pin,
    /// Blocked after wrong PINs: waiting for its PUK.
    Puk,
    /// Waiting for another code (`PH-SIM PIN`, `SIM PIN2`, ...), named as the modem says it.
    Locked(String),
    /// No SIM, or one the modem cannot read (`+CME ERROR: 10`, `13`).
    Absent,
}

/// `<stat>` of `+CREG` (TS 27.007 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    NotRegistered,
    Home,
    Searching,
    Denied,
    Unknown,
    Roaming,
}

impl Registration {
    pub fn is_registered(self) -> bool {
        matches!(self, Registration::Home | Registration::Roaming)
    }

    pub fn code(self) -> u8 {
        match self {
            Registration::NotRegistered => 0,
            Registration::Home => 1,
            Registration::Searching => 2,
            Registration::Denied => 3,
            Registration::Unknown => 4,
            Registration::Roaming => 5,
        }
    }

    fn from_code(code: u8) -> Option<Registration> {
        Some(match code {
            0 => Registration::NotRegistered,
            1 => Registration::Home,
            2 => Registration::Searching,
            3 => Registration::Denied,
            4 => Registration::Unknown,
            5 => Registration::Roaming,
            _ => return None,
        })
    }
}

/// A line that is not what a modem says. It names the kind of line, never its content: a
/// garbled line may hold part of a PDU, and so a number or a text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AtError {
    #[error("an unrecognised line of {0} characters")]
    Unrecognised(usize),
    #[error("a malformed {0} line")]
    Malformed(&'static str),
}

/// `+CMS ERROR` codes and the words modems print for them with `AT+CMEE=2` (TS 24.011 §8.2.5.4
/// for the network's, TS 27.005 §3.2.5 for the modem's).
const CMS_TEXTS: [(u16, &str); 52] = [
    (1, "Unassigned (unallocated) number"),
    (8, "Operator determined barring"),
    (10, "Call barred"),
    (21, "Short message transfer rejected"),
    (27, "Destination out of service"),
    (28, "Unidentified subscriber"),
    (29, "Facility rejected"),
    (30, "Unknown subscriber"),
    (38, "Network out of order"),
    (41, "Temporary failure"),
    (42, "Congestion"),
    (47, "Resources unavailable, unspecified"),
    (50, "Requested facility not subscribed"),
    (69, "Requested facility not implemented"),
    (81, "Invalid short message transfer reference value"),
    (95, "Invalid message, unspecified"),
    (96, "Invalid mandatory information"),
    (97, "Message type non-existent or not implemented"),
    (98, "Message not compatible with short message protocol state"),
    (99, "Information element non-existent or not implemented"),
    (111, "Protocol error, unspecified"),
    (127, "Interworking, unspecified"),
    (128, "Telematic interworking not supported"),
    (129, "Short message Type 0 not supported"),
    (130, "Cannot replace short message"),
    (143, "Unspecified TP-PID error"),
    (144, "Data coding scheme (alphabet) not supported"),
    (145, "Message class not supported"),
    (159, "Unspecified TP-DCS error"),
    (175, "Unspecified TP-Command error"),
    (176, "TPDU not supported"),
    (192, "SC busy"),
    (193, "No SC subscription"),
    (194, "SC system failure"),
    (195, "Invalid SME address"),
    (196, "Destination SME barred"),
    (300, "ME failure"),
    (301, "SMS service of ME reserved"),
    (302, "Operation not allowed"),
    (303, "Operation not supported"),
    (304, "Invalid PDU mode parameter"),
    (305, "Invalid text mode parameter"),
    (310, "SIM not inserted"),
    (311, "SIM PIN required"),
    (313, "SIM failure"),
    (314, "SIM busy"),
    (316, "SIM PUK required"),
    (321, "Invalid memory index"),
    (322, "Memory full"),
    (330, "SMSC address unknown"),
    (331, "No network service"),
    (332, "Network timeout"),
];

/// `+CME ERROR` codes and their words (TS 27.007 §9.2).
const CME_TEXTS: [(u16, &str); 16] = [
    (0, "Phone failure"),
    (3, "Operation not allowed"),
    (4, "Operation not supported"),
    (10, "SIM not inserted"),
    (11, "SIM PIN required"),
    (12, "SIM PUK required"),
    (13, "SIM failure"),
    (14, "SIM busy"),
    (15, "SIM wrong"),
    (16, "Incorrect password"),
    (20, "Memory full"),
    (21, "Invalid index"),
    (30, "No network service"),
    (31, "Network timeout"),
    (32, "Network not allowed - emergency calls only"),
    (100, "Unknown"),
];

/// The unspecified codes a verbose error we do not know the words of stands for.
const CMS_UNKNOWN: u16 = 500;
const CME_UNKNOWN: u16 = 100;

/// The words for a `+CMS ERROR` code.
pub fn cms_text(code: u16) -> Option<&'static str> {
    CMS_TEXTS.iter().find(|(c, _)| *c == code).map(|(_, text)| *text)
}

/// The words for a `+CME ERROR` code.
pub fn cme_text(code: u16) -> Option<&'static str> {
    CME_TEXTS.iter().find(|(c, _)| *c == code).map(|(_, text)| *text)
}

/// Reads one line, without its line ending; blank lines are the caller's to skip.
pub fn parse_line(line: &str) -> Result<Line, AtError> {
    let line = line.trim();
    match line {
        "OK" => return Ok(Line::Final(Final::Ok)),
        "ERROR" => return Ok(Line::Final(Final::Error)),
        "RING" => return Ok(Line::Unsolicited),
        _ => {}
    }
    if line.get(..2).is_some_and(|at| at.eq_ignore_ascii_case("AT")) {
        return Ok(Line::Echo);
    }
    let Some((name, value)) = line.split_once(':') else {
        return Err(AtError::Unrecognised(line.chars().count()));
    };
    let value = value.trim();
    match name {
        "+CMS ERROR" => Ok(Line::Final(Final::Cms(error_code(value, &CMS_TEXTS, CMS_UNKNOWN)))),
        "+CME ERROR" => Ok(Line::Final(Final::Cme(error_code(value, &CME_TEXTS, CME_UNKNOWN)))),
        "+CPIN" => Ok(Line::Pin(sim_state(value))),
        "+CSQ" => signal_quality(value),
        "+CREG" => registration(value),
        "+CMGS" => {
            let reference = value.split(',').next().and_then(|mr| mr.trim().parse().ok());
            reference.map(|reference| Line::Sent { reference }).ok_or(AtError::Malformed("+CMGS"))
        }
        "+CMGL" => listed(value),
        "+CMTI" => {
            let index = value.rsplit_once(',').and_then(|(_, index)| index.trim().parse().ok());
            index.map(|index| Line::NewMessage { index }).ok_or(AtError::Malformed("+CMTI"))
        }
        "+CMGF" => match value {
            "0" => Ok(Line::MessageFormat { pdu: true }),
            "1" => Ok(Line::MessageFormat { pdu: false }),
            _ => Err(AtError::Malformed("+CMGF")),
        },
        _ if is_result_name(name) => Ok(Line::Unsolicited),
        _ => Err(AtError::Unrecognised(line.chars().count())),
    }
}

/// `+NAME` or `^NAME` (vendors' own results), in capitals and digits.
fn is_result_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('+' | '^'))
        && name.len() > 1
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A numeric code, or words matched (ignoring case) against the table; words we do not know
/// stand for the unspecified code.
fn error_code(value: &str, table: &[(u16, &str)], unknown: u16) -> u16 {
    if let Ok(code) = value.parse() {
        return code;
    }
    let found = table.iter().find(|(_, text)| text.eq_ignore_ascii_case(value)).map(|(code, _)| *code);
    found.unwrap_or(unknown)
}

fn sim_state(value: &str) -> SimState {
    match value {
        "READY" => SimState::Ready,
        "SIM PIN" => SimState::Pin,
        "SIM PUK" => SimState::Puk,
        "NOT INSERTED" | "NO SIM" => SimState::Absent,
        other => SimState::Locked(other.to_owned()),
    }
}

fn signal_quality(value: &str) -> Result<Line, AtError> {
    let malformed = AtError::Malformed("+CSQ");
    let (rssi, ber) = value.split_once(',').ok_or(malformed.clone())?;
    let rssi: u8 = rssi.trim().parse().map_err(|_| malformed.clone())?;
    let ber: u8 = ber.trim().parse().map_err(|_| malformed.clone())?;
    let rssi = match rssi {
        0..=31 => Some(rssi),
        99 => None,
        _ => return Err(malformed),
    };
    let ber = match ber {
        0..=7 => Some(ber),
        99 => None,
        _ => return Err(malformed),
    };
    Ok(Line::SignalQuality { rssi, ber })
}

/// `<n>,<stat>[,<lac>,<ci>[,<AcT>]]` answering `AT+CREG?`, or the unsolicited
/// `<stat>[,<lac>,<ci>]`, whose second field, when there is one, is quoted.
fn registration(value: &str) -> Result<Line, AtError> {
    let fields: Vec<&str> = value.split(',').map(str::trim).collect();
    let stat = match fields.as_slice() {
        [stat] => stat,
        [stat, second, ..] if second.starts_with('"') => stat,
        [_, stat, ..] => stat,
        [] => return Err(AtError::Malformed("+CREG")),
    };
    stat.parse().ok().and_then(Registration::from_code).map(Line::Registration).ok_or(AtError::Malformed("+CREG"))
}

/// `<index>,<stat>,[<alpha>],<length>`: the alpha may hold commas, so the length is the last
/// field.
fn listed(value: &str) -> Result<Line, AtError> {
    let malformed = AtError::Malformed("+CMGL");
    let mut fields = value.splitn(3, ',');
    let index = fields.next().and_then(|f| f.trim().parse().ok()).ok_or(malformed.clone())?;
    let status = fields.next().and_then(|f| f.trim().parse().ok()).ok_or(malformed.clone())?;
    let length =
        fields.next().and_then(|rest| rest.rsplit(',').next()).and_then(|f| f.trim().parse().ok()).ok_or(malformed)?;
    Ok(Line::Listed { index, status, length })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(line: &str, expected: Line) {
        assert_eq!(parse_line(line), Ok(expected), "{line:?}");
    }

    #[test]
    fn final_results_in_numbers_and_in_words() {
        check("OK", Line::Final(Final::Ok));
        check("ERROR", Line::Final(Final::Error));
        check("+CMS ERROR: 38", Line::Final(Final::Cms(38)));
        check("+CME ERROR: 10", Line::Final(Final::Cme(10)));
        check("+CMS ERROR: Network out of order", Line::Final(Final::Cms(38)));
        check("+CME ERROR: SIM not inserted", Line::Final(Final::Cme(10)));
        check("+CMS ERROR: unassigned (unallocated) number", Line::Final(Final::Cms(1)));
        check("+CMS ERROR: something new", Line::Final(Final::Cms(500)));
        check("+CME ERROR: something new", Line::Final(Final::Cme(100)));
    }

    #[test]
    fn sim_states() {
        check("+CPIN: READY", Line::Pin(SimState::Ready));
        check("+CPIN: SIM PIN", Line::Pin(SimState::Pin));
        check("+CPIN: SIM PUK", Line::Pin(SimState::Puk));
        check("+CPIN: PH-SIM PIN", Line::Pin(SimState::Locked("PH-SIM PIN".into())));
        check("+CPIN: NOT INSERTED", Line::Pin(SimState::Absent));
    }

    #[test]
    fn signal_99_is_unknown_and_out_of_range_is_malformed() {
        check("+CSQ: 20,99", Line::SignalQuality { rssi: Some(20), ber: None });
        check("+CSQ: 99,99", Line::SignalQuality { rssi: None, ber: None });
        check("+CSQ: 0,0", Line::SignalQuality { rssi: Some(0), ber: Some(0) });
        assert_eq!(parse_line("+CSQ: 32,0"), Err(AtError::Malformed("+CSQ")));
        assert_eq!(parse_line("+CSQ: 20"), Err(AtError::Malformed("+CSQ")));
    }

    #[test]
    fn registered_is_home_or_roaming() {
        check("+CREG: 0,1", Line::Registration(Registration::Home));
        check("+CREG: 0,5", Line::Registration(Registration::Roaming));
        check("+CREG: 2,1,\"1A2B\",\"00C3D4E5\",7", Line::Registration(Registration::Home));
        check("+CREG: 2", Line::Registration(Registration::Searching));
        check("+CREG: 3,\"1A2B\",\"00C3\"", Line::Registration(Registration::Denied));
        assert!(Registration::Roaming.is_registered());
        assert!(!Registration::Searching.is_registered());
        assert_eq!(parse_line("+CREG: 0,9"), Err(AtError::Malformed("+CREG")));
    }

    #[test]
    fn message_lines() {
        check("+CMGS: 17", Line::Sent { reference: 17 });
        check("+CMGL: 3,0,,24", Line::Listed { index: 3, status: 0, length: 24 });
        check("+CMGL: 12,1,\"Ana, casa\",30", Line::Listed { index: 12, status: 1, length: 30 });
        check("+CMTI: \"SM\",4", Line::NewMessage { index: 4 });
        check("+CMGF: 0", Line::MessageFormat { pdu: true });
        assert_eq!(parse_line("+CMGS: x"), Err(AtError::Malformed("+CMGS")));
        assert_eq!(parse_line("+CMGL: 3"), Err(AtError::Malformed("+CMGL")));
    }

    #[test]
    fn echoes_and_unsolicited_lines_are_known_as_such() {
        check("AT+CSQ", Line::Echo);
        check("RING", Line::Unsolicited);
        check("+CUSD: 0,\"saldo\",15", Line::Unsolicited);
        check("^RSSI:25", Line::Unsolicited);
    }

    #[test]
    fn garbage_is_an_error_that_repeats_nothing() {
        for line in ["", "hello", "0011000B91", "+cmgs: 1", "+: 3", "\u{1b}[0m"] {
            let error = parse_line(line).expect_err(line);
            assert!(!error.to_string().contains(line) || line.is_empty(), "{error}");
        }
    }

    proptest! {
        #[test]
        fn no_line_panics_the_parser(line in ".{0,80}") {
            let _ = parse_line(&line);
        }

        #[test]
        fn no_result_prefix_with_any_tail_panics_the_parser(
            name in prop::sample::select(vec!["+CMS ERROR", "+CME ERROR", "+CPIN", "+CSQ", "+CREG", "+CMGS", "+CMGL", "+CMTI", "+CMGF"]),
            tail in "[0-9,\" A-Za-z]{0,30}",
        ) {
            let _ = parse_line(&format!("{name}: {tail}"));
        }
    }
}
