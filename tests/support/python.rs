//! The Python clients the tests drive (Schemathesis, openapi-spec-validator,
//! OWSLib, the `georeport` Open311 client), from PyPI, in a virtual
//! environment under `target/python-tools` made from
//! `tests/python/requirements.txt`. The test command makes it first; a test
//! run without it makes it on first use. A test never passes by not
//! running: no Python, no PyPI, a failure that says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// The project's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The virtual environment's directory.
pub fn venv() -> PathBuf {
    root().join("target").join("python-tools")
}

/// A script of `tests/python`.
pub fn script(name: &str) -> PathBuf {
    root().join("tests").join("python").join(name)
}

/// The environment's Python, the environment made or brought up to date
/// first (its stamp is the requirements file it was made from).
pub fn python() -> PathBuf {
    static READY: Mutex<bool> = Mutex::new(false);
    let mut ready = READY.lock().unwrap_or_else(|p| p.into_inner());
    let venv = venv();
    let python = venv.join("bin").join("python");
    if *ready {
        return python;
    }
    let requirements = script("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/python/requirements.txt");
    let stamp = venv.join("requirements.stamp");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run_ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run_ok(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements),
        );
        std::fs::write(&stamp, &wanted).expect("the stamp is written");
    }
    *ready = true;
    python
}

/// A tool of the environment (`schemathesis`, `openapi-spec-validator`).
pub fn tool(name: &str) -> Command {
    let python = python();
    Command::new(python.with_file_name(name))
}

/// Run to success; the output.
#[track_caller]
pub fn run_ok(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} does not start ({e}); run scripts/test"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
