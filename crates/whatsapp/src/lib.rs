//! WhatsApp Cloud API plumbing shared by the services: webhook signatures, and the Graph
//! API client that sends replies, with Meta's error codes sorted into what to do next, and
//! the approved-template catalogue file.

pub mod errors;
pub mod graph;
pub mod signature;
pub mod templates;
