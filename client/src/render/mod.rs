//! Text for people: how records, listings and answers read on a terminal. JSON output is the
//! records themselves (serde); these are only the text form.
//!
//! - [`tasks`] — tasks, schedules, results, price, capacity, load, params.

pub mod tasks;
