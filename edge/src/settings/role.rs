//! The roles a `[[users]]` entry can have. Defined with the settings because the TOML names
//! them; what a role may do is `auth`'s business (`impl Role` there).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Kiosk,
    Agent,
    Supervisor,
    Admin,
}
