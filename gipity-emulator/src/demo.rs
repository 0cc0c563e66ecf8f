//! The demo app `p_demo`, served by the binary and by `builder().demo(true)`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::app::App;
use crate::model::{Auth, FnError, permissions};

/// The demo app's GUID.
pub const DEMO_APP: &str = "p_demo";
/// The demo user's display name (a member of the demo app).
pub const DEMO_USER: &str = "Demo User";

/// The longest wait of the demo function `slow`, in milliseconds.
const MAX_SLOW_MS: u64 = 10_000;

/// Registers the demo app's functions on `app` (its user is the emulator's to create).
pub(crate) fn install(app: &App) {
    app.function("echo", Auth::Public, |call| Ok(call.body))
        .function("add", Auth::Public, |call| add(&call.body))
        .function("whoami", Auth::User, |call| Ok(json!(call.user)))
        .function("boom", Auth::Public, |_| {
            Err(FnError::new("boom: the demo function failed"))
        })
        .function("secret", Auth::Member, |call| {
            Ok(json!({
                "secret": "the demo app's secret",
                "for": call.user.map(|u| u.display_name),
            }))
        })
        .function_with_permissions(
            "consented-ai",
            Auth::User,
            permissions::IDENTITY | permissions::AI,
            |_| Ok(json!({ "ok": true })),
        )
        // Asynchronous, so a waiting call holds up no other request.
        .async_function("slow", Auth::Public, |call| async move {
            let ms = slow_ms(&call.body)?;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(call.body)
        });
}

/// `{"ms": N}` -> how long `slow` waits: N capped at [`MAX_SLOW_MS`], 0 when absent.
fn slow_ms(body: &Value) -> Result<u64, FnError> {
    match body.get("ms") {
        None | Some(Value::Null) => Ok(0),
        Some(ms) => ms
            .as_u64()
            .map(|ms| ms.min(MAX_SLOW_MS))
            .ok_or_else(|| FnError::new("`ms` must be a whole number of milliseconds")),
    }
}

/// `{a, b}` -> `a + b`; integers stay integers while they fit.
fn add(body: &Value) -> Result<Value, FnError> {
    let operand = |name: &str| {
        body.get(name)
            .filter(|v| v.is_number())
            .ok_or_else(|| FnError(format!("`{name}` must be a number")))
    };
    let (a, b) = (operand("a")?, operand("b")?);
    if let Some(sum) = a
        .as_i64()
        .zip(b.as_i64())
        .and_then(|(x, y)| x.checked_add(y))
    {
        return Ok(json!(sum));
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => Ok(json!(x + y)),
        _ => Err(FnError::new("the operands must be numbers")),
    }
}

#[cfg(test)]
mod tests {
    use super::{add, slow_ms};
    use serde_json::json;

    #[test]
    fn slow_waits_are_capped() {
        assert_eq!(slow_ms(&json!({})), Ok(0));
        assert_eq!(slow_ms(&json!({"ms": 250})), Ok(250));
        assert_eq!(slow_ms(&json!({"ms": 999_999})), Ok(10_000));
        assert!(slow_ms(&json!({"ms": -1})).is_err());
        assert!(slow_ms(&json!({"ms": "5"})).is_err());
    }

    #[test]
    fn adds() {
        assert_eq!(add(&json!({"a": 2, "b": 3})), Ok(json!(5)));
        assert_eq!(add(&json!({"a": 1.5, "b": 1})), Ok(json!(2.5)));
        assert_eq!(
            add(&json!({"a": i64::MAX, "b": 1})),
            Ok(json!(9_223_372_036_854_775_808.0))
        );
        assert!(add(&json!({"a": "1", "b": 2})).is_err());
        assert!(add(&json!({"a": 1})).is_err());
        assert!(add(&json!([1, 2])).is_err());
    }
}
