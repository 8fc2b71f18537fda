//! The office the network benches seed by the thousand: one service with a 20-minute target,
//! two counters.

use fila_protocol::RawOfficeConfig;

pub fn config(id: &str) -> RawOfficeConfig {
    let text = format!(
        r#"
        [office]
        id = "{id}"
        name = "Office {id}"
        time_zone = "America/Argentina/Buenos_Aires"
        [[services]]
        id = "general"
        prefix = "A"
        name = "General"
        target_wait_minutes = 20
        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["general"]
        [[counters]]
        id = "2"
        name = "Puesto 2"
        services = ["general"]
        "#
    );
    toml::from_str(&text).expect("a configuration")
}
