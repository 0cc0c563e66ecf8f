//! The browser part: gipity-runtime's wasm32 suite in headless Chromium against the emulator
//! binary, and the browser example (built for size, then driven end to end through
//! WebDriver), on loopback only.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::install::{CHROMEDRIVER, CHROMIUM};
use crate::proc::Background;
use crate::webdriver::{Session, wait_until};
use crate::{cargo, run, target_dir, workspace_root};

/// The emulator binary's address; the suite has it compiled in (`GIPITY_TEST_API`).
const API: &str = "127.0.0.1:8787";
/// A second emulator, another origin: where the suite's redirects point, which must receive
/// nothing (`GIPITY_TEST_ELSEWHERE`).
const ELSEWHERE: &str = "127.0.0.1:8788";
/// The test page's address. Pinned: the emulator checks the exact `Origin`, and the page and
/// the API must share a host name for the `SameSite=Lax` session cookie.
const PAGE: &str = "127.0.0.1:8000";

/// Runs `gipity-browser-tests` on wasm32 in headless Chromium.
pub fn suite() -> Result<(), String> {
    run(
        "build the emulator",
        cargo(&["build", "-p", "gipity-emulator"]),
    )?;
    let emulator = target_dir().join("debug").join("gipity-emulator");
    let addr: SocketAddr = API.parse().map_err(|e| format!("bad address {API}: {e}"))?;
    let port = addr.port().to_string();
    // It also serves the sample app's own functions (`p_local`), with its database.
    let node = crate::install::node()?;
    crate::install::postgres()?;
    let project = workspace_root().join("examples").join("gipity-app");
    let _emulator = Background::start(
        "gipity-emulator",
        Command::new(&emulator)
            .args(["--port", &port, "--test-controls", "--project"])
            .arg(&project)
            .env("GIPITY_NODE", node),
        addr,
    )?;
    let elsewhere: SocketAddr = ELSEWHERE
        .parse()
        .map_err(|e| format!("bad address {ELSEWHERE}: {e}"))?;
    let _elsewhere = Background::start(
        "gipity-emulator (the other origin)",
        Command::new(&emulator).args(["--port", &elsewhere.port().to_string(), "--test-controls"]),
        elsewhere,
    )?;
    run(
        "browser tests (wasm32, headless Chromium)",
        cargo(&[
            "test",
            "-p",
            "gipity-browser-tests",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .current_dir(workspace_root().join("browser-tests"))
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("WASM_BINDGEN_TEST_ADDRESS", PAGE)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "60")
        // The runner serves its page cross-origin isolated (COOP `same-origin`) by default,
        // which severs `window.opener` in a cross-origin popup, as it would on any app page
        // with that header: the popup flow needs `same-origin-allow-popups` or no COOP.
        .env("WASM_BINDGEN_TEST_NO_ORIGIN_ISOLATION", "1")
        .env("GIPITY_TEST_API", format!("http://{API}"))
        .env("GIPITY_TEST_ELSEWHERE", format!("http://{ELSEWHERE}")),
    )
}

/// The browser example's output: the site the emulator serves, the sizes and the screenshot.
fn example_dir() -> PathBuf {
    target_dir().join("browser-example")
}

/// Builds the browser example and its bare-reqwest baseline, then drives the example's page
/// end to end in headless Chromium through WebDriver.
pub fn example() -> Result<(), String> {
    let started = Instant::now();
    let site = build_examples()?;
    let built = started.elapsed();
    let started = Instant::now();
    println!("\n==> browser example, end to end (WebDriver, headless Chromium)");
    example_e2e(&site)?;
    println!(
        "==> browser example, end to end: ok ({:.1?})",
        started.elapsed()
    );
    let dir = example_dir();
    println!(
        "browser example: built in {built:.1?}; site {}; sizes {}; screenshot {}",
        site.display(),
        dir.join("sizes.json").display(),
        dir.join("screenshot.png").display()
    );
    Ok(())
}

/// The pages: (package, library file stem, page, where in the site). The last two make the
/// same one call, through one generated stub and by hand with reqwest: the size of a binding.
const EXAMPLES: [(&str, &str, &str, &str); 3] = [
    (
        "gipity-browser-example",
        "gipity_browser_example",
        "examples/browser/index.html",
        "",
    ),
    (
        "gipity-browser-bare-reqwest",
        "gipity_browser_bare_reqwest",
        "examples/browser-bare-reqwest/index.html",
        "bare",
    ),
    (
        "gipity-browser-min",
        "gipity_browser_min",
        "examples/browser-min/index.html",
        "min",
    ),
];

/// Builds the pages for wasm32 with `[profile.wasm-release]`, each in a cargo invocation of
/// its own (one invocation would unify their dependencies' features, and a page of bare
/// reqwest would not be what its user gets), runs wasm-bindgen, lays out the site
/// (`index.html` + `pkg/` for the example, `bare/` and `min/` for the other two) and records
/// the `_bg.wasm` sizes in `sizes.json`. Returns the site directory.
pub fn build_examples() -> Result<PathBuf, String> {
    for (package, ..) in EXAMPLES {
        run(
            &format!("build {package} alone (wasm32, wasm-release)"),
            cargo(&[
                "build",
                "--profile",
                "wasm-release",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                package,
            ]),
        )?;
    }
    let wasm_dir = target_dir()
        .join("wasm32-unknown-unknown")
        .join("wasm-release");
    let site = example_dir().join("site");
    if site.exists() {
        fs::remove_dir_all(&site).map_err(|e| format!("cannot clear {}: {e}", site.display()))?;
    }
    let mut sizes = Vec::new();
    for (package, stem, page, sub) in EXAMPLES {
        let dir = site.join(sub);
        let pkg = dir.join("pkg");
        run(
            &format!("wasm-bindgen {package}"),
            Command::new("wasm-bindgen")
                .args([
                    "--target",
                    "web",
                    "--no-typescript",
                    "--remove-name-section",
                    "--remove-producers-section",
                    "--out-dir",
                ])
                .arg(&pkg)
                .arg(wasm_dir.join(format!("{stem}.wasm"))),
        )?;
        fs::copy(workspace_root().join(page), dir.join("index.html"))
            .map_err(|e| format!("cannot copy {page}: {e}"))?;
        let wasm = pkg.join(format!("{stem}_bg.wasm"));
        let bytes = fs::metadata(&wasm)
            .map_err(|e| format!("cannot read {}: {e}", wasm.display()))?
            .len();
        sizes.push(bytes);
    }
    let [example, bare, min] = sizes[..] else {
        return Err("expected three wasm files".to_owned());
    };
    let record = json!({
        "wasm_bytes_example": example,
        "wasm_bytes_bare_reqwest": bare,
        "wasm_bytes_min": min,
        "wasm_ratio_min": min as f64 / bare as f64,
    });
    let path = example_dir().join("sizes.json");
    fs::write(&path, format!("{record:#}\n"))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "wasm sizes (opt-level z, LTO, after wasm-bindgen; no wasm-opt pass: binaryen is not \
         installable here):\n  gipity-browser-example      {example:>8} bytes\n  \
         gipity-browser-min          {min:>8} bytes (one stub: the public `add`)\n  \
         gipity-browser-bare-reqwest {bare:>8} bytes (the same `add` call by hand)\n  \
         one binding over bare reqwest: {:.3}",
        min as f64 / bare as f64
    );
    Ok(site)
}

