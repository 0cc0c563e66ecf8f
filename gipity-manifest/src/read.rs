//! From the YAML tree to a [`Manifest`]: known keys are checked, unknown ones ignored.

use std::collections::HashMap;
use std::str::FromStr;

use crate::yaml::{Location, Node, SyntaxError, Value, scalar_key};
use crate::{
    Auth, Billing, DEFAULT_FUNCTIONS_SOURCE, Function, Job, Manifest, Room, Service, Table,
};

type Result<T> = std::result::Result<T, SyntaxError>;

fn error<T>(at: Location, message: impl Into<String>) -> Result<T> {
    Err(SyntaxError {
        message: message.into(),
        at,
    })
}

/// Whether a `services` phase's key names a service (`llm: owner_pays`), so that a value
/// there that is not a billing mode is an error rather than ignored.
fn is_service(name: &str) -> bool {
    gipity_shared::SERVICES.contains(&name) || name == "notify"
}

/// A mapping's entries by key, for the lookups below.
struct Map<'a> {
    entries: &'a [(Node, Node)],
    at: Location,
    /// What the mapping is, for messages: "a function definition".
    what: &'a str,
}

impl<'a> Map<'a> {
    fn of(node: &'a Node, what: &'a str) -> Result<Self> {
        match &node.value {
            Value::Map(entries) => Ok(Self {
                entries,
                at: node.at,
                what,
            }),
            _ => error(
                node.at,
                format!("expected {what} (a mapping), found {}", node.kind()),
            ),
        }
    }

    /// The value of `key`, unless it is missing or null.
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| scalar_key(k) == Some(key))
            .map(|(_, value)| value)
            .filter(|value| !matches!(value.value, Value::Null))
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>> {
        self.get(key).map(|node| text(node, key)).transpose()
    }

    fn required(&self, key: &str) -> Result<&'a str> {
        match self.string(key)? {
            Some(value) if !value.is_empty() => Ok(value),
            _ => error(self.at, format!("{} without a `{key}`", self.what)),
        }
    }

    /// A list of strings; a single string is a list of one (`hooks: user_deleted`).
    fn list(&self, key: &str) -> Result<Vec<String>> {
        let Some(node) = self.get(key) else {
            return Ok(Vec::new());
        };
        if let Value::Scalar(text, _) = &node.value {
            return Ok(vec![text.clone()]);
        }
        seq(node, key)?
            .iter()
            .map(|item| text(item, key).map(str::to_owned))
            .collect()
    }

    fn number(&self, key: &str) -> Result<Option<u64>> {
        let Some(node) = self.get(key) else {
            return Ok(None);
        };
        // `30000`, `30_000`, or quoted: `"30000"`.
        match &node.value {
            Value::Scalar(text, _) => match text.replace('_', "").parse::<u64>() {
                Ok(value) => Ok(Some(value)),
                Err(_) => error(
                    node.at,
                    format!("`{key}` must be a whole number of milliseconds, not `{text}`"),
                ),
            },
            _ => error(
                node.at,
                format!("`{key}` must be a whole number, found {}", node.kind()),
            ),
        }
    }

    fn parsed<T: FromStr>(&self, key: &str, expected: &str) -> Result<Option<T>> {
        let Some(node) = self.get(key) else {
            return Ok(None);
        };
        let value = text(node, key)?;
        match value.parse() {
            Ok(parsed) => Ok(Some(parsed)),
            Err(_) => error(
                node.at,
                format!("unknown `{key}` value `{value}`; expected {expected}"),
            ),
        }
    }

    /// `auth`, or its other spelling `auth_level`; both must agree.
    fn auth(&self) -> Result<Option<Auth>> {
        const EXPECTED: &str = "`public`, `user` or `member`";
        let auth = self.parsed::<Auth>("auth", EXPECTED)?;
        let level = self.parsed::<Auth>("auth_level", EXPECTED)?;
        match (auth, level) {
            (Some(a), Some(b)) if a != b => error(
                self.at,
                format!("`auth: {a}` and `auth_level: {b}` disagree; keep one"),
            ),
            (a, b) => Ok(a.or(b)),
        }
    }
}

fn text<'a>(node: &'a Node, key: &str) -> Result<&'a str> {
    match &node.value {
        Value::Scalar(text, _) => Ok(text),
        _ => error(
            node.at,
            format!("`{key}` must be a string, found {}", node.kind()),
        ),
    }
}

fn seq<'a>(node: &'a Node, key: &str) -> Result<&'a [Node]> {
    match &node.value {
        Value::Seq(items) => Ok(items),
        _ => error(
            node.at,
            format!("`{key}` must be a list, found {}", node.kind()),
        ),
    }
}

/// The items of the list under `key`, or none when it is missing or null.
fn items<'a>(map: &Map<'a>, key: &str) -> Result<&'a [Node]> {
    match map.get(key) {
        Some(node) => seq(node, key),
        None => Ok(&[]),
    }
}

