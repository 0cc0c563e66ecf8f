//! The project's database: a private PostgreSQL server (initdb into the emulator's scratch
//! directory, a unix socket there, removed when the emulator stops), the project's
//! `migrations/*.sql` then `seed/*.sql` applied in name order, and `services.db.query` for its
//! functions with node-postgres semantics.
//!
//! Each function has a role of its own, granted exactly the tables its `tables:` lists; a
//! query runs in a transaction under that role, so another table is refused by PostgreSQL
//! itself. Statements that change the schema are refused before they reach the server.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};

/// The server's superuser, who applies migrations and owns every table.
const OWNER: &str = "gipity";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The port number in the socket's name (the socket is in a private directory).
const PORT: u16 = 5432;

/// The running server and the emulator's connection to it.
pub(crate) struct Database {
    client: Mutex<tokio_postgres::Client>,
    /// Function name -> its role.
    roles: HashMap<String, String>,
    _server: Child,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

fn failed(message: String) -> io::Error {
    io::Error::other(message)
}

const INSTALL: &str = "install PostgreSQL (Debian: `apt-get install postgresql`), or point \
                       GIPITY_PG_BIN at the directory of its programs";

/// The directory of PostgreSQL's programs: `GIPITY_PG_BIN`, else `initdb` on the `PATH`,
/// else the newest `/usr/lib/postgresql/<version>/bin` (where Debian puts them).
fn programs() -> io::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GIPITY_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
            return Ok(dir);
        }
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "PostgreSQL is needed for the project's database (services.db), and \
                 GIPITY_PG_BIN ({}) has no `initdb` and `postgres`: {INSTALL}",
                dir.display()
            ),
        ));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
                return Ok(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "PostgreSQL is needed for the project's database (services.db), and no \
                 `initdb` was found: {INSTALL}"
            ),
        )
    })
}

/// Whether this process runs as root, whom PostgreSQL refuses to run as.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .is_some_and(|effective| effective == "0")
    })
}

/// `program args..`, as the unprivileged `nobody` when this process is root.
fn command(bin: &Path, program: &str, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "nobody", "--"]).arg(bin.join(program));
        command
    } else {
        Command::new(bin.join(program))
    }
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Database {
    /// Starts a server in `scratch/pg`, applies the project's SQL and creates each function's
    /// role. `tables`: function name -> the tables it lists.
    pub(crate) async fn start(
        project: &Path,
        scratch: &Path,
        tables: &[(String, Vec<String>)],
    ) -> io::Result<Self> {
        let bin = programs()?;
        let root = is_root();
        let dir = scratch.join("pg");
        std::fs::create_dir_all(&dir)?;
        if root {
            let status = Command::new("chown")
                .args(["-R", "nobody:"])
                .arg(&dir)
                .status()
                .await?;
            if !status.success() {
                return Err(failed(format!("cannot give {} to `nobody`", dir.display())));
            }
        }
        let data = dir.join("data");
        let output = command(&bin, "initdb", root)
            .arg("-D")
            .arg(&data)
            .args(["-U", OWNER, "-A", "trust", "-E", "UTF8", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| failed(format!("cannot run initdb ({}): {e}", bin.display())))?;
        if !output.status.success() {
            return Err(failed(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let log = std::fs::File::create(dir.join("server.log"))?;
        let server = command(&bin, "postgres", root)
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&dir)
            .args(["-p", &PORT.to_string()])
            .args(["-c", "listen_addresses="])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(format!("cannot start postgres ({}): {e}", bin.display())))?;
        let client = connect(&dir).await?;
        let database = Self {
            client: Mutex::new(client),
            roles: HashMap::new(),
            _server: server,
        };
        database.apply(&project.join("migrations")).await?;
        database.apply(&project.join("seed")).await?;
        database.roles(tables).await
    }

    /// Runs every `*.sql` of `dir`, in name order.
    async fn apply(&self, dir: &Path) -> io::Result<()> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        files.sort();
        let client = self.client.lock().await;
        for file in files {
            let sql = std::fs::read_to_string(&file)?;
            client.batch_execute(&sql).await.map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {}", file.display(), message(&e)),
                )
            })?;
        }
        Ok(())
    }

    /// A role per function, allowed its tables only.
    async fn roles(mut self, tables: &[(String, Vec<String>)]) -> io::Result<Self> {
        let mut roles = HashMap::new();
        {
            let client = self.client.lock().await;
            for (index, (function, listed)) in tables.iter().enumerate() {
                let role = format!("gipity_fn_{index}");
                let mut sql = format!(
                    "CREATE ROLE {role} NOLOGIN; GRANT USAGE ON SCHEMA public TO {role}; \
                     GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};"
                );
                for table in listed {
                    let exists = client
                        .query_opt("SELECT to_regclass($1)::text", &[&ident(table)])
                        .await
                        .map_err(|e| failed(message(&e)))?
                        .and_then(|row| row.get::<_, Option<String>>(0));
                    if exists.is_none() {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "function `{function}` lists table `{table}` under `tables:`, \
                                 which the migrations did not create"
                            ),
                        ));
                    }
                    sql.push_str(&format!(
                        " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {} TO {role};",
                        ident(table)
                    ));
                }
                client.batch_execute(&sql).await.map_err(|e| {
                    failed(format!("function `{function}`'s role: {}", message(&e)))
                })?;
                roles.insert(function.clone(), role);
            }
        }
        self.roles = roles;
        Ok(self)
    }

    /// `db.query(sql, params)` of `function`: `{ rows, rowCount, command, fields }`, or the
    /// error message the function's promise rejects with.
    pub(crate) async fn query(
        &self,
        function: &str,
        sql: &str,
        params: Vec<Option<String>>,
    ) -> Result<Value, String> {
        let Some(role) = self.roles.get(function) else {
            return Err(format!("function `{function}` has no database role"));
        };
        refuse_ddl(sql)?;
        let params: Vec<Text> = params.into_iter().map(Text).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let client = self.client.lock().await;
        client
            .batch_execute(&format!("BEGIN; SET LOCAL ROLE {role}"))
            .await
            .map_err(|e| message(&e))?;
        let result = run(&client, sql, &refs).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = client.batch_execute(end).await;
        let value = result.map_err(|e| explain(function, &e))?;
        ended.map_err(|e| message(&e))?;
        Ok(value)
    }
}

