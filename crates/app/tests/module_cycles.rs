//! The app's modules import one another without a cycle: a module may use
//! the modules below it, never one that (through others) uses it back.
//! A cycle is what made `http.rs` the centre of everything; this test reads
//! the sources and fails with the cycle it finds.
//!
//! An edge is a path to another module of the crate: `crate::a::b`,
//! `super::x`, or `child::x` for a child the file declares, in `use` lines
//! and in code alike. The unit tests at the end of a file are left out:
//! they may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`api::issuers`, `""` for the crate root) → its source.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("the source folder is readable") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") || path.ends_with("main.rs") {
                continue;
            }
            let relative = path.strip_prefix(&root).expect("under src");
            let mut segments: Vec<String> = relative
                .with_extension("")
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
                segments.pop();
            }
            let source = std::fs::read_to_string(&path).expect("a readable source file");
            found.insert(
                segments.join("::"),
                without_tests(&without_comments(&source)),
            );
        }
    }
    found
}

fn without_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.trim_start().starts_with("//") {
            true => "",
            false => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source before its unit tests (`#[cfg(test)]` then `mod tests`).
fn without_tests(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let end = lines
        .windows(2)
        .position(|pair| pair[0].trim() == "#[cfg(test)]" && pair[1].contains("mod tests"))
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// The children a module declares (`mod x;`, `pub mod x;`, ...).
fn children(source: &str) -> BTreeSet<String> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_suffix(';')?;
            let name = rest.rsplit_once("mod ")?.1;
            let visibility = rest.strip_suffix(name)?.trim_end().strip_suffix("mod")?;
            let plain = matches!(visibility.trim(), "" | "pub" | "pub(crate)" | "pub(super)");
            plain.then(|| name.to_owned())
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path of `source` that starts with one of `starts`, as segments
/// (a `{a, b::c}` group gives one path per member, cut at the group).
fn paths(source: &str, starts: &BTreeSet<String>) -> Vec<Vec<String>> {
    let chars: Vec<char> = source.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at_word =
            is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':'));
        if !at_word {
            i += 1;
            continue;
        }
        let mut segments = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            segments.push(chars[start..j].iter().collect::<String>());
            if chars[j..].starts_with(&[':', ':']) && chars.get(j + 2).is_some_and(|&c| is_ident(c))
            {
                j += 2;
            } else {
                break;
            }
        }
        let group = chars[j..].starts_with(&[':', ':', '{']);
        let ours = segments[0] == "crate" || starts.contains(&segments[0]);
        if ours && (segments.len() > 1 || group) {
            if group {
                let group_end = (j + 3..chars.len())
                    .scan(1usize, |depth, k| {
                        match chars[k] {
                            '{' => *depth += 1,
                            '}' => *depth -= 1,
                            _ => {}
                        }
                        Some((k, *depth))
                    })
                    .find(|&(_, depth)| depth == 0)
                    .map_or(chars.len(), |(k, _)| k);
                let group: String = chars[j + 3..group_end].iter().collect();
                for member in group.split(',') {
                    let first: String =
                        member.trim().chars().take_while(|&c| is_ident(c)).collect();
                    if !first.is_empty() && first != "self" {
                        let mut path = segments.clone();
                        path.push(first);
                        found.push(path);
                    }
                }
            }
            found.push(segments);
        }
        i = j.max(i + 1);
    }
    found
}

/// Module → the other modules it uses.
fn edges(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<&str> = modules.keys().map(String::as_str).collect();
    let resolve = |segments: &[String]| -> String {
        (0..=segments.len())
            .rev()
            .map(|n| segments[..n].join("::"))
            .find(|candidate| known.contains(candidate.as_str()))
            .unwrap_or_default()
    };
    modules
        .iter()
        .map(|(module, source)| {
            let own: Vec<String> = module
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let mut starts = children(source);
            starts.insert("super".to_owned());
            let used = paths(source, &starts)
                .into_iter()
                .map(|path| {
                    let mut at = match path[0].as_str() {
                        "crate" => Vec::new(),
                        "super" => own[..own.len().saturating_sub(1)].to_vec(),
                        child => [own.clone(), vec![child.to_owned()]].concat(),
                    };
                    for segment in &path[1..] {
                        match segment.as_str() {
                            "super" => {
                                at.pop();
                            }
                            name => at.push(name.to_owned()),
                        }
                    }
                    resolve(&at)
                })
                .filter(|target| target != module)
                .collect();
            (module.clone(), used)
        })
        .collect()
}

/// A cycle of `graph`, if there is one, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        trail: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        trail.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()) {
                Some(Mark::Open) => {
                    let from = trail.iter().position(|m| m == next).unwrap_or(0);
                    let mut found = trail[from..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(found) = visit(next, graph, marks, trail) {
                        return Some(found);
                    }
                }
            }
        }
        trail.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| match marks.contains_key(node) {
            true => None,
            false => visit(node, graph, &mut marks, &mut Vec::new()),
        })
}

fn name(module: &str) -> &str {
    if module.is_empty() {
        "<crate root>"
    } else {
        module
    }
}

#[test]
fn the_app_modules_import_one_another_without_a_cycle() {
    let graph = edges(&modules());
    if let Some(found) = cycle(&graph) {
        let shown: Vec<&str> = found.iter().map(|m| name(m)).collect();
        panic!("import cycle: {}", shown.join(" -> "));
    }
}

#[test]
fn the_reader_sees_every_kind_of_path() {
    let source = "use crate::a::{b, c::d};\nuse super::e;\nfn f() { child::g(); crate::h::i(); }";
    let starts: BTreeSet<String> = ["super", "child"].map(str::to_owned).into();
    let found: BTreeSet<String> = paths(source, &starts)
        .iter()
        .map(|p| p.join("::"))
        .collect();
    for expected in [
        "crate::a::b",
        "crate::a::c",
        "super::e",
        "child::g",
        "crate::h::i",
    ] {
        assert!(found.contains(expected), "{expected} in {found:?}");
    }
    assert_eq!(
        children("mod a;\npub mod b;\npub(crate) mod c;\nuse d;"),
        ["a", "b", "c"].map(str::to_owned).into()
    );
}

#[test]
fn a_cycle_is_found_and_a_tree_is_not() {
    let graph = |pairs: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in pairs {
            graph
                .entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            graph.entry((*to).to_owned()).or_default();
        }
        graph
    };
    assert_eq!(cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(["a", "b", "c", "a"].map(str::to_owned).to_vec())
    );
}
