//! This morning at two offices (central's clock is 10:00 there, Sunday 29 November): what the
//! network view's tests sync, through the API and in the browser.

use fila_protocol::office::{Actor, Priority, SurveyInput, SurveyTicket};
use fila_protocol::{AgentId, CategoryId, Command, CounterId, Timestamp, Who};

use super::docs_edge::Edge;
use super::{regional_office, T0};

/// Norte this morning: five arrived from 25 minutes ago, the third an expectant mother; beto
/// called the fifth out of order and served her; four still wait, the mother past her legal
/// maximum.
pub fn norte() -> Edge {
    // Norte, in the interior, with a legal maximum wait for expectant mothers.
    let embarazada = "[[categories]]\nid = \"embarazada\"\nname = \"Embarazada\"\nmax_wait_minutes = 15";
    let config = regional_office("norte", "Oficina Norte", "interior", embarazada);
    let mut edge = Edge::new(config, minutes_before_now(40));
    let beto = Actor { agent: AgentId::new("beto"), supervisor: false };
    edge.run(minutes_before_now(40), Command::SignIn { counter: CounterId::new("1"), by: beto.clone() });
    let mut numbers = Vec::new();
    for minutes in [25, 24, 23, 22, 21] {
        let priority = match minutes {
            23 => Priority::Preferential(CategoryId::new("embarazada")),
            _ => Priority::Normal,
        };
        numbers.push(edge.issue(minutes_before_now(minutes), priority));
    }
    let reason = "Turno con cita previa".to_string();
    let call = Command::CallSpecific { counter: CounterId::new("1"), by: beto.clone(), number: numbers[4], reason };
    edge.run(minutes_before_now(15), call);
    edge.run(
        minutes_before_now(14),
        Command::Finish { counter: CounterId::new("1"), by: beto, outcome: String::new() },
    );
    edge.add_config();
    edge
}

pub fn minutes_before_now(minutes: i64) -> Timestamp {
    Timestamp(T0.0 - minutes * 60_000)
}

/// Centro this morning: three arrived, ana served the first, who rated the visit 4 of 5; two
/// still wait, the longest for ten minutes.
pub fn centro() -> Edge {
    let config = regional_office("centro", "Oficina Centro", "capital", "");
    let mut edge = Edge::new(config, minutes_before_now(30));
    let ana = Actor { agent: AgentId::new("ana"), supervisor: false };
    edge.run(minutes_before_now(30), Command::SignIn { counter: CounterId::new("1"), by: ana.clone() });
    for minutes in [20, 10, 5] {
        edge.issue(minutes_before_now(minutes), Priority::Normal);
    }
    edge.run(minutes_before_now(4), Command::CallNext { counter: CounterId::new("1"), by: ana.clone() });
    edge.run(minutes_before_now(1), Command::Finish { counter: CounterId::new("1"), by: ana, outcome: String::new() });
    // The one served rated the visit 4 of 5 at the exit tablet.
    let answer = SurveyInput { satisfaction: Some(4), ..SurveyInput::default() };
    let by = Who::Kiosk("salida".into());
    edge.run(minutes_before_now(1), Command::AnswerSurvey { ticket: SurveyTicket::Token("k1".into()), answer, by });
    edge.add_config();
    edge
}