async fn connect(dir: &Path) -> io::Result<tokio_postgres::Client> {
    let mut config = tokio_postgres::Config::new();
    config
        .host_path(dir)
        .port(PORT)
        .user(OWNER)
        .dbname("postgres");
    let started = Instant::now();
    loop {
        match config.connect(tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "the database connection ended");
                    }
                });
                return Ok(client);
            }
            Err(e) if started.elapsed() < START_TIMEOUT => {
                tracing::trace!(error = %e, "the database is not up yet");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                return Err(failed(format!(
                    "PostgreSQL did not start within {} s: {e}\n{}",
                    START_TIMEOUT.as_secs(),
                    log.trim()
                )));
            }
        }
    }
}

/// Why a query has no result.
enum Failure {
    /// The server refused it.
    Server(tokio_postgres::Error),
    /// A value the emulator cannot read.
    Decode(String),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Server(error)
    }
}

async fn run(
    client: &tokio_postgres::Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Value, Failure> {
    let statement = client.prepare(sql).await?;
    let command = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    if statement.columns().is_empty() {
        let count = client.execute(&statement, params).await?;
        return Ok(json!({"rows": [], "rowCount": count, "command": command, "fields": []}));
    }
    let rows = client.query(&statement, params).await?;
    let fields: Vec<Value> = statement
        .columns()
        .iter()
        .map(|column| json!({"name": column.name(), "dataTypeID": column.type_().oid()}))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut object = Map::new();
        for (index, column) in row.columns().iter().enumerate() {
            let Raw(bytes) = row.try_get::<_, Raw<'_>>(index)?;
            let value = match bytes {
                None => Value::Null,
                Some(bytes) => decode(column.type_(), bytes)
                    .map_err(|why| Failure::Decode(format!("column `{}`: {why}", column.name())))?,
            };
            object.insert(column.name().to_owned(), value);
        }
        out.push(Value::Object(object));
    }
    Ok(json!({"rows": out, "rowCount": rows.len(), "command": command, "fields": fields}))
}

/// The server's message, as node-postgres gives it (`error.message`).
fn message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
}

/// A refused table names what to change.
fn explain(function: &str, failure: &Failure) -> String {
    let error = match failure {
        Failure::Server(error) => error,
        Failure::Decode(why) => return why.clone(),
    };
    let text = message(error);
    match text.strip_prefix("permission denied for table ") {
        Some(table) => format!(
            "function `{function}` may not use table `{table}`: it is not under its `tables:` \
             in gipity.yaml ({text})"
        ),
        None => text,
    }
}

