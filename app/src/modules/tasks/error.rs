//! tasks' errors (codespace `tasks`). Codes are append-only.

pub const CODESPACE: &str = "tasks";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TasksError {
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
}

impl TasksError {
    pub fn code(&self) -> u32 {
        match self {
            TasksError::InvalidField { .. } => 1,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TasksError::InvalidField { .. } => "invalid_field",
        }
    }

    pub fn examples() -> Vec<TasksError> {
        vec![TasksError::InvalidField {
            field: "",
            reason: String::new(),
        }]
    }
}
