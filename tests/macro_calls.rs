//! Generated stubs over real HTTP against the emulator: the bodies they send, the names they
//! call, their auth, timeout and soft-error options, and auth recovery through generated code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{APP, builder, emulator, login_client, session_client, signed_in_client};
use gipity_emulator::{Auth, Fault, Target, Times};
use gipity_runtime::{CallOptions, CookieJar, CredentialKind, Credentials, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: u64,
    pub name: String,
}

/// Every parameter kind: borrowed `&str` and `&T`, owned values.
#[gipity_runtime::function(name = "echo", auth = "public")]
pub async fn echo_params(
    category: &str,
    item: &Item,
    count: u32,
    tags: Vec<String>,
) -> Result<Value>;

/// Renamed keys and an optional parameter.
#[gipity_runtime::function(name = "echo", rename_all = "camelCase", auth = "public")]
pub async fn save_progress(
    level: u32,
    high_score: u64,
    note: Option<String>,
    #[serde(rename = "player-id")] player: &str,
) -> Result<Value>;

/// The remote name is the fn's name by default.
#[gipity_runtime::function(auth = "public")]
pub async fn echo(r#type: &str) -> Result<Value>;

/// A dashed remote name.
#[gipity_runtime::function(name = "get-items", auth = "public")]
pub async fn get_items(category: &str) -> Result<Vec<Item>>;

/// `()` accepts any `data`.
#[gipity_runtime::function(name = "echo", auth = "public")]
pub async fn forget(payload: Value) -> Result<()>;

/// Needs a signed-in user.
#[gipity_runtime::function(auth = "user")]
pub async fn whoami() -> Result<Value>;

/// Auth left to `gipity.yaml`.
#[gipity_runtime::function(name = "whoami")]
pub async fn whoami_undeclared() -> Result<Value>;

/// A short per-function timeout.
#[gipity_runtime::function(name = "echo", auth = "public", timeout = "200ms")]
pub async fn echo_quickly(value: u32) -> Result<Value>;

/// Soft failures are errors.
#[gipity_runtime::function(name = "echo", auth = "public", soft_errors)]
pub async fn echo_strictly(value: u32) -> Result<Value>;

/// Not re-sent after a completed sign-in or consent.
#[gipity_runtime::function(name = "whoami", auth = "user", resend_after_auth = false)]
pub async fn whoami_once() -> Result<Value>;

/// The shop, as methods of `Client`.
#[gipity_runtime::functions(auth = "user", rename_all = "camelCase")]
pub trait Shop {
    /// Public, under another name, with its own timeout.
    #[gipity(name = "get-items", auth = "public", timeout = "200ms")]
    async fn list_items(&self, category: &str, page_size: Option<u32>) -> Result<Vec<Item>>;

    /// A user function (the trait's default).
    async fn checkout(&self, cart_items: &[Item], gift_note: Option<&str>) -> Result<Value>;

    /// The same function as `checkout`, but public and soft-failing.
    #[gipity(name = "checkout", auth = "public", soft_errors)]
    async fn checkout_public(&self, cart_items: &[Item]) -> Result<Value>;
}

/// The emulator of `common`, plus `get-items` (public) and `checkout` (user, echoes its body).
async fn shop_emulator() -> gipity_emulator::Emulator {
    let emu = emulator().await;
    emu.app(APP).function("get-items", Auth::Public, |call| {
        let category = call.body["category"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(json!([{"id": 1, "name": format!("{category} #1")}]))
    });
    emu.app(APP)
        .function("checkout", Auth::User, |call| Ok(call.body));
    emu
}

fn anonymous_client(emu: &gipity_emulator::Emulator) -> gipity_runtime::Client {
    builder(emu)
        .credentials(Credentials::anonymous())
        .build()
        .unwrap()
}

#[tokio::test]
async fn bodies_are_the_parameters() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let item = Item {
        id: 7,
        name: "Dune".into(),
    };
    let echoed = client
        .scope(echo_params("books", &item, 3, vec!["new".into()]))
        .await
        .unwrap();
    let expected = json!({
        "category": "books",
        "item": {"id": 7, "name": "Dune"},
        "count": 3,
        "tags": ["new"],
    });
    assert_eq!(echoed, expected);
    assert_eq!(emu.bodies(APP, "echo"), [expected]);
}

#[tokio::test]
async fn keys_are_renamed_and_none_is_left_out() {
    let emu = emulator().await;
    let client = session_client(&emu);
    client
        .scope(async {
            save_progress(3, 1200, None, "p1").await.unwrap();
            save_progress(4, 1300, Some("best run".into()), "p1")
                .await
                .unwrap();
        })
        .await;
    assert_eq!(
        emu.bodies(APP, "echo"),
        [
            json!({"level": 3, "highScore": 1200, "player-id": "p1"}),
            json!({"level": 4, "highScore": 1300, "note": "best run", "player-id": "p1"}),
        ]
    );
}

#[tokio::test]
async fn remote_names() {
    let emu = shop_emulator().await;
    let client = session_client(&emu);
    let (items, echoed) = client
        .scope(async { (get_items("books").await, echo("raw").await) })
        .await;
    assert_eq!(
        items.unwrap(),
        [Item {
            id: 1,
            name: "books #1".into()
        }]
    );
    assert_eq!(echoed.unwrap(), json!({"type": "raw"}));
    assert_eq!(emu.calls(APP, "get-items"), 1);
    assert_eq!(emu.calls(APP, "echo"), 1);
}

#[tokio::test]
async fn unit_return_accepts_any_data() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let () = client
        .scope(forget(json!({"any": ["thing", 1]})))
        .await
        .unwrap();
    assert_eq!(emu.executions(APP, "echo"), 1);
}

