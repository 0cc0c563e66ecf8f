//! Generated code names nothing the user's module can shadow, and reaches the runtime through
//! `crate = ".."` when given.

#![allow(clippy::unwrap_used, clippy::expect_used)]

extern crate gipity_runtime as renamed_runtime;

mod common;

use serde_json::{Value, json};

/// Everything generated code could pick up by name is shadowed here.
#[allow(dead_code, unused_macros, non_upper_case_globals)]
mod shadowed {
    mod core {}
    mod std {}
    mod serde {}
    mod serde_json {}
    mod gipity_runtime {}
    struct Result;
    struct Option;
    struct Box;
    struct Vec;
    struct String;
    struct Client;
    struct Error;
    struct Future;
    struct Send;
    struct Debug;
    struct Serialize;
    struct Duration;
    struct RemoteFunction;
    const Ok: () = ();
    const Err: () = ();
    const Some: () = ();
    const None: () = ();
    const f: () = ();
    const __GIPITY_FUNCTION: () = ();
    macro_rules! unimplemented {
        () => {
            compile_error!("the shadowed `unimplemented!` was used")
        };
    }

    #[::gipity_runtime::function(name = "echo", auth = "public", timeout = "5s", soft_errors)]
    pub async fn echo_borrowed(
        text: &str,
        maybe: ::core::option::Option<u8>,
        list: &[u8],
    ) -> ::gipity_runtime::Result<::serde_json::Value>;

    #[::gipity_runtime::function(name = "echo", rename_all = "camelCase", permissions = 5)]
    pub async fn echo_owned(
        long_name: ::std::string::String,
        #[serde(rename = "R")] renamed: u8,
    ) -> ::gipity_runtime::Result<()>;

    #[::gipity_runtime::functions(auth = "public")]
    pub trait Shadowed {
        #[gipity(name = "echo")]
        async fn echo(
            &self,
            text: &str,
            maybe: ::core::option::Option<u8>,
        ) -> ::gipity_runtime::Result<::serde_json::Value>;
    }
}

/// The runtime under another name, through `use .. as`.
mod aliased {
    use gipity_runtime as rt;

    #[rt::function(crate = "rt", name = "echo")]
    pub async fn echo(text: &str) -> rt::Result<serde_json::Value>;

    #[rt::functions(crate = "rt")]
    pub trait Aliased {
        #[gipity(name = "echo")]
        async fn echo(&self, text: &str) -> rt::Result<serde_json::Value>;
    }
}

/// The runtime under another name, through `extern crate .. as`.
mod renamed {
    #[renamed_runtime::function(crate = "::renamed_runtime", name = "echo")]
    pub async fn echo(text: &str) -> renamed_runtime::Result<serde_json::Value>;

    #[renamed_runtime::functions(crate = "renamed_runtime")]
    pub trait Renamed {
        #[gipity(name = "echo")]
        async fn echo(&self, text: &str) -> renamed_runtime::Result<serde_json::Value>;
    }
}

#[tokio::test]
async fn every_form_calls_through() {
    let emu = common::emulator().await;
    let client = common::session_client(&emu);
    let echoed = client
        .scope(async {
            (
                shadowed::echo_borrowed("a", None, &[1, 2]).await.unwrap(),
                shadowed::echo_owned("b".into(), 7).await.unwrap(),
                aliased::echo("c").await.unwrap(),
                renamed::echo("d").await.unwrap(),
            )
        })
        .await;
    assert_eq!(echoed.0, json!({"text": "a", "list": [1, 2]}));
    assert_eq!(echoed.2, json!({"text": "c"}));
    assert_eq!(echoed.3, json!({"text": "d"}));
    let methods: [Value; 3] = [
        shadowed::Shadowed::echo(&client, "e", Some(1))
            .await
            .unwrap(),
        aliased::Aliased::echo(&client, "f").await.unwrap(),
        renamed::Renamed::echo(&client, "g").await.unwrap(),
    ];
    assert_eq!(
        methods,
        [
            json!({"text": "e", "maybe": 1}),
            json!({"text": "f"}),
            json!({"text": "g"})
        ]
    );
    let explicit = shadowed::EchoOwnedArgs {
        long_name: "h".into(),
        renamed: 8,
    }
    .call(&client)
    .await;
    assert!(explicit.is_ok());
    assert_eq!(
        emu.bodies(common::APP, "echo").get(1),
        Some(&json!({"longName": "b", "R": 7}))
    );
}
