//! Reading the client's small local files (key files, salt files, a `priv_validator_key.json`)
//! with a size bound: a wrong path (a log, a device, a disk image) is refused after `limit`
//! bytes instead of read whole.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use zeroize::Zeroizing;

/// The text of `file` (opened from `path`), at most `limit` bytes; a longer file is an error
/// "`path` is larger than `too_large`" (e.g. "a key file can be"). The text is wiped when
/// dropped, since it may hold a secret.
pub(crate) fn read_bounded(
    file: impl Read,
    path: &Path,
    limit: u64,
    too_large: &str,
) -> Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    file.take(limit.saturating_add(1))
        .read_to_string(&mut text)
        .with_context(|| format!("reading {}", path.display()))?;
    if text.len() as u64 > limit {
        bail!("{} is larger than {too_large}", path.display());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_longer_than_the_bound_is_refused() {
        let path = Path::new("/x/f.json");
        assert_eq!(
            *read_bounded(&b"abc"[..], path, 3, "a test file can be").unwrap(),
            "abc"
        );
        let e = read_bounded(&b"abcd"[..], path, 3, "a test file can be").unwrap_err();
        assert_eq!(e.to_string(), "/x/f.json is larger than a test file can be");
    }
}
