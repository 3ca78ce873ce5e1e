//! tasks' errors (codespace `tasks`). Codes are append-only.

pub const CODESPACE: &str = "tasks";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TasksError {
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error(
        "fee {fee} unop is below difficulty {difficulty} × unit price {unit_price} = {required} unop"
    )]
    FeeBelowPrice {
        fee: u128,
        difficulty: u64,
        unit_price: u128,
        required: u128,
    },
    #[error("the committee needs {needed} eligible operators, only {eligible} are (bonded, not jailed, reputation ≥ {min_reputation_ppm} ppm, {difficulty} free units)")]
    NotEnoughEligible {
        needed: u32,
        eligible: u32,
        min_reputation_ppm: u32,
        difficulty: u64,
    },
    #[error("no task {0}")]
    UnknownTask(u64),
    #[error("task {id} is {status}, not open to this action")]
    WrongTaskStatus { id: u64, status: &'static str },
    #[error("{operator} is not on the current committee of task {task}")]
    NotAMember { task: u64, operator: String },
    #[error(
        "the {phase} window of this task opens after height {opens_after}; this block is {height}"
    )]
    WindowNotOpen {
        phase: &'static str,
        opens_after: u64,
        height: u64,
    },
    #[error(
        "the {phase} window of this task closed at height {closed_at}; this block is {height}"
    )]
    WindowClosed {
        phase: &'static str,
        closed_at: u64,
        height: u64,
    },
    #[error("this member already committed at height {0}")]
    AlreadyCommitted(u64),
    #[error("this member already revealed at height {0}")]
    AlreadyRevealed(u64),
    #[error("this member did not commit, so it has nothing to reveal")]
    RevealWithoutCommit,
    #[error("SHA-256(task_id ‖ member ‖ result ‖ salt) does not match this member's commitment")]
    CommitmentMismatch,
    #[error("the result is {got} bytes; {expected}")]
    WrongResultSize { got: u64, expected: String },
    #[error("the inline payload is {len} bytes; the limit is max_payload_bytes = {max}")]
    PayloadTooLarge { len: u64, max: u32 },
    #[error("difficulty {difficulty} is above max_difficulty_units = {max}")]
    DifficultyTooHigh { difficulty: u64, max: u64 },
    #[error("window {window} of task {task} belongs to {expected}")]
    NotScheduledSubmitter {
        task: u64,
        window: u32,
        expected: String,
    },
    #[error("{0} is not a bonded, unjailed operator")]
    NotBondedOperator(String),
    #[error("amount arithmetic overflowed")]
    Overflow,
    #[error("{member}'s slot on task {task} is on auction or sold to a coprocessor; only the auction's winner may commit and reveal for it")]
    SlotOffered { task: u64, member: String },
}

impl TasksError {
    pub fn code(&self) -> u32 {
        match self {
            TasksError::InvalidField { .. } => 1,
            TasksError::FeeBelowPrice { .. } => 2,
            TasksError::NotEnoughEligible { .. } => 3,
            TasksError::UnknownTask(_) => 4,
            TasksError::WrongTaskStatus { .. } => 5,
            TasksError::NotAMember { .. } => 6,
            TasksError::WindowNotOpen { .. } => 7,
            TasksError::WindowClosed { .. } => 8,
            TasksError::AlreadyCommitted(_) => 9,
            TasksError::AlreadyRevealed(_) => 10,
            TasksError::RevealWithoutCommit => 11,
            TasksError::CommitmentMismatch => 12,
            TasksError::WrongResultSize { .. } => 13,
            TasksError::PayloadTooLarge { .. } => 14,
            TasksError::DifficultyTooHigh { .. } => 15,
            TasksError::NotScheduledSubmitter { .. } => 16,
            TasksError::NotBondedOperator(_) => 17,
            TasksError::Overflow => 18,
            TasksError::SlotOffered { .. } => 19,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TasksError::InvalidField { .. } => "invalid_field",
            TasksError::FeeBelowPrice { .. } => "fee_below_price",
            TasksError::NotEnoughEligible { .. } => "not_enough_eligible_operators",
            TasksError::UnknownTask(_) => "unknown_task",
            TasksError::WrongTaskStatus { .. } => "wrong_task_status",
            TasksError::NotAMember { .. } => "not_a_committee_member",
            TasksError::WindowNotOpen { .. } => "window_not_open",
            TasksError::WindowClosed { .. } => "window_closed",
            TasksError::AlreadyCommitted(_) => "already_committed",
            TasksError::AlreadyRevealed(_) => "already_revealed",
            TasksError::RevealWithoutCommit => "reveal_without_commit",
            TasksError::CommitmentMismatch => "commitment_mismatch",
            TasksError::WrongResultSize { .. } => "wrong_result_size",
            TasksError::PayloadTooLarge { .. } => "payload_too_large",
            TasksError::DifficultyTooHigh { .. } => "difficulty_too_high",
            TasksError::NotScheduledSubmitter { .. } => "not_scheduled_submitter",
            TasksError::NotBondedOperator(_) => "not_bonded_operator",
            TasksError::Overflow => "overflow",
            TasksError::SlotOffered { .. } => "slot_offered",
        }
    }

    pub fn examples() -> Vec<TasksError> {
        vec![
            TasksError::InvalidField {
                field: "",
                reason: String::new(),
            },
            TasksError::FeeBelowPrice {
                fee: 0,
                difficulty: 0,
                unit_price: 0,
                required: 0,
            },
            TasksError::NotEnoughEligible {
                needed: 0,
                eligible: 0,
                min_reputation_ppm: 0,
                difficulty: 0,
            },
            TasksError::UnknownTask(0),
            TasksError::WrongTaskStatus { id: 0, status: "" },
            TasksError::NotAMember {
                task: 0,
                operator: String::new(),
            },
            TasksError::WindowNotOpen {
                phase: "",
                opens_after: 0,
                height: 0,
            },
            TasksError::WindowClosed {
                phase: "",
                closed_at: 0,
                height: 0,
            },
            TasksError::AlreadyCommitted(0),
            TasksError::AlreadyRevealed(0),
            TasksError::RevealWithoutCommit,
            TasksError::CommitmentMismatch,
            TasksError::WrongResultSize {
                got: 0,
                expected: String::new(),
            },
            TasksError::PayloadTooLarge { len: 0, max: 0 },
            TasksError::DifficultyTooHigh {
                difficulty: 0,
                max: 0,
            },
            TasksError::NotScheduledSubmitter {
                task: 0,
                window: 0,
                expected: String::new(),
            },
            TasksError::NotBondedOperator(String::new()),
            TasksError::Overflow,
            TasksError::SlotOffered {
                task: 0,
                member: String::new(),
            },
        ]
    }
}
