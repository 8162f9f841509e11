//! The conversation engine of ABCai: which question a customer gets next.
//!
//! [`decide`] is a pure function from a conversation's state and one inbound message to the
//! new state, the reply and a notice for staff. It reads the clock only through its
//! argument and never touches a database or the network. The order is service, name,
//! nationality, email, best time to call, then a closing message; nothing already known is
//! asked again, the greeting goes out once, and no text lists services.

mod engine;
mod extract;
pub mod replay;
pub mod texts;

pub use engine::{Decision, Inbound, InboundKind, MAX_REASKS, Notice, NoticeKind, Reply, decide};
