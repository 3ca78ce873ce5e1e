//! tasks — the NodeOP task lifecycle (PROTOCOL.md §3.4).

pub mod error;
pub mod msg;

pub use error::{TasksError, CODESPACE};
pub use msg::{
    Consistency, MsgCommitResult, MsgConfirmSubmission, MsgPostTask, MsgRevealResult, TaskKind,
    TaskPayload,
};
