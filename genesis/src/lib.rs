//! genesis.json handling.
