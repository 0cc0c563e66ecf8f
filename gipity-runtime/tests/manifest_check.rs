//! Stubs checked against a `gipity.yaml`: compile errors pinned in `tests/manifest/*.stderr`,
//! and cargo re-running the check when the manifest changes.
//!
//! Each group of cases builds with its own `GIPITY_MANIFEST`, so this test runs itself once
//! per group (a child process with the variable set) rather than setting it in-process.
//! rustc's messages change between releases: refresh the `.stderr` files with
//! `TRYBUILD=overwrite` after a toolchain bump.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Set in a child: which group to run.
const GROUP: &str = "GIPITY_MANIFEST_CHECK_GROUP";

/// Cases built with one `GIPITY_MANIFEST`.
struct Group {
    name: &'static str,
    /// A file of `tests/manifest/`, `off`, or unset.
    manifest: Option<&'static str>,
    /// Cases that must fail, as their `.stderr` says.
    fail: &'static [&'static str],
    /// Cases that must build and run.
    pass: &'static [&'static str],
}

const GROUPS: &[Group] = &[
    Group {
        name: "app",
        manifest: Some("app.yaml"),
        fail: &[
            "unknown-close",
            "unknown-far",
            "auth-mismatch",
            "hook-bound",
            "not-a-function",
        ],
        pass: &["matches"],
    },
    Group {
        name: "malformed",
        manifest: Some("malformed.yaml"),
        fail: &["malformed"],
        pass: &[],
    },
    Group {
        name: "wrong-type",
        manifest: Some("wrong-type.yaml"),
        fail: &["wrong-type"],
        pass: &[],
    },
    Group {
        name: "env-missing",
        manifest: Some("does-not-exist.yaml"),
        fail: &["env-missing"],
        pass: &[],
    },
    Group {
        name: "attribute",
        manifest: None,
        fail: &["manifest-missing"],
        pass: &[],
    },
    // The cases that fail against the manifest build with the check off.
    Group {
        name: "off",
        manifest: Some("off"),
        fail: &[],
        pass: &[
            "unknown-close",
            "auth-mismatch",
            "hook-bound",
            "not-a-function",
        ],
    },
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("manifest")
}

/// This file's one test, as test harnesses list it.
const NAME: &str = "manifest_check";

fn main() -> ExitCode {
    if let Ok(group) = std::env::var(GROUP) {
        run_group(&group);
        return ExitCode::SUCCESS;
    }
    // Behave as a harness does: `--list` lists the one test, and a filter that does not
    // match it runs nothing (the groups build crates: seconds, not microseconds).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        if !args.iter().any(|arg| arg == "--ignored") {
            println!("{NAME}: test");
        }
        return ExitCode::SUCCESS;
    }
    let exact = args.iter().any(|arg| arg == "--exact");
    let filters: Vec<&String> = args.iter().filter(|arg| !arg.starts_with('-')).collect();
    let selected = filters.is_empty()
        || filters.iter().any(|filter| {
            if exact {
                *filter == NAME
            } else {
                NAME.contains(filter.as_str())
            }
        });
    if !selected {
        return ExitCode::SUCCESS;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this test's executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = Vec::new();
    for group in GROUPS {
        let mut child = Command::new(&exe);
        child.env(GROUP, group.name).env_remove("GIPITY_MANIFEST");
        if let Some(manifest) = group.manifest {
            let value = if manifest == "off" {
                manifest.into()
            } else {
                dir().join(manifest).into_os_string()
            };
            child.env("GIPITY_MANIFEST", value);
        }
        println!("manifest check, group `{}`:", group.name);
        match child.status() {
            Ok(status) if status.success() => {}
            Ok(status) => failed.push(format!("{} ({status})", group.name)),
            Err(e) => failed.push(format!("{} (not started: {e})", group.name)),
        }
    }
    println!("manifest check, rebuilt when gipity.yaml changes:");
    if let Err(e) = rebuild() {
        failed.push(format!("rebuild ({e})"));
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("manifest check groups failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

/// Runs one group's cases; trybuild panics (failing the child) when one does not match.
fn run_group(group: &str) {
    let Some(group) = GROUPS.iter().find(|candidate| candidate.name == group) else {
        panic!("no group `{group}`");
    };
    let cases = trybuild::TestCases::new();
    for case in group.fail {
        cases.compile_fail(format!("tests/manifest/{case}.rs"));
    }
    for case in group.pass {
        cases.pass(format!("tests/manifest/{case}.rs"));
    }
}

const DECLARED: &str = "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: get-items\n          auth: public\n";

/// A crate of its own with a `gipity.yaml` beside it: it builds; with the function renamed in
/// the manifest (and nothing else touched) cargo re-runs the check and the build fails; with
/// the manifest restored it builds again.
fn rebuild() -> Result<(), String> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("manifest-rebuild");
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = runtime
        .parent()
        .map(|workspace| workspace.join("Cargo.lock"))
        .ok_or("no workspace")?;
    let write = |path: &Path, text: &str| {
        fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    fs::create_dir_all(root.join("src")).map_err(|e| e.to_string())?;
    write(
        &root.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"manifest-rebuild\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\ngipity-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            runtime.display().to_string()
        ),
    )?;
    fs::copy(&lock, root.join("Cargo.lock")).map_err(|e| format!("{}: {e}", lock.display()))?;
    write(
        &root.join("src").join("main.rs"),
        "#[gipity_runtime::function(name = \"get-items\")]\n\
         pub async fn get_items(category: &str) -> gipity_runtime::Result<Vec<String>>;\n\n\
         fn main() {\n    let _ = get_items;\n}\n",
    )?;
    let manifest = root.join("gipity.yaml");
    write(&manifest, DECLARED)?;
    let check = || -> Result<(bool, String), String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["check", "--offline", "--quiet", "--message-format=short"])
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", root.join("target"))
            .env_remove("GIPITY_MANIFEST")
            .env_remove("RUSTFLAGS")
            .output()
            .map_err(|e| format!("cargo did not start: {e}"))?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    };
    let (built, stderr) = check()?;
    if !built {
        return Err(format!("the first build failed:\n{stderr}"));
    }
    write(&manifest, &DECLARED.replace("get-items", "list-items"))?;
    let (built, stderr) = check()?;
    let expected = "no function `get-items` in gipity.yaml";
    if built || !stderr.contains(expected) || !stderr.contains("did you mean `list-items`?") {
        return Err(format!(
            "with `get-items` renamed in gipity.yaml, the build should fail with `{expected}`; \
             it {}:\n{stderr}",
            if built { "built" } else { "failed otherwise" }
        ));
    }
    println!(
        "  renamed in gipity.yaml: {}",
        stderr.lines().next().unwrap_or_default()
    );
    write(&manifest, DECLARED)?;
    let (built, stderr) = check()?;
    if !built {
        return Err(format!(
            "with gipity.yaml restored, the build failed:\n{stderr}"
        ));
    }
    println!("  restored: builds again");
    Ok(())
}
