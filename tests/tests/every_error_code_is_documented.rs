//! docs/errors.md and the code agree: every (codespace, code, name) the App can return is listed,
//! and the docs list nothing the App does not have.

use std::collections::BTreeSet;

use nodeop_app::error::{QueryError, TxError, CODESPACE_QUERY};

fn documented() -> BTreeSet<(String, u32, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md");
    let text = std::fs::read_to_string(path).expect("docs/errors.md exists");
    let mut out = BTreeSet::new();
    let mut codespace = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## codespace `") {
            codespace = rest.split('`').next().map(str::to_string);
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 {
            if let (Some(cs), Ok(code)) = (&codespace, cells[1].parse::<u32>()) {
                out.insert((cs.clone(), code, cells[2].trim_matches('`').to_string()));
            }
        }
    }
    out
}

#[test]
fn every_error_code_is_documented_and_every_documented_code_exists() {
    let mut actual = BTreeSet::new();
    for e in TxError::examples() {
        assert_ne!(e.code(), 0, "{e:?} uses code 0, which means success");
        assert!(
            actual.insert((e.codespace().to_string(), e.code(), e.name().to_string())),
            "{e:?} reuses a code"
        );
    }
    for e in QueryError::examples() {
        assert!(actual.insert((CODESPACE_QUERY.to_string(), e.code(), e.name().to_string())));
    }
    let docs = documented();
    let missing: Vec<_> = actual.difference(&docs).collect();
    let stale: Vec<_> = docs.difference(&actual).collect();
    assert!(missing.is_empty(), "not in docs/errors.md: {missing:?}");
    assert!(
        stale.is_empty(),
        "in docs/errors.md but not in the code: {stale:?}"
    );
}