/// ChromeDriver's address.
const DRIVER: &str = "127.0.0.1:9515";
/// The page (served by the emulator, which is also the API).
const SITE: &str = "http://127.0.0.1:8787";
/// How long the page may take for anything.
const WAIT: Duration = Duration::from_secs(20);

/// Chromium as a user has it: headless, but WITH the popup blocker (ChromeDriver turns it off
/// by default: `excludeSwitches` keeps it on), so the popup flow must open from a click.
fn capabilities() -> Value {
    json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--window-size=900,600",
            ],
            "excludeSwitches": ["disable-popup-blocking"],
        },
    })
}

/// The example's page in a real browser: the sum on load, the popup flow from a click, the
/// blocked popup resumed from a click, the redirect flow, and the baseline's page.
fn example_e2e(site: &Path) -> Result<(), String> {
    run(
        "build the emulator",
        cargo(&["build", "-p", "gipity-emulator"]),
    )?;
    let emulator = target_dir().join("debug").join("gipity-emulator");
    let api: SocketAddr = API.parse().map_err(|e| format!("bad address {API}: {e}"))?;
    let port = api.port().to_string();
    let _emulator = Background::start(
        "gipity-emulator",
        Command::new(&emulator)
            .args(["--port", &port, "--test-controls", "--serve"])
            .arg(site)
            .stdout(Stdio::null()),
        api,
    )?;
    let driver: SocketAddr = DRIVER
        .parse()
        .map_err(|e| format!("bad address {DRIVER}: {e}"))?;
    let _driver = Background::start(
        "chromedriver",
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={}", driver.port()))
            .stdout(Stdio::null()),
        driver,
    )?;
    // Dropped (the browser closed) before the driver is stopped.
    let browser = Session::new(&format!("http://{DRIVER}"), capabilities())?;
    let step = |name: &str, flow: &dyn Fn(&Session) -> Result<(), String>| {
        let started = Instant::now();
        fresh(&browser)?;
        flow(&browser).map_err(|e| format!("browser example, {name}: {e}"))?;
        println!("  {name}: ok ({:.1?})", started.elapsed());
        Ok::<(), String>(())
    };
    step("popup sign-in from a click", &popup_flow)?;
    step("blocked popup resumed from a click", &blocked_flow)?;
    step("redirect sign-in", &redirect_flow)?;
    step("streamed chat under user_pays", &chat_flow)?;
    step("bare reqwest page", &bare_flow)?;
    step("one-binding page", &min_flow)?;
    browser.quit()?;
    Ok(())
}

