//! The conversation engine of ABCai: which reply a customer gets next.
//!
//! [`decide`] is a pure function from a conversation's state and one turn (the customer's
//! messages since the last reply) to the new state, at most one reply, notices for staff
//! and a change to the contact (opt-out, opt-in). It reads the clock and the business
//! facts ([`BusinessProfile`]) only through its arguments and never touches a database or
//! the network. The order is service, name, nationality, email, best time to call, then a
//! closing message that reads the details back; nothing already known is asked again, the
//! greeting goes out once, no text lists services, and a customer who writes Arabic is
//! answered in Arabic.

mod decision;
mod engine;
pub mod eval;
mod extract;
mod intent;
pub mod lateness;
mod profile;
pub mod replay;
pub mod texts;

pub use decision::{ContactChange, Decision, Inbound, InboundKind, Notice, NoticeKind, Reply};
pub use engine::{ACK_INTERVAL, ANY_TIME, MAX_REASKS, NEW_ENQUIRY_AFTER, NO_CALLS, decide};
pub use profile::{BusinessProfile, ProfileError};
