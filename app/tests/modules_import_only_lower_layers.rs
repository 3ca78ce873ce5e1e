//! The module graph has one direction: a module imports only modules of lower layers
//! (`nodeop_app::modules::LAYERS`). Reads every source file of every module folder and fails on
//! any path into a module of the same or a higher layer, in any form (`use crate::modules::x`,
//! `crate::modules::{x, y}`, a full path in an expression or a doc link, `super::super::x`).
//! Also checks that the module table lists exactly the layered modules, in layer order, and that
//! every module folder is layered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nodeop_app::modules::{LAYERS, MODULES};

fn modules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/modules")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every module name a source text refers to through `crate::modules::` or `super::super::`.
fn referenced_modules(text: &str, known: &BTreeMap<&str, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in ["crate::modules::", "super::super::"] {
        for (i, _) in text.match_indices(prefix) {
            let rest = &text[i + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    out.push(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    out.retain(|n| known.contains_key(n.as_str()));
    out
}

#[test]
fn modules_import_only_lower_layers() {
    let mut layer_of = BTreeMap::new();
    for (layer, names) in LAYERS.iter().enumerate() {
        for n in *names {
            assert!(layer_of.insert(*n, layer).is_none(), "{n} is in two layers");
        }
    }
    let mut problems = Vec::new();
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(modules_dir()).expect("modules dir") {
        let path = entry.expect("entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        folders.push(name.clone());
        let Some(&layer) = layer_of.get(name.as_str()) else {
            problems.push(format!(
                "module folder {name} is in no layer of modules::LAYERS"
            ));
            continue;
        };
        let mut files = Vec::new();
        rust_files(&path, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source");
            for target in referenced_modules(&text, &layer_of) {
                let target_layer = layer_of[target.as_str()];
                if target != name && target_layer >= layer {
                    problems.push(format!(
                        "{} refers to {target} (layer {target_layer}), not below {name} (layer {layer})",
                        file.strip_prefix(modules_dir()).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(folders.len() >= 6, "found only {folders:?}");
    assert!(
        problems.is_empty(),
        "imports against the layers:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_module_table_follows_the_layers() {
    let table: Vec<&str> = MODULES.iter().map(|m| m.name()).collect();
    let layered: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    assert_eq!(
        table, layered,
        "modules::MODULES must list modules::LAYERS in order"
    );
}

#[test]
fn the_checker_sees_every_form_of_reference() {
    let known: BTreeMap<&str, usize> = [("bank", 0), ("tasks", 4)].into_iter().collect();
    for text in [
        "use crate::modules::tasks;",
        "use crate::modules::{bank, tasks};",
        "let x = crate::modules::tasks::reexec::start(s);",
        "/// see [`crate::modules::tasks::reexec`]",
        "use super::super::tasks::Task;",
    ] {
        assert!(
            referenced_modules(text, &known).contains(&"tasks".to_string()),
            "missed the reference in {text:?}"
        );
    }
    assert!(referenced_modules("use crate::modules::Hooks;", &known).is_empty());
}
