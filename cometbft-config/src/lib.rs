//! CometBFT config templates.
