//! Scenario tests of the agent against the real app in process (no sockets).