pub(crate) fn manifest(root: Option<&Node>) -> Result<Manifest> {
    let mut manifest = Manifest::default();
    let Some(root) = root else {
        return Ok(manifest);
    };
    if matches!(root.value, Value::Null) {
        return Ok(manifest);
    }
    let root = Map::of(root, "the manifest")?;
    let Some(deploy) = root.get("deploy") else {
        return Ok(manifest);
    };
    let deploy = Map::of(deploy, "`deploy`")?;
    for phase in items(&deploy, "phases")? {
        let phase = Map::of(phase, "a phase")?;
        match phase.string("type")? {
            Some("functions") => functions(&mut manifest, &phase)?,
            Some("records") => records(&mut manifest, &phase)?,
            Some("realtime") => realtime(&mut manifest, &phase)?,
            Some("jobs") => jobs(&mut manifest, &phase)?,
            Some("services") => services(&mut manifest, &phase)?,
            _ => {}
        }
    }
    check_unique(&manifest)?;
    Ok(manifest)
}

fn functions(manifest: &mut Manifest, phase: &Map<'_>) -> Result<()> {
    let source = phase
        .string("source")?
        .unwrap_or(DEFAULT_FUNCTIONS_SOURCE)
        .to_owned();
    for definition in items(phase, "function_definitions")? {
        let map = Map::of(definition, "a function definition")?;
        manifest.functions.push(Function {
            name: map.required("name")?.to_owned(),
            auth: map.auth()?,
            tables: map.list("tables")?,
            services: map.list("services")?,
            hooks: map.list("hooks")?,
            fetch_domains: map.list("fetch_domains")?,
            description: map.string("description")?.map(str::to_owned),
            timeout_ms: map.number("timeout_ms")?,
            source: source.clone(),
            at: map.at,
        });
    }
    if !manifest.function_sources.contains(&source) {
        manifest.function_sources.push(source);
    }
    Ok(())
}

fn records(manifest: &mut Manifest, phase: &Map<'_>) -> Result<()> {
    for table in items(phase, "tables")? {
        let entry = match &table.value {
            Value::Scalar(name, _) => Table {
                name: name.clone(),
                auth: None,
                at: table.at,
            },
            _ => {
                let map = Map::of(table, "a records table")?;
                let name = match map.string("table")? {
                    Some(name) => name,
                    None => map.required("name")?,
                };
                Table {
                    name: name.to_owned(),
                    auth: map.auth()?,
                    at: map.at,
                }
            }
        };
        manifest.tables.push(entry);
    }
    Ok(())
}

fn realtime(manifest: &mut Manifest, phase: &Map<'_>) -> Result<()> {
    for room in items(phase, "rooms")? {
        let map = Map::of(room, "a realtime room")?;
        manifest.rooms.push(Room {
            name: map.string("name")?.map(str::to_owned),
            room_type: map.string("room_type")?.map(str::to_owned),
            auth: map.auth()?,
            at: map.at,
        });
    }
    Ok(())
}

fn jobs(manifest: &mut Manifest, phase: &Map<'_>) -> Result<()> {
    for job in items(phase, "job_definitions")? {
        let map = Map::of(job, "a job definition")?;
        manifest.jobs.push(Job {
            name: map.required("name")?.to_owned(),
            on_complete: map.string("on_complete")?.map(str::to_owned),
            timeout_ms: map.number("timeout_ms")?,
            description: map.string("description")?.map(str::to_owned),
            at: map.at,
        });
    }
    Ok(())
}

const BILLING: &str = "`owner_pays` or `user_pays`";

fn services(manifest: &mut Manifest, phase: &Map<'_>) -> Result<()> {
    for definition in items(phase, "service_definitions")? {
        let map = Map::of(definition, "a service definition")?;
        let name = map.required("service")?;
        // An entry without a billing mode leaves the platform's default.
        let Some(billing) = map.parsed::<Billing>("billing_mode", BILLING)? else {
            continue;
        };
        manifest.services.push(Service {
            name: name.to_owned(),
            billing,
            at: map.at,
        });
    }
    // The short spelling: `llm: owner_pays`.
    for (key, value) in phase.entries {
        let Some(name) = scalar_key(key) else {
            continue;
        };
        let Value::Scalar(text, _) = &value.value else {
            if is_service(name) && !matches!(value.value, Value::Null) {
                return error(
                    value.at,
                    format!(
                        "`{name}` must be a billing mode ({BILLING}), found {}",
                        value.kind()
                    ),
                );
            }
            continue;
        };
        match text.parse::<Billing>() {
            Ok(billing) => manifest.services.push(Service {
                name: name.to_owned(),
                billing,
                at: key.at,
            }),
            Err(_) if is_service(name) => {
                return error(
                    value.at,
                    format!("unknown billing mode `{text}` for `{name}`; expected {BILLING}"),
                );
            }
            Err(_) => {}
        }
    }
    Ok(())
}

/// A function or service declared twice is refused: which entry wins is not documented.
fn check_unique(manifest: &Manifest) -> Result<()> {
    let functions = manifest.functions.iter().map(|f| (f.name.as_str(), f.at));
    unique("function", functions)?;
    let services = manifest.services.iter().map(|s| (s.name.as_str(), s.at));
    unique("service", services)
}

fn unique<'a>(what: &str, names: impl Iterator<Item = (&'a str, Location)>) -> Result<()> {
    let mut seen: HashMap<&str, Location> = HashMap::new();
    for (name, at) in names {
        if let Some(first) = seen.insert(name, at) {
            return error(
                at,
                format!(
                    "{what} `{name}` is declared twice (first at line {})",
                    first.line
                ),
            );
        }
    }
    Ok(())
}
