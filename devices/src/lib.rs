//! fila's devices: encoders and decoders of what ticket printers, counter displays and MQTT
//! devices speak, drivers generic over `AsyncRead + AsyncWrite`, spoken calls, and emulators of
//! each. This crate knows nothing of queues: the edge turns office events into device commands.

pub mod escpos;
pub mod modbus;
pub mod mqtt;
mod serial;
pub mod speech;

/// The language a device speaks to citizens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Es,
    En,
}
