//! The protobuf form of every nodeop message, as `proto/nodeop/<module>/v1/tx.proto` defines it.
//!
//! Written by hand with `prost`'s derives rather than generated at build time: generating needs
//! either a `protoc` binary on every machine that builds the app, or a protobuf compiler and a
//! code generator as build dependencies of the state machine, for some twenty small messages
//! that change rarely and only by appending.
//! `tests/tests/a_cosmos_envelope_tx_is_checked_and_executed_like_a_borsh_tx.rs` parses the `.proto`
//! files and checks that these types encode exactly the fields, numbers and wire types they
//! declare, and that every declared message has a type here.
//!
//! [`TYPE_URLS`] is the registry: each message's `Any` type URL, in borsh variant order.

use prost::{Enumeration, Message, Oneof};

pub mod bank {
    use super::*;

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgSend {
        #[prost(string, tag = "1")]
        pub to: String,
        #[prost(string, tag = "2")]
        pub amount: String,
    }
}

pub mod staking {
    use super::*;

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgRegisterOperator {
        #[prost(bytes = "vec", tag = "1")]
        pub consensus_pubkey: Vec<u8>,
        #[prost(string, tag = "2")]
        pub moniker: String,
        #[prost(uint64, tag = "3")]
        pub capacity_units: u64,
        #[prost(string, tag = "4")]
        pub region: String,
        #[prost(uint32, tag = "5")]
        pub commission_ppm: u32,
        #[prost(string, tag = "6")]
        pub self_bond: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgEditOperator {
        #[prost(string, optional, tag = "1")]
        pub moniker: Option<String>,
        #[prost(uint64, optional, tag = "2")]
        pub capacity_units: Option<u64>,
        #[prost(string, optional, tag = "3")]
        pub region: Option<String>,
        #[prost(uint32, optional, tag = "4")]
        pub commission_ppm: Option<u32>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgDelegate {
        #[prost(string, tag = "1")]
        pub operator: String,
        #[prost(string, tag = "2")]
        pub amount: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgUndelegate {
        #[prost(string, tag = "1")]
        pub operator: String,
        #[prost(string, tag = "2")]
        pub amount: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgUnjail {}
}

pub mod slashing {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
    #[repr(i32)]
    pub enum Offence {
        Unspecified = 0,
        ResultMismatch = 1,
        Equivocation = 2,
        FalseSubmission = 3,
        Downtime = 4,
        Performance = 5,
        Byzantine = 6,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct AttestationBody {
        #[prost(string, tag = "1")]
        pub chain_id: String,
        #[prost(uint64, tag = "2")]
        pub task_id: u64,
        #[prost(bytes = "vec", tag = "3")]
        pub result_hash: Vec<u8>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct Attestation {
        #[prost(message, optional, tag = "1")]
        pub body: Option<AttestationBody>,
        #[prost(bytes = "vec", tag = "2")]
        pub pubkey: Vec<u8>,
        #[prost(bytes = "vec", tag = "3")]
        pub signature: Vec<u8>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct EquivocationEvidence {
        #[prost(message, optional, tag = "1")]
        pub first: Option<Attestation>,
        #[prost(message, optional, tag = "2")]
        pub second: Option<Attestation>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct StatementEvidence {
        #[prost(uint64, tag = "1")]
        pub infraction_id: u64,
        #[prost(uint64, tag = "2")]
        pub infraction_height: u64,
        #[prost(string, tag = "3")]
        pub description: String,
        #[prost(string, tag = "4")]
        pub reference: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct DowntimeEvidence {
        #[prost(uint64, tag = "1")]
        pub period: u64,
        #[prost(uint32, tag = "2")]
        pub uptime_ppm: u32,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct ResultMismatchEvidence {
        #[prost(uint64, tag = "1")]
        pub task_id: u64,
    }

    #[derive(Clone, PartialEq, Oneof)]
    pub enum Evidence {
        #[prost(message, tag = "3")]
        Equivocation(EquivocationEvidence),
        #[prost(message, tag = "4")]
        Statement(StatementEvidence),
        #[prost(message, tag = "5")]
        Downtime(DowntimeEvidence),
        #[prost(message, tag = "6")]
        ResultMismatch(ResultMismatchEvidence),
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgProposeSlash {
        #[prost(string, tag = "1")]
        pub operator: String,
        #[prost(enumeration = "Offence", tag = "2")]
        pub offence: i32,
        #[prost(oneof = "Evidence", tags = "3, 4, 5, 6")]
        pub evidence: Option<Evidence>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgDisputeSlash {
        #[prost(uint64, tag = "1")]
        pub proposal: u64,
        #[prost(string, tag = "2")]
        pub reason: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgVoteDispute {
        #[prost(uint64, tag = "1")]
        pub proposal: u64,
        #[prost(bool, tag = "2")]
        pub uphold: bool,
    }
}

pub mod tasks {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Enumeration)]
    #[repr(i32)]
    pub enum Consistency {
        Unspecified = 0,
        Eventual = 1,
        Session = 2,
        Strong = 3,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct ExactKind {}

    #[derive(Clone, PartialEq, Message)]
    pub struct NumericKind {
        #[prost(uint32, tag = "1")]
        pub scale: u32,
        #[prost(uint32, tag = "2")]
        pub tolerance_ppm: u32,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct PayloadReference {
        #[prost(bytes = "vec", tag = "1")]
        pub sha256: Vec<u8>,
        #[prost(string, tag = "2")]
        pub uri: String,
    }

    #[derive(Clone, PartialEq, Oneof)]
    pub enum Kind {
        #[prost(message, tag = "1")]
        Exact(ExactKind),
        #[prost(message, tag = "2")]
        Numeric(NumericKind),
    }

    #[derive(Clone, PartialEq, Oneof)]
    pub enum Payload {
        #[prost(bytes, tag = "4")]
        Inline(Vec<u8>),
        #[prost(message, tag = "5")]
        Reference(PayloadReference),
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgPostTask {
        #[prost(oneof = "Kind", tags = "1, 2")]
        pub kind: Option<Kind>,
        #[prost(enumeration = "Consistency", tag = "3")]
        pub consistency: i32,
        #[prost(oneof = "Payload", tags = "4, 5")]
        pub payload: Option<Payload>,
        #[prost(uint64, tag = "6")]
        pub difficulty_units: u64,
        #[prost(uint32, tag = "7")]
        pub min_reputation_ppm: u32,
        #[prost(string, tag = "8")]
        pub fee: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgCommitResult {
        #[prost(uint64, tag = "1")]
        pub task_id: u64,
        #[prost(bytes = "vec", tag = "2")]
        pub commitment: Vec<u8>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgRevealResult {
        #[prost(uint64, tag = "1")]
        pub task_id: u64,
        #[prost(bytes = "vec", tag = "2")]
        pub result: Vec<u8>,
        #[prost(bytes = "vec", tag = "3")]
        pub salt: Vec<u8>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgConfirmSubmission {
        #[prost(uint64, tag = "1")]
        pub task_id: u64,
        #[prost(string, tag = "2")]
        pub target_ref: String,
    }
}

pub mod issuance {
    use super::*;

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgClaimVested {}
}

pub mod coprocessors {
    use super::*;

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgRegisterCoprocessor {
        #[prost(uint64, tag = "1")]
        pub capacity_units: u64,
        #[prost(string, tag = "2")]
        pub collateral: String,
        #[prost(string, tag = "3")]
        pub moniker: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgEditCoprocessor {
        #[prost(uint64, optional, tag = "1")]
        pub capacity_units: Option<u64>,
        #[prost(string, optional, tag = "2")]
        pub moniker: Option<String>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgAddCollateral {
        #[prost(string, tag = "1")]
        pub amount: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgWithdrawCollateral {
        #[prost(string, tag = "1")]
        pub amount: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgOpenAuction {
        #[prost(uint64, tag = "1")]
        pub task_id: u64,
        #[prost(string, tag = "2")]
        pub start_price: String,
        #[prost(string, tag = "3")]
        pub floor_price: String,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct MsgBid {
        #[prost(uint64, tag = "1")]
        pub auction_id: u64,
    }
}

/// The type URL of a wallet's ordinary Send, accepted in `unop`.
pub const COSMOS_MSG_SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

/// Every nodeop message's `Any` type URL, in borsh variant order (index = variant).
pub const TYPE_URLS: [&str; 20] = [
    "/nodeop.bank.v1.MsgSend",
    "/nodeop.staking.v1.MsgRegisterOperator",
    "/nodeop.staking.v1.MsgEditOperator",
    "/nodeop.staking.v1.MsgDelegate",
    "/nodeop.staking.v1.MsgUndelegate",
    "/nodeop.staking.v1.MsgUnjail",
    "/nodeop.slashing.v1.MsgProposeSlash",
    "/nodeop.slashing.v1.MsgDisputeSlash",
    "/nodeop.slashing.v1.MsgVoteDispute",
    "/nodeop.tasks.v1.MsgPostTask",
    "/nodeop.tasks.v1.MsgCommitResult",
    "/nodeop.tasks.v1.MsgRevealResult",
    "/nodeop.tasks.v1.MsgConfirmSubmission",
    "/nodeop.issuance.v1.MsgClaimVested",
    "/nodeop.coprocessors.v1.MsgRegisterCoprocessor",
    "/nodeop.coprocessors.v1.MsgEditCoprocessor",
    "/nodeop.coprocessors.v1.MsgAddCollateral",
    "/nodeop.coprocessors.v1.MsgWithdrawCollateral",
    "/nodeop.coprocessors.v1.MsgOpenAuction",
    "/nodeop.coprocessors.v1.MsgBid",
];