#[tokio::test]
async fn explicit_client_needs_no_ambient_one() {
    let emu = shop_emulator().await;
    let client = session_client(&emu);
    let items = GetItemsArgs { category: "games" }
        .call(&client)
        .await
        .unwrap();
    assert_eq!(items[0].name, "games #1");
    let echoed = SaveProgressArgs {
        level: 1,
        high_score: 2,
        note: None,
        player: "p2",
    }
    .call(&client)
    .await
    .unwrap();
    assert_eq!(
        echoed,
        json!({"level": 1, "highScore": 2, "player-id": "p2"})
    );
}

#[tokio::test]
async fn without_an_ambient_client_nothing_is_sent() {
    let emu = shop_emulator().await;
    // This test binary never installs a client, so only a scope provides one.
    let err = get_items("books").await.unwrap_err();
    assert!(matches!(err, Error::NoClient), "{err:?}");
    assert_eq!(emu.counters().http_requests, 0);
}

#[tokio::test]
async fn public_functions_work_anonymously() {
    let emu = shop_emulator().await;
    let client = anonymous_client(&emu);
    let items = client.scope(get_items("books")).await.unwrap();
    assert_eq!(items.len(), 1);
    let mint_requests = emu.counters().token_mints;
    assert_eq!(mint_requests, 0, "an anonymous client mints nothing");
}

#[tokio::test]
async fn user_functions_fail_closed_without_a_credential() {
    let emu = emulator().await;
    let client = anonymous_client(&emu);
    let err = client.scope(whoami()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::CredentialUnavailable {
                credential: CredentialKind::None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "whoami"), 0, "nothing was sent");
    assert_eq!(emu.counters().http_requests, 0);
}

#[tokio::test]
async fn user_functions_work_for_a_signed_in_user() {
    let emu = emulator().await;
    let (client, user) = signed_in_client(&emu);
    let (declared, undeclared) = client
        .scope(async { (whoami().await, whoami_undeclared().await) })
        .await;
    assert_eq!(declared.unwrap()["guid"], json!(user.guid));
    assert_eq!(undeclared.unwrap()["guid"], json!(user.guid));
}

#[tokio::test]
async fn login_required_goes_to_the_handler_and_is_retried_once() {
    let emu = emulator().await;
    let user = emu.create_user("Erin");
    let (client, runs) = login_client(&emu, CookieJar::new(), user.clone());
    let me = client.scope(whoami()).await.unwrap();
    assert_eq!(me["guid"], json!(user.guid));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(emu.calls(APP, "whoami"), 2, "the call and its one retry");
    assert_eq!(emu.executions(APP, "whoami"), 1);
}

