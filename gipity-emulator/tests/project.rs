//! `Emulator::builder().project(dir)`: a Gipity app's own functions (`examples/gipity-app`),
//! run under Node.js, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{assert_error, call, call_anonymously, client, send};
use gipity_emulator::{ConsoleLine, DEFAULT_PROJECT_APP, Emulator};
use serde_json::json;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/gipity-app")
}

async fn start() -> Emulator {
    Emulator::builder().project(sample()).start().await.unwrap()
}

const APP: &str = DEFAULT_PROJECT_APP;

#[tokio::test]
async fn a_function_gets_the_platforms_ctx_and_services() {
    let emulator = start().await;
    assert_eq!(emulator.project_app(), Some(APP));
    let r = send(
        client()
            .post(format!("{}/api/{APP}/fn/hello?page=2", emulator.base_url()))
            .header("X-Request-Id", "req-7")
            .header("X-Not-Forwarded", "x")
            .json(&json!({"name": "Ada"})),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let data = &r.body["data"];
    assert_eq!(data["greeting"], "Hello, Ada!");
    assert_eq!(data["method"], "POST");
    assert_eq!(data["query"], json!({"page": "2"}));
    assert_eq!(data["headers"]["x-request-id"], "req-7");
    assert_eq!(data["headers"]["content-type"], "application/json");
    assert!(data["headers"].get("x-not-forwarded").is_none(), "{data}");
    assert_eq!(data["auth"], json!(null));
    assert_eq!(data["isTest"], false);
    assert_eq!(data["hasApiKey"], true);
    let id = data["id"].as_str().unwrap();
    assert!(
        id.starts_with("greeting-") && id.len() == "greeting-".len() + 8,
        "{id}"
    );
    assert_eq!(
        emulator.console(APP, "hello"),
        [ConsoleLine {
            level: "log".into(),
            message: "greeting Ada".into()
        }]
    );
}

#[tokio::test]
async fn auth_user_functions_need_a_signed_in_user_and_see_who() {
    let emulator = start().await;
    let r = call_anonymously(&emulator, APP, "whoami", json!({})).await;
    assert_error(&r, 401, "LOGIN_REQUIRED");
    let (user, creds) = common::signed_in(&emulator, APP, "Grace").await;
    let r = call(&emulator, APP, "whoami", json!({}), &creds).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["data"]["userGuid"], json!(user.guid));
    assert!(r.body["data"]["userId"].is_u64(), "{:?}", r.body);
    assert_eq!(r.body["data"]["displayName"], "Grace");
    assert_eq!(r.body["data"]["role"], "user");
    assert_eq!(r.body["data"]["identity"], json!(null));
}

#[tokio::test]
async fn thrown_and_soft_errors() {
    let emulator = start().await;
    let r = call_anonymously(&emulator, APP, "boom", json!({"id": 42})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(r.body["error"]["message"], "no item 42");
    assert_eq!(emulator.console(APP, "boom")[0].level, "error");
    let r = call_anonymously(&emulator, APP, "soft-fail", json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"data": {"error": "out of stock"}}));
    // Not declared, deployed anyway.
    let r = call_anonymously(&emulator, APP, "undeclared", json!({})).await;
    assert_eq!(r.body, json!({"data": "deployed anyway"}));
    let r = call_anonymously(&emulator, APP, "nothing-here", json!({})).await;
    assert_error(&r, 404, "FUNCTION_NOT_FOUND");
}

#[tokio::test]
async fn a_hung_function_is_cut_at_its_timeout_and_a_crash_is_survived() {
    let emulator = start().await;
    // Warm: one process serves call after call.
    let r = call_anonymously(&emulator, APP, "slow", json!({"ms": 10})).await;
    assert_eq!(r.body, json!({"data": {"ms": 10}}));
    let started = Instant::now();
    let r = call_anonymously(&emulator, APP, "spin", json!({})).await;
    assert_error(&r, 504, "FUNCTION_TIMEOUT");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("(300 ms)"),
        "{:?}",
        r.body
    );
    // A waiting function past its own timeout_ms (1000).
    let r = call_anonymously(&emulator, APP, "slow", json!({"ms": 3000})).await;
    assert_error(&r, 504, "FUNCTION_TIMEOUT");
    // The next call works.
    let r = call_anonymously(&emulator, APP, "slow", json!({"ms": 1})).await;
    assert_eq!(r.body, json!({"data": {"ms": 1}}));
    let r = call_anonymously(&emulator, APP, "crash", json!({})).await;
    assert_error(&r, 500, "FUNCTION_CRASHED");
    let r = call_anonymously(&emulator, APP, "slow", json!({"ms": 1})).await;
    assert_eq!(r.body, json!({"data": {"ms": 1}}));
}