/// Statements that change the schema (or the session) are refused inside functions.
fn refuse_ddl(sql: &str) -> Result<(), String> {
    const REFUSED: [&str; 14] = [
        "CREATE", "ALTER", "DROP", "TRUNCATE", "GRANT", "REVOKE", "COMMENT", "SECURITY", "REINDEX",
        "CLUSTER", "VACUUM", "SET", "RESET", "DO",
    ];
    let mut rest = sql.trim_start();
    // Leading comments.
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else {
            break;
        }
    }
    let keyword: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    if REFUSED.contains(&keyword.as_str()) {
        let shown: String = rest
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        return Err(format!(
            "`{shown} ..` is refused inside functions: DDL is blocked at run time; change the \
             schema in migrations/"
        ));
    }
    Ok(())
}

/// A parameter sent as text, for the server to parse as the type it infers (as node-postgres
/// sends every parameter).
#[derive(Debug)]
struct Text(Option<String>);

impl ToSql for Text {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A column's value as the server sent it (binary), or NULL.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(Some(raw)))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

fn take<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .get(..N)
        .and_then(|head| head.try_into().ok())
        .ok_or_else(|| "a value shorter than its type".to_owned())
}

/// A value as node-postgres gives it: int8 and numeric as strings, dates as `Date` (here
/// their JSON, ISO 8601 in UTC), `bytea` as a `Buffer`.
fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, String> {
    if let tokio_postgres::types::Kind::Array(member) = ty.kind() {
        return array(member, bytes);
    }
    Ok(match *ty {
        Type::BOOL => json!(bytes.first().is_some_and(|b| *b != 0)),
        Type::INT2 => json!(i16::from_be_bytes(take(bytes)?)),
        Type::INT4 => json!(i32::from_be_bytes(take(bytes)?)),
        Type::OID => json!(u32::from_be_bytes(take(bytes)?)),
        Type::INT8 => json!(i64::from_be_bytes(take(bytes)?).to_string()),
        Type::FLOAT4 => json!(f32::from_be_bytes(take(bytes)?)),
        Type::FLOAT8 => json!(f64::from_be_bytes(take(bytes)?)),
        Type::NUMERIC => json!(numeric(bytes)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR | Type::UNKNOWN => {
            json!(String::from_utf8_lossy(bytes))
        }
        Type::JSON => serde_json::from_slice(bytes).map_err(|e| e.to_string())?,
        Type::JSONB => {
            serde_json::from_slice(bytes.get(1..).unwrap_or_default()).map_err(|e| e.to_string())?
        }
        Type::UUID => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let part =
                |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default().to_owned();
            json!(format!(
                "{}-{}-{}-{}-{}",
                part(0..8),
                part(8..12),
                part(12..16),
                part(16..20),
                part(20..32)
            ))
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let micros = i64::from_be_bytes(take(bytes)?);
            json!(iso(micros.saturating_add(PG_EPOCH_MICROS)))
        }
        Type::DATE => {
            let days = i64::from(i32::from_be_bytes(take(bytes)?));
            json!(iso(days * 86_400_000_000 + PG_EPOCH_MICROS))
        }
        Type::BYTEA => json!({"type": "Buffer", "data": bytes}),
        _ => {
            return Err(format!(
                "the emulator cannot read values of type `{}`; cast the column to text in \
                 the query (`::text`)",
                ty.name()
            ));
        }
    })
}

/// A one- or more-dimensional array, nested as node-postgres nests it.
fn array(member: &Type, bytes: &[u8]) -> Result<Value, String> {
    let int = |at: usize| -> Result<i32, String> {
        Ok(i32::from_be_bytes(take(
            bytes.get(at..).unwrap_or_default(),
        )?))
    };
    let dims = usize::try_from(int(0)?).map_err(|_| "a negative dimension count".to_owned())?;
    let mut lengths = Vec::with_capacity(dims);
    for d in 0..dims {
        lengths.push(usize::try_from(int(12 + d * 8)?).map_err(|_| "a negative length")?);
    }
    let mut at = 12 + dims * 8;
    let mut items = Vec::new();
    let total: usize = if dims == 0 {
        0
    } else {
        lengths.iter().product()
    };
    for _ in 0..total {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            items.push(Value::Null);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| "a bad element length")?;
        let element = bytes.get(at..at + len).ok_or("an element past the end")?;
        items.push(decode(member, element)?);
        at += len;
    }
    // Nest from the innermost dimension out.
    for &length in lengths.iter().skip(1).rev() {
        items = items
            .chunks(length.max(1))
            .map(|chunk| Value::Array(chunk.to_vec()))
            .collect();
    }
    Ok(Value::Array(items))
}