#[tokio::test]
async fn login_required_without_a_handler_is_a_typed_error() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let err = client.scope(whoami()).await.unwrap_err();
    assert!(matches!(err, Error::LoginRequired(_)), "{err:?}");
    assert_eq!(emu.executions(APP, "whoami"), 0);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let emu = emulator().await;
    let client = session_client(&emu);
    client.scope(echo("first")).await.unwrap();
    assert_eq!(emu.counters().token_mints, 1);
    emu.expire_tokens();
    let echoed = client.scope(echo("second")).await.unwrap();
    assert_eq!(echoed, json!({"type": "second"}));
    assert_eq!(emu.counters().token_mints, 2, "one refresh");
    assert_eq!(
        emu.calls(APP, "echo"),
        3,
        "the rejected call and its one retry"
    );
    assert_eq!(emu.executions(APP, "echo"), 2);
}

#[tokio::test]
async fn the_timeout_argument_bounds_the_call() {
    let emu = emulator().await;
    let client = session_client(&emu);
    emu.inject(
        Target::function(APP, "echo"),
        Fault::Delay(Duration::from_secs(2)),
        Times::Once,
    );
    let err = client.scope(echo_quickly(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(timeout) if timeout == Duration::from_millis(200)),
        "{err:?}"
    );
    // The client's own timeout (30 s) still applies to other stubs.
    assert_eq!(
        client.scope(echo_quickly(2)).await.unwrap(),
        json!({"value": 2})
    );
}

#[tokio::test]
async fn soft_errors_are_errors_only_when_asked() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let soft = || Fault::SoftError("out of stock".into());
    emu.inject(Target::function(APP, "echo"), soft(), Times::Once);
    let err = client.scope(echo_strictly(1)).await.unwrap_err();
    let Error::Function {
        function, message, ..
    } = &err
    else {
        panic!("expected Error::Function, got {err:?}");
    };
    assert_eq!(
        (function.as_str(), message.as_str()),
        ("echo", "out of stock")
    );
    emu.inject(Target::function(APP, "echo"), soft(), Times::Once);
    let data = client.scope(echo_quickly(1)).await.unwrap();
    assert_eq!(data, json!({"error": "out of stock"}));
}

#[tokio::test]
async fn trait_methods_call_through_the_client() {
    let emu = shop_emulator().await;
    let (client, _) = signed_in_client(&emu);
    let items = client.list_items("books", None).await.unwrap();
    assert_eq!(items[0].name, "books #1");
    let cart = [Item {
        id: 1,
        name: "Dune".into(),
    }];
    let receipt = client.checkout(&cart, Some("for you")).await.unwrap();
    assert_eq!(
        receipt,
        json!({"cartItems": [{"id": 1, "name": "Dune"}], "giftNote": "for you"})
    );
    client.list_items("games", Some(5)).await.unwrap();
    assert_eq!(
        emu.bodies(APP, "get-items"),
        [
            json!({"category": "books"}),
            json!({"category": "games", "pageSize": 5})
        ]
    );
}