#[tokio::test]
async fn what_the_emulator_does_not_provide_fails_loudly() {
    let emulator = start().await;
    let r = call_anonymously(
        &emulator,
        APP,
        "fetch-elsewhere",
        json!({"url": "http://127.0.0.1:9/"}),
    )
    .await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(
        r.body["error"]["message"],
        "fetch to 127.0.0.1 is refused: function `fetch-elsewhere` may reach only its fetch_domains in gipity.yaml (api.example.com)"
    );
    let r = call_anonymously(&emulator, APP, "ask-llm", json!({"prompt": "hi"})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(
        r.body["error"]["message"],
        "services.llm is not available in the gipity emulator; the function must not rely on it when run locally"
    );
}

#[tokio::test]
async fn the_app_guid_can_be_chosen_and_a_broken_project_is_refused() {
    let emulator = Emulator::builder()
        .project(sample())
        .project_app("p_mine")
        .start()
        .await
        .unwrap();
    let r = call_anonymously(&emulator, "p_mine", "soft-fail", json!({})).await;
    assert_eq!(r.status, 200);
    let dir = std::env::temp_dir().join(format!("gipity-project-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("gipity.yaml"),
        "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: missing\n",
    )
    .unwrap();
    let error = Emulator::builder().project(&dir).start().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("declares function `missing`, but there is no functions/missing.js or functions/missing/index.js"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let error = Emulator::builder()
        .project("/definitely/not/a/project")
        .start()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no gipity.yaml in /definitely/not/a/project"),
        "{error}"
    );
}

#[tokio::test]
async fn functions_read_and_write_a_real_postgresql() {
    let emulator = start().await;
    // COUNT(*) is an int8: a string, as node-postgres gives it.
    let r = call_anonymously(&emulator, APP, "count-items", json!({"category": "books"})).await;
    assert_eq!(
        r.body,
        json!({"data": {"raw": "2", "count": 2}}),
        "{:?}",
        r.body
    );
    let r = call_anonymously(&emulator, APP, "list-items", json!({"category": "books"})).await;
    assert_eq!(
        r.body["data"],
        json!([
            {"id": 1, "name": "Dune", "price": "12.99", "tags": ["scifi", "classic"],
             "added_at": "2026-01-01T00:00:00.000Z"},
            {"id": 2, "name": "Emma", "price": "6.79", "tags": ["classic"],
             "added_at": "2026-01-01T00:00:00.000Z"},
        ]),
        "{:?}",
        r.body
    );
    // A write is visible to the next call, and only to its user.
    let (_, alice) = common::signed_in(&emulator, APP, "Alice").await;
    let (_, bob) = common::signed_in(&emulator, APP, "Bob").await;
    let r = call(
        &emulator,
        APP,
        "add-todo",
        json!({"title": "write tests"}),
        &alice,
    )
    .await;
    assert_eq!(
        r.body,
        json!({"data": {"id": 1, "title": "write tests", "done": false}}),
        "{:?}",
        r.body
    );
    let r = call(&emulator, APP, "my-todos", json!({}), &alice).await;
    assert_eq!(
        r.body,
        json!({"data": {"todos": [{"id": 1, "title": "write tests", "done": false}], "count": 1}})
    );
    let r = call(&emulator, APP, "my-todos", json!({}), &bob).await;
    assert_eq!(r.body, json!({"data": {"todos": [], "count": 0}}));
}

#[tokio::test]
async fn only_the_listed_tables_are_reachable_and_ddl_is_refused() {
    let emulator = start().await;
    let r = call_anonymously(&emulator, APP, "peek-audit", json!({})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(
        r.body["error"]["message"],
        "function `peek-audit` may not use table `audit_log`: it is not under its `tables:` in gipity.yaml (permission denied for table audit_log)"
    );
    let r = call_anonymously(&emulator, APP, "make-table", json!({})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(
        r.body["error"]["message"],
        "`CREATE TABLE sneaky ..` is refused inside functions: DDL is blocked at run time; change the schema in migrations/"
    );
    // The refused calls left the connection usable.
    let r = call_anonymously(&emulator, APP, "count-items", json!({"category": "games"})).await;
    assert_eq!(r.body, json!({"data": {"raw": "1", "count": 1}}));
}

#[tokio::test]
async fn a_project_without_a_database_says_so_when_a_function_queries() {
    let dir = std::env::temp_dir().join(format!("gipity-nodb-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("functions")).unwrap();
    std::fs::write(
        dir.join("gipity.yaml"),
        "deploy:\n  phases:\n    - type: functions\n      function_definitions:\n        - name: q\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("functions/q.js"),
        "export default async function q(ctx, { db }) { return db.query('SELECT 1 AS one', []); }\n",
    )
    .unwrap();
    let emulator = Emulator::builder().project(&dir).start().await.unwrap();
    let r = call_anonymously(&emulator, APP, "q", json!({})).await;
    assert_error(&r, 500, "FUNCTION_ERROR");
    assert_eq!(
        r.body["error"]["message"],
        "services.db is not available: the emulator serves this project without a database, so `SELECT 1 AS one ..` (0 parameters) was not run"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_binary_serves_a_project_and_prints_what_functions_print() {
    use common::Binary;
    let dir = sample();
    let mut binary = Binary::start(&[
        "--port",
        "0",
        "--project",
        dir.to_str().unwrap(),
        "--app",
        "p_cli",
    ]);
    let base = binary.base.clone();
    let _demo = binary.next_line();
    assert_eq!(
        binary.next_line(),
        format!("project: {} as app p_cli", dir.display())
    );
    let r = send(
        client()
            .post(format!("{base}/api/p_cli/fn/hello"))
            .json(&json!({"name": "Lin"})),
    )
    .await;
    assert_eq!(r.body["data"]["greeting"], "Hello, Lin!");
    assert_eq!(binary.next_line(), "[hello] log: greeting Lin");
    // Without a Node.js to run them, the error says what to install.
    let out = std::process::Command::new(Binary::PATH)
        .args(["--port", "0", "--project", dir.to_str().unwrap()])
        .env("GIPITY_NODE", "/definitely/not/node")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Node.js 20.19 or newer is needed to run the project's functions, and `/definitely/not/node` could not be run"),
        "{stderr}"
    );
    // Without PostgreSQL for a project that has a database, likewise.
    let out = std::process::Command::new(Binary::PATH)
        .args(["--port", "0", "--project", dir.to_str().unwrap()])
        .env("GIPITY_PG_BIN", "/definitely/not/pg")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PostgreSQL is needed for the project's database (services.db), and GIPITY_PG_BIN (/definitely/not/pg) has no `initdb` and `postgres`: install PostgreSQL (Debian: `apt-get install postgresql`)"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_console_control_reads_what_a_function_printed() {
    let emulator = Emulator::builder()
        .project(sample())
        .test_controls(true)
        .start()
        .await
        .unwrap();
    call_anonymously(&emulator, APP, "hello", json!({"name": "Kim"})).await;
    let r = common::get(format!(
        "{}/__emulator/console?app={APP}&function=hello",
        emulator.base_url()
    ))
    .await;
    assert_eq!(
        r.body,
        json!({"data": {"lines": [{"level": "log", "message": "greeting Kim"}]}})
    );
    emulator.reset();
    assert!(emulator.console(APP, "hello").is_empty());
}

fn runner_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner-app")
}

#[tokio::test]
async fn one_process_serves_calls_and_survives_what_functions_leave_behind() {
    let emulator = Emulator::builder()
        .project(runner_app())
        .start()
        .await
        .unwrap();
    let first = call_anonymously(&emulator, APP, "pid", json!({})).await;
    let pid = first.body["data"].as_u64().unwrap();
    let r = call_anonymously(&emulator, APP, "reject-later", json!({})).await;
    assert_eq!(r.body, json!({"data": "answered"}));
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The same process, still serving.
    let again = call_anonymously(&emulator, APP, "pid", json!({})).await;
    assert_eq!(again.body["data"].as_u64(), Some(pid));
    // A module that throws as it loads is that call's error, each time it is called.
    for _ in 0..2 {
        let r = call_anonymously(&emulator, APP, "bad-import", json!({})).await;
        assert_error(&r, 500, "FUNCTION_ERROR");
        assert_eq!(r.body["error"]["message"], "this module cannot load");
    }
    // A large body, bytes written straight to fd 1, the machine's environment kept out.
    let text = "x".repeat(900_000);
    let r = call_anonymously(&emulator, APP, "echo", json!({"text": text})).await;
    assert_eq!(
        r.body,
        json!({"data": {"size": 900_000, "tz": "UTC", "home": null}})
    );
    let last = call_anonymously(&emulator, APP, "pid", json!({})).await;
    assert_eq!(last.body["data"].as_u64(), Some(pid));
}
