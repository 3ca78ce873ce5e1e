//! reputation — operator scores, the Byzantine factor and the load state (PROTOCOL.md §3.3).
