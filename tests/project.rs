//! A Gipity app's Rust client against its own JavaScript backend (`examples/gipity-app`):
//! stubs checked against the app's `gipity.yaml`, functions run by the emulator under Node.js
//! with a real PostgreSQL, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use gipity_emulator::Emulator;
use gipity_runtime::{Client, Credentials, Error, Result};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, PartialEq, Deserialize)]
pub struct Item {
    pub id: u32,
    pub name: String,
    pub price: String,
    pub tags: Vec<String>,
}

#[derive(Debug, PartialEq, Deserialize)]
pub struct Todo {
    pub id: u32,
    pub title: String,
    pub done: bool,
}

#[derive(Debug, PartialEq, Deserialize)]
pub struct Todos {
    pub todos: Vec<Todo>,
    pub count: u64,
}

/// The app's functions; every level of `auth` comes from its manifest.
#[gipity_runtime::functions(manifest = "../examples/gipity-app/gipity.yaml")]
pub trait App {
    #[gipity(name = "list-items")]
    async fn list_items(&self, category: &str) -> Result<Vec<Item>>;
    #[gipity(name = "count-items")]
    async fn count_items(&self, category: &str) -> Result<Value>;
    #[gipity(name = "add-todo")]
    async fn add_todo(&self, title: &str) -> Result<Todo>;
    #[gipity(name = "my-todos")]
    async fn my_todos(&self) -> Result<Todos>;
    async fn boom(&self, id: u32) -> Result<()>;
    #[gipity(name = "soft-fail", soft_errors)]
    async fn soft_fail(&self) -> Result<Value>;
    #[gipity(name = "peek-audit")]
    async fn peek_audit(&self) -> Result<Value>;
    async fn spin(&self) -> Result<()>;
}

async fn start() -> (Emulator, Client) {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/gipity-app");
    let emulator = Emulator::builder().project(project).start().await.unwrap();
    let client = Client::builder(gipity_emulator::DEFAULT_PROJECT_APP)
        .base_url(emulator.base_url())
        .credentials(Credentials::anonymous())
        .build()
        .unwrap();
    (emulator, client)
}

fn signed_in(emulator: &Emulator, name: &str) -> Client {
    let app = gipity_emulator::DEFAULT_PROJECT_APP;
    let user = emulator.create_user(name);
    emulator.grant_consent(&user, app, 1);
    let cookie = emulator.sign_in(&user);
    Client::builder(app)
        .base_url(emulator.base_url())
        .credentials(Credentials::session().with_cookies(cookie))
        .build()
        .unwrap()
}

/// The platform's code and message of an HTTP error.
fn http(error: &Error) -> (u16, &str, &str) {
    match error {
        Error::Http {
            status,
            code,
            message,
            ..
        } => (
            *status,
            code.as_deref().unwrap_or_default(),
            message.as_deref().unwrap_or_default(),
        ),
        other => panic!("not an HTTP error: {other:?}"),
    }
}

#[tokio::test]
async fn results_come_from_the_database_and_writes_are_seen_by_the_next_call() {
    let (emulator, client) = start().await;
    let books = client.list_items("books").await.unwrap();
    assert_eq!(
        books,
        [
            Item {
                id: 1,
                name: "Dune".into(),
                price: "12.99".into(),
                tags: vec!["scifi".into(), "classic".into()],
            },
            Item {
                id: 2,
                name: "Emma".into(),
                price: "6.79".into(),
                tags: vec!["classic".into()],
            },
        ]
    );
    assert_eq!(
        client.count_items("books").await.unwrap(),
        json!({"raw": "2", "count": 2})
    );
    let ada = signed_in(&emulator, "Ada");
    let added = ada.add_todo("ship it").await.unwrap();
    assert_eq!(added.title, "ship it");
    assert_eq!(
        ada.my_todos().await.unwrap(),
        Todos {
            todos: vec![added],
            count: 1
        }
    );
}

#[tokio::test]
async fn auth_user_from_the_manifest_needs_a_sign_in() {
    let (emulator, client) = start().await;
    let err = client.my_todos().await.unwrap_err();
    assert!(
        matches!(err, Error::CredentialUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(
        emulator.calls(gipity_emulator::DEFAULT_PROJECT_APP, "my-todos"),
        0
    );
    let grace = signed_in(&emulator, "Grace");
    assert_eq!(grace.my_todos().await.unwrap().count, 0);
}

#[tokio::test]
async fn thrown_soft_refused_and_timed_out_calls_are_typed_errors() {
    let (_emulator, client) = start().await;
    let err = client.boom(42).await.unwrap_err();
    assert_eq!(http(&err), (500, "FUNCTION_ERROR", "no item 42"));
    let err = client.soft_fail().await.unwrap_err();
    assert!(
        matches!(&err, Error::Function { function, message, .. }
            if function == "soft-fail" && message == "out of stock"),
        "{err:?}"
    );
    let err = client.peek_audit().await.unwrap_err();
    let (status, code, message) = http(&err);
    assert_eq!((status, code), (500, "FUNCTION_ERROR"));
    assert!(
        message.contains("may not use table `audit_log`"),
        "{message}"
    );
    let err = client.spin().await.unwrap_err();
    assert_eq!(
        http(&err),
        (
            504,
            "FUNCTION_TIMEOUT",
            "function `spin` ran longer than its timeout (300 ms)"
        )
    );
}
