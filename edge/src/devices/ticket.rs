//! A ticket as the printer lays it out, from the domain's ticket and its place in the queue
//! (never from the JSON API's DTO: the printed ticket must not change when the API does).

use fila_devices::escpos::TicketPrint;
use fila_devices::Lang;
use fila_protocol::office::Position;
use fila_protocol::{Class, OfficeConfig, Ticket};

/// What the printer prints for `ticket`: its office, number, service, issue time in the office's
/// time zone, the people ahead and the estimated wait (`position`, none once it is no longer
/// waiting), its preferential category by name, and a QR code of its tracking link.
pub fn ticket_print(
    ticket: &Ticket,
    position: Option<Position>,
    config: &OfficeConfig,
    base_url: &str,
    lang: Lang,
) -> TicketPrint {
    let issued_at = jiff::Timestamp::from_millisecond(ticket.issued_at.as_ms())
        .map(|at| at.to_zoned(config.time_zone.clone()).strftime("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default();
    let preferential = match &ticket.class {
        Class::Preferential { category } => {
            Some(config.category(category).map_or_else(|| category.to_string(), |c| c.name.clone()))
        }
        Class::Normal | Class::Appointment { .. } => None,
    };
    TicketPrint {
        office: config.name.clone(),
        number: ticket.number.to_string(),
        service: config.service(&ticket.service).map_or_else(String::new, |s| s.name.clone()),
        issued_at,
        ahead: position.map_or(0, |p| p.people_ahead),
        wait_minutes: position.map(|p| (p.wait.low, p.wait.high)),
        tracking_url: Some(crate::tracking::url(base_url, &ticket.token)),
        preferential,
        lang,
        wait_outside: ticket.away.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use fila_devices::escpos::TicketPrint;
    use fila_devices::Lang;
    use fila_protocol::estimate::WaitRange;
    use fila_protocol::office::Position;
    use fila_protocol::{CategoryId, Class, ServiceId, Ticket, TicketId, TicketNumber, Timestamp, Who};

    /// 2026-03-02 10:42 in Buenos Aires (UTC-3).
    const ISSUED_MS: i64 = 1_772_458_920_000;

    fn check(class: Class, position: Option<Position>) -> TicketPrint {
        let config = crate::demo::settings(([127, 0, 0, 1], 0).into(), "/nonexistent".into()).office;
        let ticket = Ticket::issued(
            TicketId(7),
            TicketNumber { prefix: 'A', seq: 23 },
            ServiceId::new("general"),
            class,
            Who::Kiosk("entrada".into()),
            "0123abcd".into(),
            Timestamp::from_ms(ISSUED_MS),
        );
        super::ticket_print(&ticket, position, &config, "http://192.168.1.10:8080/", Lang::Es)
    }

    #[test]
    fn a_printed_ticket_says_where_when_how_many_ahead_and_links_its_tracking_page() {
        let print = check(Class::Normal, Some(Position { people_ahead: 3, wait: WaitRange { low: 9, high: 15 } }));
        assert_eq!(print.office, "Oficina Centro");
        assert_eq!(print.number, "A-023");
        assert_eq!(print.service, "Atención general");
        assert_eq!(print.issued_at, "02/03/2026 10:42", "in the office's time zone");
        assert_eq!((print.ahead, print.wait_minutes), (3, Some((9, 15))));
        assert_eq!(print.tracking_url.as_deref(), Some("http://192.168.1.10:8080/t/0123abcd"));
        assert_eq!(print.preferential, None);
    }

    #[test]
    fn a_preferential_ticket_names_its_category_and_one_no_longer_waiting_has_no_wait() {
        let class = Class::Preferential { category: CategoryId::new("adulto_mayor") };
        let print = check(class, None);
        assert_eq!(print.preferential.as_deref(), Some("Adulto mayor"));
        assert_eq!((print.ahead, print.wait_minutes), (0, None));
    }
}
