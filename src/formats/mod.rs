//! File formats at the edges of the system live here: documents that arrive
//! from outside are parsed into typed values, or refused with a reason, before
//! anything else in the code base sees them.

pub mod camt;
pub mod einvoice;
pub mod pain001;
pub mod xml;
pub mod xsd;