/// A clean slate: no cookies in the browser, no sessions or records in the emulator, and
/// nobody deciding on the login page but the test.
fn fresh(browser: &Session) -> Result<(), String> {
    // Cookies are deleted for the current page's host: load a page of the site first.
    browser.navigate(&format!("{SITE}/__emulator/counters"))?;
    browser.delete_cookies()?;
    control_post("reset")
}

/// An HTTP agent for loopback addresses: no proxy from the environment.
fn loopback_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(WAIT))
        .build()
        .into()
}

/// `POST /__emulator/<path>`.
fn control_post(path: &str) -> Result<(), String> {
    loopback_agent()
        .post(&format!("{SITE}/__emulator/{path}"))
        .send_json(json!({}))
        .map(drop)
        .map_err(|e| format!("emulator control {path}: {e}"))
}

/// `GET /__emulator/<path>`'s `data`.
fn control_get(path: &str) -> Result<Value, String> {
    let mut response = loopback_agent()
        .get(&format!("{SITE}/__emulator/{path}"))
        .call()
        .map_err(|e| format!("emulator view {path}: {e}"))?;
    let body: Value = response
        .body_mut()
        .read_json()
        .map_err(|e| format!("emulator view {path}: {e}"))?;
    Ok(body["data"].clone())
}

/// How many requests the emulator saw under `path`.
fn requests(path: &str) -> Result<usize, String> {
    Ok(control_get(&format!("requests?path={path}"))?
        .as_array()
        .map_or(0, Vec::len))
}

/// Waits until element `css` reads `expected`.
fn wait_text(browser: &Session, css: &str, expected: &str) -> Result<(), String> {
    let mut last = String::new();
    wait_until(WAIT, &format!("{css} to read {expected:?}"), || {
        let Some(element) = browser.try_find(css)? else {
            return Ok(None);
        };
        match browser.text(&element) {
            Ok(text) if text == expected => Ok(Some(())),
            Ok(text) => {
                last = text;
                Ok(None)
            }
            Err(e) if e.is("stale element reference") => Ok(None),
            Err(e) => Err(e),
        }
    })
    .map_err(|e| format!("{e} (it reads {last:?})"))
}

/// Loads the page and waits for the sum `add` computed on load.
fn open_page(browser: &Session, query: &str) -> Result<(), String> {
    browser.navigate(&format!("{SITE}/{query}"))?;
    wait_text(browser, "#sum", "2 + 3 = 5")
}

/// On the login page (in the current window): signs in as `name`.
fn approve(browser: &Session, name: &str) -> Result<(), String> {
    let field = wait_until(WAIT, "the login form", || {
        browser.try_find("input[name=display_name]")
    })?;
    browser.clear(&field)?;
    browser.send_keys(&field, name)?;
    let button = browser.find("#approve")?;
    match browser.click(&button) {
        // The popup answers and closes itself, possibly while the click is still reported.
        Err(e) if e.is("no such window") => Ok(()),
        other => other.map_err(String::from),
    }
}

/// Clicks `css`, which must open the login popup; signs in there as `name`, and comes back.
fn sign_in_in_popup(browser: &Session, css: &str, name: &str) -> Result<(), String> {
    let page = browser.window()?;
    browser.click(&browser.find(css)?)?;
    let popup = wait_until(Duration::from_secs(10), "the login popup to open", || {
        Ok(browser
            .windows()?
            .into_iter()
            .find(|handle| *handle != page))
    })
    .map_err(|e| {
        let user = browser
            .find("#user")
            .and_then(|user| browser.text(&user))
            .unwrap_or_default();
        format!("{e}; the page says {user:?}")
    })?;
    browser.switch_to(&popup)?;
    approve(browser, name)?;
    browser.switch_to(&page)?;
    wait_until(WAIT, "the popup to close itself", || {
        Ok((browser.windows()?.len() == 1).then_some(()))
    })
}

