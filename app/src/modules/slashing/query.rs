//! slashing's query paths (under `/slashing/`; see docs/queries.md): `proposal/{id}` and
//! `params` (provable records), `proposals?status=…&operator=…&limit=N&after=ID`, `votes/{id}`.

use super::keys;
use super::state::{Proposal, Vote};
use crate::crypto::Address;
use crate::error::QueryError;
use crate::query::{json, listing, Target};
use crate::records::Record;
use crate::state::{decode_stored, StateRead};

pub(crate) fn route(path: &str, args: &[(&str, &str)]) -> Result<Target, QueryError> {
    let arg = |name: &str| {
        args.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["proposal", id] => Ok(Target::Record(Record::SlashingProposal(parse_id(id)?))),
        ["params"] => Ok(Target::Record(Record::SlashingParams)),
        ["proposals"] => {
            let status = arg("status").unwrap_or_else(|| "all".into());
            if ![
                "all",
                "open",
                "pending",
                "disputed",
                "executed",
                "overturned",
            ]
            .contains(&status.as_str())
            {
                return Err(QueryError::BadArgument(format!(
                    "status {status:?}: one of all, open, pending, disputed, executed, overturned"
                )));
            }
            let operator = arg("operator")
                .map(|a| {
                    Address::parse(&a)
                        .map_err(|e| QueryError::BadArgument(format!("operator: {e}")))
                })
                .transpose()?;
            let limit = match arg("limit") {
                None => 100,
                Some(l) => l
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| {
                        QueryError::BadArgument(format!("limit {l:?} must be 1..=1000"))
                    })?,
            };
            let after = arg("after").map(|a| parse_id(&a)).transpose()?;
            Ok(listing(move |app| {
                let state = app.storage();
                // walk the index from the cursor on, a page at a time, until the page is full
                let (prefix, start) = match &operator {
                    Some(o) => (
                        keys::by_operator_prefix(o),
                        after.map(|a| keys::by_operator(o, a)),
                    ),
                    None => (keys::PROPOSAL_PREFIX.to_vec(), after.map(keys::proposal)),
                };
                let mut cursor = start;
                let mut items: Vec<Proposal> = Vec::new();
                let mut next = None;
                'pages: loop {
                    let page = state.prefix_raw(&prefix, cursor.as_deref(), 256);
                    if page.is_empty() {
                        break;
                    }
                    for (k, _) in &page {
                        cursor = Some(k.clone());
                        let Some(id) = crate::state::keys::trailing_id(k) else {
                            continue;
                        };
                        let Some(raw) = state.get_raw(&keys::proposal(id)) else {
                            continue;
                        };
                        let p: Proposal = decode_stored(&keys::proposal(id), &raw);
                        let keep = match status.as_str() {
                            "all" => true,
                            "open" => p.status.is_open(),
                            s => p.status.name() == s,
                        };
                        if keep {
                            if items.len() == limit {
                                next = items.last().map(|x| x.id.to_string());
                                break 'pages;
                            }
                            items.push(p);
                        }
                    }
                }
                json(&serde_json::json!({ "items": items, "next": next }))
            }))
        }
        ["votes", id] => {
            let id = parse_id(id)?;
            Ok(listing(move |app| {
                let list: Vec<Vote> = app
                    .storage()
                    .prefix_raw(&keys::votes_of(id), None, usize::MAX)
                    .iter()
                    .map(|(k, v)| decode_stored(k, v))
                    .collect();
                json(&list)
            }))
        }
        _ => Err(QueryError::UnknownPath(format!(
            "/slashing/{}",
            path.chars().take(200).collect::<String>()
        ))),
    }
}

fn parse_id(s: &str) -> Result<u64, QueryError> {
    s.parse()
        .map_err(|_| QueryError::BadArgument(format!("proposal id {s:?} is not a number")))
}
