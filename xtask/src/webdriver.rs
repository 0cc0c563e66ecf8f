//! A small WebDriver client: the W3C WebDriver protocol over HTTP (JSON), enough to drive the
//! browser example end to end in ChromeDriver.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How often [`wait_until`] probes.
const POLL: Duration = Duration::from_millis(100);

/// A failed WebDriver command.
#[derive(Debug)]
pub struct Error {
    /// The WebDriver error code (`"no such element"`, `"no such window"`, ...), when the driver
    /// answered with one.
    pub code: Option<String>,
    message: String,
}

impl Error {
    fn other(message: impl Into<String>) -> Self {
        Self {
            code: None,
            message: message.into(),
        }
    }

    /// Whether the driver answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "webdriver: {code}: {}", self.message),
            None => write!(f, "webdriver: {}", self.message),
        }
    }
}

impl From<Error> for String {
    fn from(error: Error) -> Self {
        error.to_string()
    }
}

/// A reference to an element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One browser session; deleted (the browser closed) when dropped.
#[derive(Debug)]
pub struct Session {
    agent: ureq::Agent,
    /// `<driver>/session/<id>`.
    url: String,
    open: bool,
}

impl Session {
    /// Starts a browser through the driver at `driver` (`http://127.0.0.1:9515`), with these
    /// capabilities (`alwaysMatch`).
    pub fn new(driver: &str, capabilities: Value) -> Result<Self, Error> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .proxy(None)
            .build()
            .into();
        let driver = driver.trim_end_matches('/');
        let value = send(
            &agent,
            "POST",
            &format!("{driver}/session"),
            Some(json!({ "capabilities": { "alwaysMatch": capabilities } })),
        )?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| Error::other(format!("new session: no sessionId in {value}")))?;
        Ok(Self {
            agent,
            url: format!("{driver}/session/{id}"),
            open: true,
        })
    }

    fn get(&self, path: &str) -> Result<Value, Error> {
        send(&self.agent, "GET", &format!("{}{path}", self.url), None)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, Error> {
        send(
            &self.agent,
            "POST",
            &format!("{}{path}", self.url),
            Some(body),
        )
    }

    /// Loads `url` in the current window and waits for it.
    pub fn navigate(&self, url: &str) -> Result<(), Error> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// The current window's URL.
    pub fn current_url(&self) -> Result<String, Error> {
        string(self.get("/url")?, "current URL")
    }

    /// The first element matching the CSS selector.
    pub fn find(&self, css: &str) -> Result<Element, Error> {
        let value = self.post("/element", json!({ "using": "css selector", "value": css }))?;
        value[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_owned()))
            .ok_or_else(|| Error::other(format!("find {css}: no element reference in {value}")))
    }

    /// The first element matching the CSS selector, or `None` if there is none yet.
    pub fn try_find(&self, css: &str) -> Result<Option<Element>, Error> {
        match self.find(css) {
            Ok(element) => Ok(Some(element)),
            Err(error) if error.is("no such element") => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Clicks the element (a real, trusted click: a user gesture for the page).
    pub fn click(&self, element: &Element) -> Result<(), Error> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .map(drop)
    }

    /// The element's rendered text.
    pub fn text(&self, element: &Element) -> Result<String, Error> {
        string(self.get(&format!("/element/{}/text", element.0))?, "text")
    }

    /// Whether the element is shown.
    pub fn displayed(&self, element: &Element) -> Result<bool, Error> {
        let value = self.get(&format!("/element/{}/displayed", element.0))?;
        value
            .as_bool()
            .ok_or_else(|| Error::other(format!("displayed: not a boolean: {value}")))
    }

    /// Empties a text field.
    pub fn clear(&self, element: &Element) -> Result<(), Error> {
        self.post(&format!("/element/{}/clear", element.0), json!({}))
            .map(drop)
    }

    /// Types `text` into the element.
    pub fn send_keys(&self, element: &Element, text: &str) -> Result<(), Error> {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .map(drop)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page, and returns
    /// what it returns.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value, Error> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// The current window's handle.
    pub fn window(&self) -> Result<String, Error> {
        string(self.get("/window")?, "window handle")
    }

    /// Every open window's handle.
    pub fn windows(&self) -> Result<Vec<String>, Error> {
        let value = self.get("/window/handles")?;
        value
            .as_array()
            .map(|handles| {
                handles
                    .iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .ok_or_else(|| Error::other(format!("window handles: not an array: {value}")))
    }

    /// Makes the window `handle` the target of the next commands.
    pub fn switch_to(&self, handle: &str) -> Result<(), Error> {
        self.post("/window", json!({ "handle": handle })).map(drop)
    }

    /// Deletes every cookie visible to the current page.
    pub fn delete_cookies(&self) -> Result<(), Error> {
        send(&self.agent, "DELETE", &format!("{}/cookie", self.url), None).map(drop)
    }

    /// Saves a PNG screenshot of the current window to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<(), Error> {
        let encoded = string(self.get("/screenshot")?, "screenshot")?;
        let png = base64_decode(&encoded)
            .ok_or_else(|| Error::other("screenshot: the driver sent invalid base64"))?;
        std::fs::write(path, png)
            .map_err(|e| Error::other(format!("cannot write {}: {e}", path.display())))
    }

    /// Ends the session (closes the browser).
    pub fn quit(mut self) -> Result<(), Error> {
        self.open = false;
        send(&self.agent, "DELETE", &self.url, None).map(drop)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.open {
            let _ = send(&self.agent, "DELETE", &self.url, None);
        }
    }
}

/// Probes every 100 ms until `probe` returns `Some`, fails, or `timeout` passes.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<Option<T>, Error>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().map_err(|e| format!("waiting for {what}: {e}"))? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(POLL);
    }
}

/// Sends one command and returns the answer's `value`, or the driver's error.
fn send(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value, Error> {
    let transport = |e: ureq::Error| Error::other(format!("{method} {url}: {e}"));
    let mut response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent.post(url).send_json(body.unwrap_or_else(|| json!({}))),
    }
    .map_err(transport)?;
    let status = response.status();
    let answer: Value = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_json()
        .map_err(transport)?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    Err(Error {
        code: value["error"].as_str().map(str::to_owned),
        message: value["message"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), |m| first_line(m).to_owned()),
    })
}

/// A string `value`.
fn string(value: Value, what: &str) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(Error::other(format!("{what}: not a string: {other}"))),
    }
}

/// The first line of a (possibly long, multi-line) driver message.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}

/// Decodes standard base64 (padding optional, whitespace ignored).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let symbols: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let symbols = symbols
        .strip_suffix(b"==")
        .unwrap_or(symbols.strip_suffix(b"=").unwrap_or(symbols.as_slice()));
    if symbols.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() * 3 / 4);
    for chunk in symbols.chunks(4) {
        let mut bits = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            bits |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode("Zg==").as_deref(), Some(&b"f"[..]));
        assert_eq!(base64_decode("Zm8=").as_deref(), Some(&b"fo"[..]));
        assert_eq!(base64_decode("Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(base64_decode("Zm9vYg").as_deref(), Some(&b"foob"[..]));
        assert_eq!(
            base64_decode("iVBORw0K\nGgo=").as_deref(),
            Some(&b"\x89PNG\r\n\x1a\n"[..])
        );
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(base64_decode("Z"), None);
    }
}