/// The sum on load; `#sign-in` clicked (a user gesture: the popup opens); approved in the
/// popup; the call retried and the user shown.
fn popup_flow(browser: &Session) -> Result<(), String> {
    open_page(browser, "")?;
    wait_text(browser, "#user", "Not signed in")?;
    sign_in_in_popup(browser, "#sign-in", "Ada Lovelace")?;
    wait_text(browser, "#user", "Signed in as Ada Lovelace")?;
    let whoami = control_get("calls?app=p_demo&function=whoami")?;
    if whoami["calls"] != json!(2) || whoami["executions"] != json!(1) {
        return Err(format!(
            "expected one LOGIN_REQUIRED and one retried call of whoami, got {whoami}"
        ));
    }
    let path = example_dir().join("screenshot.png");
    browser.screenshot(&path)?;
    println!("  screenshot of the signed-in page: {}", path.display());
    Ok(())
}

/// `?sign-in` starts the sign-in on load, without a gesture: no popup is opened (the browser
/// would block it; its popup blocker is on, checked here), `#resume` appears, and its click
/// opens the popup.
fn blocked_flow(browser: &Session) -> Result<(), String> {
    open_page(browser, "?sign-in")?;
    wait_text(
        browser,
        "#user",
        "The browser blocked the sign-in window: continue below.",
    )?;
    if !browser.displayed(&browser.find("#resume")?)? {
        return Err("#resume is not shown".to_owned());
    }
    if requests("/api/auth/login")? != 0 || browser.windows()?.len() != 1 {
        return Err("a login page was opened without a user gesture".to_owned());
    }
    let opened = browser.execute(
        "const w = window.open('about:blank', 'probe'); if (w) { w.close(); } return w !== null;",
        json!([]),
    )?;
    if opened != json!(false) {
        return Err(
            "the browser allowed a popup without a user gesture: its popup blocker is off"
                .to_owned(),
        );
    }
    sign_in_in_popup(browser, "#resume", "Grace Hopper")?;
    wait_text(browser, "#user", "Signed in as Grace Hopper")
}

/// `#sign-in-redirect`: the page goes to the login page, which comes back signed in.
fn redirect_flow(browser: &Session) -> Result<(), String> {
    open_page(browser, "")?;
    browser.click(&browser.find("#sign-in-redirect")?)?;
    wait_until(WAIT, "the login page", || {
        Ok(browser
            .current_url()?
            .starts_with(&format!("{SITE}/api/auth/login"))
            .then_some(()))
    })?;
    approve(browser, "Alan Turing")?;
    wait_until(WAIT, "the return to the page", || {
        Ok((browser.current_url()? == format!("{SITE}/")).then_some(()))
    })?;
    wait_text(browser, "#sum", "2 + 3 = 5")?;
    wait_text(browser, "#user", "Signed in as Alan Turing")?;
    if browser.windows()?.len() != 1 {
        return Err("the redirect flow opened a window".to_owned());
    }
    Ok(())
}

/// `#ask` under `user_pays` (the demo app's billing of the LLM): the anonymous request meets
/// `LOGIN_REQUIRED`, the popup handler opens the login page for IDENTITY | AI from the click,
/// the sign-in there grants both, the request goes again, and the answer (the prompt reversed,
/// the emulator's model) streams into `#answer`.
fn chat_flow(browser: &Session) -> Result<(), String> {
    open_page(browser, "")?;
    let prompt = browser.find("#prompt")?;
    browser.clear(&prompt)?;
    browser.send_keys(&prompt, "stream me an answer")?;
    sign_in_in_popup(browser, "#ask", "Ada Lovelace")?;
    wait_text(browser, "#answer", "rewsna na em maerts")?;
    let status = wait_until(WAIT, "the stream's final event", || {
        let text = browser.text(&browser.find("#chat-status")?)?;
        Ok(text.starts_with("Done (").then_some(text))
    })?;
    let logins = control_get("requests?path=/api/auth/login")?;
    let asked_for_ai = logins.as_array().is_some_and(|requests| {
        requests.iter().any(|request| {
            request["path"]
                .as_str()
                .is_some_and(|path| path.contains("permissions=5"))
        })
    });
    if !asked_for_ai {
        return Err(format!(
            "no login page asked for IDENTITY | AI (5): {logins}"
        ));
    }
    let counters = control_get("counters")?;
    if counters["llmRequests"] != json!(1) {
        return Err(format!("expected one answered LLM request, got {counters}"));
    }
    println!("  chat: {status}");
    Ok(())
}

/// The one-binding page makes the call through its stub.
fn min_flow(browser: &Session) -> Result<(), String> {
    browser.navigate(&format!("{SITE}/min/"))?;
    wait_text(browser, "#sum", "2 + 3 = 5")
}

/// The baseline's page makes the same call by hand.
fn bare_flow(browser: &Session) -> Result<(), String> {
    browser.navigate(&format!("{SITE}/bare/"))?;
    wait_text(browser, "#sum", "2 + 3 = 5")
}
