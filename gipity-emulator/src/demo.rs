//! The demo app `p_demo`, served by the binary and by `builder().demo(true)`.

use serde_json::{Value, json};

use crate::Emulator;
use crate::model::{Auth, FnError, User};

/// The demo app's GUID.
pub const DEMO_APP: &str = "p_demo";
/// The demo user's display name (a member of the demo app).
pub const DEMO_USER: &str = "Demo User";

/// Registers the demo app and its user on `emulator`; returns the user.
pub(crate) fn install(emulator: &Emulator) -> User {
    let app = emulator.app(DEMO_APP);
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
        });
    let user = emulator.create_user(DEMO_USER);
    app.add_member(&user);
    user
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
    use super::add;
    use serde_json::json;

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
