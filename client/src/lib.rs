//! nodeop client library.