/// PostgreSQL's binary numeric, as its text: base-10000 digits with a weight and a scale.
fn numeric(bytes: &[u8]) -> Result<String, String> {
    let word = |at: usize| -> Result<u16, String> {
        Ok(u16::from_be_bytes(take(
            bytes.get(at..).unwrap_or_default(),
        )?))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(2)? as i16);
    let sign = word(4)?;
    let dscale = usize::from(word(6)?);
    match sign {
        0xC000 => return Ok("NaN".to_owned()),
        0xD000 => return Ok("Infinity".to_owned()),
        0xF000 => return Ok("-Infinity".to_owned()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + i * 2))
        .collect::<Result<_, _>>()?;
    let mut int_part = String::new();
    for i in 0..=weight.max(-1) {
        let digit = usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0);
        if int_part.is_empty() {
            if i == weight.max(0) || digit != 0 {
                int_part = digit.to_string();
            }
        } else {
            int_part.push_str(&format!("{digit:04}"));
        }
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let mut frac = String::new();
    let mut i = weight + 1;
    while frac.len() < dscale {
        let digit = usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0);
        frac.push_str(&format!("{digit:04}"));
        i += 1;
    }
    frac.truncate(dscale);
    let negative = sign == 0x4000;
    let mut text = String::new();
    if negative {
        text.push('-');
    }
    text.push_str(&int_part);
    if dscale > 0 {
        text.push('.');
        text.push_str(&frac);
    }
    Ok(text)
}

/// Microseconds since 1970 as JavaScript's `Date.toJSON()` prints them (milliseconds, UTC).
fn iso(micros: i64) -> String {
    let millis = micros.div_euclid(1000);
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_as_javascript_prints_them() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(PG_EPOCH_MICROS), "2000-01-01T00:00:00.000Z");
        assert_eq!(iso(1_709_210_096_789_123), "2024-02-29T12:34:56.789Z");
        assert_eq!(iso(-1_000), "1969-12-31T23:59:59.999Z");
    }

    fn numeric_bytes(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let count = u16::try_from(digits.len()).unwrap_or_default();
        for word in [count, weight as u16, sign, dscale] {
            bytes.extend_from_slice(&word.to_be_bytes());
        }
        for digit in digits {
            bytes.extend_from_slice(&digit.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn numerics_print_as_postgresql_prints_them() {
        let cases: &[(i16, u16, u16, &[u16], &str)] = &[
            (0, 0, 0, &[42], "42"),
            (1, 0, 2, &[12, 3456, 7800], "123456.78"),
            (0, 0x4000, 3, &[1, 5000], "-1.500"),
            (-1, 0, 4, &[1234], "0.1234"),
            (-2, 0, 6, &[1200], "0.000012"),
            (0, 0, 0, &[], "0"),
            (2, 0, 0, &[1], "100000000"),
            (0, 0xC000, 0, &[], "NaN"),
        ];
        for (weight, sign, dscale, digits, text) in cases {
            let bytes = numeric_bytes(*weight, *sign, *dscale, digits);
            assert_eq!(numeric(&bytes).as_deref(), Ok(*text), "{digits:?}");
        }
    }

    #[test]
    fn ddl_and_session_changes_are_refused_before_the_server() {
        for sql in [
            "CREATE TABLE x (id int)",
            "  drop table items",
            "-- a comment\nALTER TABLE items ADD c int",
            "/* why */ truncate items",
            "SET ROLE gipity",
            "reset role",
        ] {
            let Err(why) = refuse_ddl(sql) else {
                panic!("{sql} was let through")
            };
            assert!(why.contains("is refused inside functions"), "{why}");
        }
        for sql in [
            "SELECT 1",
            "insert into items values (1)",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "UPDATE settings SET a = 1",
        ] {
            assert_eq!(refuse_ddl(sql), Ok(()), "{sql}");
        }
    }
}
