//! Build script: builds the web map (`web/`, an npm project) into
//! `$OUT_DIR/web` and writes `$OUT_DIR/web_assets.rs`, the table of its files
//! that `src/web/mod.rs` embeds with `include_bytes!`, so that the binary
//! serves a working map from any folder (`cargo run` on a fresh clone).
//!
//! 1. `npm ci` in `web/` when `web/node_modules` is missing or older than
//!    `web/package-lock.json` (under a file lock: two builds of the crate, say
//!    `cargo test` and an editor's `cargo check` with another target folder,
//!    must not install at once);
//! 2. `node web/build.mjs $OUT_DIR/web` (esbuild: well under a second);
//! 3. the table: each file's path, bytes and ETag, with its brotli and gzip
//!    encodings when `build.mjs` wrote them (`FILE.br`, `FILE.gz`).
//!
//! Cargo reruns this only when the web sources, the npm manifest or the lock
//! file change. It needs Node.js 20 or later and npm on `PATH`, and the npm
//! registry on the first build.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The files and folders of `web/` whose change means a new bundle.
const WATCHED: [&str; 6] = [
    "web/src",
    "web/public",
    "web/index.html",
    "web/build.mjs",
    "web/package.json",
    "web/package-lock.json",
];

/// The oldest Node.js major version the web build is known to work with.
const MIN_NODE_MAJOR: u32 = 20;

fn main() {
    if let Err(message) = run() {
        // Cargo prints a failed build script's stderr; one clear line is enough.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    for path in WATCHED {
        println!("cargo:rerun-if-changed={path}");
    }
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let web = manifest_dir.join("web");
    let bundle = out_dir.join("web");

    check_node()?;
    install_if_stale(&web)?;
    run_tool(
        Command::new("node")
            .arg(web.join("build.mjs"))
            .arg(&bundle)
            .current_dir(&web),
        "node web/build.mjs",
    )?;
    write_asset_table(&bundle, &out_dir.join("web_assets.rs"))
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

/// Node.js and npm are there, and Node is recent enough.
fn check_node() -> Result<(), String> {
    let missing = |tool: &str, e: std::io::Error| {
        format!(
            "the web map needs {tool} to build ({e}): install Node.js {MIN_NODE_MAJOR} or later \
             with npm (Debian: `apt-get install nodejs npm`), then build again"
        )
    };
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| missing("node", e))?;
    let version = String::from_utf8_lossy(&node.stdout).trim().to_owned();
    let major: Option<u32> = version
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok());
    match major {
        Some(m) if m >= MIN_NODE_MAJOR => {}
        _ => {
            return Err(format!(
                "the web map needs Node.js {MIN_NODE_MAJOR} or later; `node --version` says {version:?}"
            ));
        }
    }
    Command::new("npm")
        .arg("--version")
        .output()
        .map_err(|e| missing("npm", e))?;
    Ok(())
}

/// `npm ci` when `node_modules` is missing or older than the lock file.
/// npm writes `node_modules/.package-lock.json` at the end of every install,
/// so its time says when the last install finished.
fn install_if_stale(web: &Path) -> Result<(), String> {
    let lock_path = web.join("package-lock.json");
    let installed = web.join("node_modules").join(".package-lock.json");
    let stale = || modified(&installed) < modified(&lock_path);
    if !stale() {
        return Ok(());
    }
    // Another build may be installing right now: wait for it, then look again.
    let guard_path = std::env::temp_dir().join(format!(
        "wangge-npm-ci-{:016x}.lock",
        fnv1a(web.to_string_lossy().as_bytes())
    ));
    let guard = File::create(&guard_path)
        .map_err(|e| format!("creating the lock file {}: {e}", guard_path.display()))?;
    guard
        .lock()
        .map_err(|e| format!("locking {}: {e}", guard_path.display()))?;
    if stale() {
        run_tool(
            // Install scripts are not run: the only one in the tree is
            // esbuild's, which checks the platform binary that npm already
            // installed as an optional dependency.
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(web),
            "npm ci (in web/)",
        )?;
    }
    drop(guard);
    Ok(())
}

/// When a file was last modified; the epoch for a missing file.
fn modified(path: &Path) -> SystemTime {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Run a command, passing its output through to the build log; an error
/// names the command and includes what it printed.
fn run_tool(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| match e.kind() {
        ErrorKind::NotFound => format!("{what}: the program is not on PATH ({e})"),
        _ => format!("{what}: could not start ({e})"),
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown with `cargo build -vv`, and in the error below when it fails. All
    // to stderr: a stdout line starting `cargo:` would be read as a directive.
    eprint!("{stdout}{stderr}");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{stdout}{stderr}",
            output.status
        ))
    }
}

/// Write the Rust table of every file under `bundle`, sorted by path.
fn write_asset_table(bundle: &Path, table: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    collect_files(bundle, bundle, &mut files)?;
    files.sort();
    if !files.iter().any(|(name, _)| name == "index.html") {
        return Err(format!(
            "web/build.mjs wrote no index.html into {}",
            bundle.display()
        ));
    }
    let mut out = String::from(
        "// Generated by build.rs from the web bundle: do not edit.\n\
         /// Every file of the web bundle, sorted by path.\n\
         static ASSETS: &[Asset] = &[\n",
    );
    let names: std::collections::HashSet<&str> =
        files.iter().map(|(name, _)| name.as_str()).collect();
    // `FILE.br` and `FILE.gz` (web/build.mjs writes them for text files)
    // are encodings of FILE, not files of their own.
    let is_encoding = |name: &str| {
        [".br", ".gz"]
            .iter()
            .any(|ext| name.strip_suffix(ext).is_some_and(|f| names.contains(f)))
    };
    let include = |path: &Path| -> Result<String, String> {
        let text = path
            .to_str()
            .ok_or_else(|| format!("{} is not valid UTF-8", path.display()))?;
        // `{:?}` writes a Rust string literal with any quotes or backslashes escaped.
        Ok(format!("include_bytes!({text:?})"))
    };
    for (name, path) in files.iter().filter(|(name, _)| !is_encoding(name)) {
        let bytes = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let encoded = |ext: &str| -> Result<String, String> {
            let sibling = PathBuf::from(format!("{}.{ext}", path.display()));
            if names.contains(format!("{name}.{ext}").as_str()) {
                Ok(format!("Some({})", include(&sibling)?))
            } else {
                Ok("None".to_owned())
            }
        };
        let _ = writeln!(
            out,
            "    Asset {{ path: {name:?}, bytes: {}, etag: \"\\\"{:016x}\\\"\", brotli: {}, gzip: {} }},",
            include(path)?,
            fnv1a(&bytes),
            encoded("br")?,
            encoded("gz")?,
        );
    }
    out.push_str("];\n");
    fs::write(table, out).map_err(|e| format!("writing {}: {e}", table.display()))
}

/// Every file under `dir` as (path relative to `root` with `/` separators, full path).
fn collect_files(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_files(root, &path, files)?;
        } else {
            let relative = path
                .strip_prefix(root)
                .map_err(|e| format!("{} is outside {}: {e}", path.display(), root.display()))?;
            let name: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((name.join("/"), path));
        }
    }
    Ok(())
}

/// 64-bit FNV-1a: a stable content hash for ETags (not for security: the
/// bytes are our own build's).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