#[tokio::test]
async fn trait_methods_keep_their_overrides() {
    let emu = shop_emulator().await;
    let client = anonymous_client(&emu);
    // `list_items` is public by override; `checkout` keeps the trait's `user` and fails closed.
    assert!(client.list_items("books", None).await.is_ok());
    let err = client.checkout(&[], None).await.unwrap_err();
    assert!(
        matches!(err, Error::CredentialUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(emu.calls(APP, "checkout"), 0);
    // The override's timeout applies to its method only.
    emu.inject(
        Target::function(APP, "get-items"),
        Fault::Delay(Duration::from_secs(2)),
        Times::Once,
    );
    let err = client.list_items("books", None).await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // Soft errors by override.
    emu.inject(
        Target::function(APP, "checkout"),
        Fault::SoftError("closed".into()),
        Times::Once,
    );
    let err = client.checkout_public(&[]).await.unwrap_err();
    assert!(matches!(err, Error::Function { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_can_be_spawned() {
    let emu = shop_emulator().await;
    let client = session_client(&emu);
    let free = tokio::spawn(client.scope(get_items("spawned")));
    let method = tokio::spawn({
        let client = client.clone();
        async move { client.list_items("spawned", None).await }
    });
    assert_eq!(free.await.unwrap().unwrap()[0].name, "spawned #1");
    assert_eq!(method.await.unwrap().unwrap()[0].name, "spawned #1");
    assert_eq!(emu.calls(APP, "get-items"), 2);
}

/// The request ids of the calls to `function`, in order; `(generated)` for the 32 hex digits
/// the runtime makes for a call that was given none.
fn request_ids(emu: &gipity_emulator::Emulator, function: &str) -> Vec<Option<String>> {
    let path = format!("/api/{APP}/fn/{function}");
    emu.requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| {
            r.header("x-request-id").map(|id| {
                let generated = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
                if generated {
                    "(generated)".to_owned()
                } else {
                    id.to_owned()
                }
            })
        })
        .collect()
}

#[tokio::test]
async fn call_options_reach_one_call_through_the_args_struct() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let options = CallOptions::new().request_id("order-7c1f");
    let echoed = EchoArgs { r#type: "x" }
        .call_with(&client, &options)
        .await
        .unwrap();
    assert_eq!(echoed, json!({"type": "x"}));
    // `call` sends one of its own.
    EchoArgs { r#type: "y" }.call(&client).await.unwrap();
    assert_eq!(
        request_ids(&emu, "echo"),
        [
            Some("order-7c1f".to_owned()),
            Some("(generated)".to_owned())
        ]
    );

    // A timeout for one call, shorter than the stub's own 200 ms.
    emu.inject(
        Target::function(APP, "echo"),
        Fault::Delay(Duration::from_secs(2)),
        Times::Once,
    );
    let err = EchoQuicklyArgs { value: 1 }
        .call_with(
            &client,
            &CallOptions::new().timeout(Duration::from_millis(50)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(t) if t == Duration::from_millis(50)),
        "{err:?}"
    );
}

#[tokio::test]
async fn scoped_call_options_reach_free_stubs_and_trait_methods() {
    let emu = emulator().await;
    let (client, _user) = signed_in_client(&emu);
    let scoped = CallOptions::new().request_id("scoped-1");
    scoped
        .clone()
        .scope(client.scope(async {
            echo("a").await.unwrap();
            // Options given to the call win over the scoped ones.
            EchoArgs { r#type: "b" }
                .call_with(&client, &CallOptions::new().request_id("explicit-2"))
                .await
                .unwrap();
            // A nested options scope wins over the outer one.
            CallOptions::new()
                .request_id("inner-3")
                .scope(echo("c"))
                .await
                .unwrap();
        }))
        .await;
    // Outside the scope, one of the runtime's.
    client.scope(echo("d")).await.unwrap();
    assert_eq!(
        request_ids(&emu, "echo"),
        [
            Some("scoped-1".to_owned()),
            Some("explicit-2".to_owned()),
            Some("inner-3".to_owned()),
            Some("(generated)".to_owned()),
        ]
    );
    // A trait method, and a scoped timeout that wins over the method's own 200 ms.
    emu.inject(
        Target::function(APP, "get-items"),
        Fault::Delay(Duration::from_secs(2)),
        Times::Once,
    );
    let err = CallOptions::new()
        .timeout(Duration::from_millis(60))
        .request_id("trait-4")
        .scope(client.list_items("books", None))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout(t) if t == Duration::from_millis(60)),
        "{err:?}"
    );
    assert_eq!(request_ids(&emu, "get-items"), [Some("trait-4".to_owned())]);
}

#[tokio::test]
async fn a_scoped_request_id_names_one_call() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let second = CallOptions::new()
        .request_id("only-once")
        .scope(client.scope(async {
            echo("first").await.unwrap();
            echo("second").await
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(&second, Error::InvalidRequest(message) if message.contains("taken by an earlier call")),
        "{second:?}"
    );
    // The second call was not sent; the first carried the id.
    assert_eq!(request_ids(&emu, "echo"), [Some("only-once".to_owned())]);
    // A call that brings its own id is fine in such a scope, and a scope without one is too.
    CallOptions::new()
        .request_id("scoped")
        .scope(client.scope(async {
            echo("a").await.unwrap();
            EchoArgs { r#type: "b" }
                .call_with(&client, &CallOptions::new().request_id("own"))
                .await
                .unwrap();
        }))
        .await;
    CallOptions::new()
        .timeout(Duration::from_secs(5))
        .scope(client.scope(async {
            echo("c").await.unwrap();
            echo("d").await.unwrap();
        }))
        .await;
    let ids = request_ids(&emu, "echo");
    assert_eq!(
        ids[1..],
        [
            Some("scoped".to_owned()),
            Some("own".to_owned()),
            Some("(generated)".to_owned()),
            Some("(generated)".to_owned()),
        ]
    );
    let generated: Vec<String> = emu
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(&format!("/api/{APP}/fn/echo")))
        .filter_map(|r| r.header("x-request-id").map(str::to_owned))
        .collect();
    assert_ne!(generated[3], generated[4], "each call its own id");
}

#[tokio::test]
async fn auth_status_carries_a_request_id_and_me_none() {
    let emu = emulator().await;
    let client = session_client(&emu);
    client
        .auth_status(gipity_runtime::Permissions::IDENTITY)
        .await
        .unwrap();
    client.me().await.unwrap();
    let carried: Vec<bool> = emu
        .requests()
        .iter()
        .filter(|r| r.path.contains("/auth/status") || r.path.contains("/auth/me"))
        .map(|r| r.header("x-request-id").is_some())
        .collect();
    // `me` stays a request a browser sends without a CORS preflight.
    assert_eq!(carried, [true, false]);
}

#[tokio::test]
async fn a_bad_request_id_fails_before_sending() {
    let emu = emulator().await;
    let client = session_client(&emu);
    let long = "x".repeat(201);
    for id in ["", "a b", "caf\u{e9}", "a\nb", long.as_str()] {
        let err = EchoArgs { r#type: "x" }
            .call_with(&client, &CallOptions::new().request_id(id))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id:?}: {err:?}");
    }
    assert_eq!(emu.calls(APP, "echo"), 0);
    // The longest allowed one goes through.
    let longest = "x".repeat(200);
    EchoArgs { r#type: "x" }
        .call_with(&client, &CallOptions::new().request_id(longest.as_str()))
        .await
        .unwrap();
    assert_eq!(request_ids(&emu, "echo"), [Some(longest)]);
}

/// The crate docs' first example (`gipity-runtime/src/lib.rs`), run against the emulator: the
/// three ways to call a stub.
mod guide {
    use super::Item;
    use gipity_emulator::{Auth, Emulator};
    use gipity_runtime::{Client, Result};

    #[gipity_runtime::function(name = "get-items", auth = "public")]
    pub async fn get_items(category: &str) -> Result<Vec<Item>>;

    #[gipity_runtime::functions(auth = "user")]
    pub trait Shop {
        #[gipity(name = "get-items", auth = "public")]
        async fn list_items(&self, category: &str) -> Result<Vec<Item>>;
    }

    #[tokio::test]
    async fn the_three_ways_to_call_a_stub() {
        let emulator = Emulator::start().await.unwrap();
        emulator
            .app("p_shop")
            .function("get-items", Auth::Public, |call| {
                Ok(serde_json::json!([{ "id": 1, "name": call.body["category"] }]))
            });
        let client = Client::builder("p_shop")
            .base_url(emulator.base_url())
            .build()
            .unwrap();
        let books = client.scope(get_items("books")).await.unwrap();
        let games = GetItemsArgs { category: "games" }
            .call(&client)
            .await
            .unwrap();
        let music = client.list_items("music").await.unwrap();
        assert_eq!(books[0].name, "books");
        assert_eq!(games[0].name, "games");
        assert_eq!(music[0].name, "music");
    }
}

#[tokio::test]
async fn resend_after_auth_false_reaches_the_call() {
    let emu = emulator().await;
    let user = emu.create_user("Hal");
    let (client, runs) = login_client(&emu, CookieJar::new(), user);
    let err = client.scope(whoami_once()).await.unwrap_err();
    let Error::LoginRequired(challenge) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        challenge.outcome(),
        Some(gipity_runtime::AuthOutcome::Completed)
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(emu.calls(APP, "whoami"), 1, "not sent again");
    // Signed in now: the next call goes through.
    let me = client.scope(whoami_once()).await.unwrap();
    assert_eq!(me["displayName"], "Hal");
}
