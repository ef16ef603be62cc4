//! The layers of `src/`, as ARCHITECTURE.md draws them, held by reading the
//! sources: a module that names one it must not (in a `use`, grouped or
//! not, or in a path written inline, `$crate::` in macros included) fails
//! the test, naming the file and what it named.
//!
//! | layer | modules | may use (besides itself) |
//! |---|---|---|
//! | types | `geom` | nothing of the crate |
//! | types | `model` | `geom` |
//! | pure logic | `workflow`, `index`, `routing`, `tiles`, `import` | types, each other |
//! | storage | `store` | types |
//! | services | `services`, `dispatch`, `patrol` | everything above, each other |
//! | demo data | `generate` | types, pure logic |
//! | faces | `api`, `web` | services and below (`api` never `store`), `state` |
//! | faces | `state` | services and below |
//! | faces | `cli` | anything |

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What each module may name, besides itself.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    const TYPES: &[&str] = &["geom", "model"];
    const PURE: &[&str] = &[
        "geom", "model", "workflow", "index", "routing", "tiles", "import",
    ];
    const SERVICES: &[&str] = &[
        "geom", "model", "workflow", "index", "routing", "tiles", "import", "store", "services",
        "dispatch", "patrol",
    ];
    const API: &[&str] = &[
        "geom", "model", "workflow", "index", "routing", "tiles", "import", "services", "dispatch",
        "patrol", "state", "web", "api",
    ];
    Some(match module {
        "geom" => &[],
        "model" => &["geom"],
        "workflow" | "index" | "routing" | "tiles" | "import" => PURE,
        "store" => TYPES,
        "services" | "dispatch" | "patrol" => SERVICES,
        "generate" => PURE,
        "api" | "web" => API,
        "state" => SERVICES,
        "cli" => return None,
        _ => return None,
    })
}

/// Every module a source file names through `crate::` (or `$crate::`),
/// with the line it is named on. Line comments are skipped.
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::").map(|i| from + i) {
        let after = at + "crate::".len();
        from = after;
        if code[after..].starts_with('{') {
            // `use crate::{a::x, b::{y, z}}`: the first segment of each item.
            let mut depth = 0;
            let mut item_start = after + 1;
            for (i, ch) in code[after..].char_indices() {
                let i = after + i;
                match ch {
                    '{' => depth += 1,
                    '}' | ',' if depth == 1 => {
                        let name = ident(&code[item_start..i]);
                        if !name.is_empty() {
                            found.push((line_of(item_start), name));
                        }
                        item_start = i + 1;
                        if ch == '}' {
                            break;
                        }
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
        } else {
            let name = ident(&code[after..]);
            if !name.is_empty() {
                found.push((line_of(at), name));
            }
        }
    }
    found
}

/// The top-level module a file under `src/` belongs to (`None` for the
/// crate root and the binary).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" => None,
        file if file.ends_with(".rs") => Some(file.trim_end_matches(".rs").to_owned()),
        dir => Some(dir.to_owned()),
    }
}

/// Every rule the sources break: `file:line: module uses forbidden`.
fn violations(sources: &[(PathBuf, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, text) in sources {
        let Some(module) = module_of(path) else {
            continue;
        };
        let Some(allowed) = allowed(&module) else {
            continue;
        };
        let mut seen = BTreeSet::new();
        for (line, named) in named_modules(text) {
            // `crate::text!`, the macro of `model/text.rs`, is exported at
            // the crate root but belongs to `model`.
            let named = if named == "text" {
                "model".to_owned()
            } else {
                named
            };
            if named == module || allowed.contains(&named.as_str()) {
                continue;
            }
            if seen.insert((line, named.clone())) {
                out.push(format!(
                    "src/{}:{line}: `{module}` must not use `crate::{named}`",
                    path.display()
                ));
            }
        }
    }
    out
}

fn sources() -> Vec<(PathBuf, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("src/ is readable")
            .map(|e| e.expect("an entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                let relative = path.strip_prefix(root).expect("under src").to_path_buf();
                out.push((relative, text));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

/// The sources hold the layer table.
#[test]
fn the_sources_keep_their_layers() {
    let sources = sources();
    assert!(sources.len() > 50, "read {} files", sources.len());
    let broken = violations(&sources);
    assert!(
        broken.is_empty(),
        "{} forbidden use(s):\n{}",
        broken.len(),
        broken.join("\n")
    );
}

/// The checker catches a forbidden `use` in each form it can take, names
/// the file and line, and lets allowed ones through.
#[test]
fn the_checker_names_a_forbidden_use() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let broken = violations(&[
        file("geom/coords.rs", "use crate::model::Grid;\n"),
        file(
            "store/mod.rs",
            "use crate::geom::Bbox;\nuse crate::{model::Grid,\n    index::GridIndex};\n",
        ),
        file(
            "api/grids.rs",
            "fn f() { let s = crate::store::connect; }\n",
        ),
        file(
            "store/x.rs",
            "macro_rules! m { () => { $crate::workflow::Status } }\n",
        ),
        file(
            "generate/mod.rs",
            "use crate::services::feed::Feed; // the demo\n",
        ),
        file(
            "services/grids.rs",
            "use crate::{store::Unit, import, index::GridIndex};\n",
        ),
        file(
            "model/x.rs",
            "// crate::store is only mentioned in a comment\n",
        ),
        file("cli/mod.rs", "use crate::store::connect;\n"),
    ]);
    assert_eq!(
        broken,
        vec![
            "src/geom/coords.rs:1: `geom` must not use `crate::model`",
            "src/store/mod.rs:2: `store` must not use `crate::index`",
            "src/api/grids.rs:1: `api` must not use `crate::store`",
            "src/store/x.rs:1: `store` must not use `crate::workflow`",
            "src/generate/mod.rs:1: `generate` must not use `crate::services`",
        ]
    );
}
