//! `gipity-emulator`: runs the Gipity app API emulator with the demo app.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use gipity_emulator::{DEMO_APP, Emulator};

const USAGE: &str = "\
Usage: gipity-emulator [OPTIONS]

Runs a local stand-in for the Gipity app API with the demo app `p_demo`
(functions: echo, add, whoami, boom, secret, consented-ai, slow).

Options:
  --port PORT        port to listen on (default 8787; 0 picks a free one)
  --host IP          address to listen on (default 127.0.0.1)
  --token-ttl SECS   lifetime of app tokens in seconds (default 3600)
  --serve DIR        also serve static files from DIR at every path outside
                     /api and /__emulator (a directory serves its index.html)
  --manifest PATH    read the app's gipity.yaml: the functions it declares get
                     its auth levels, its services phase sets who pays
  --project DIR      serve a Gipity app's own functions: DIR/gipity.yaml and
                     DIR/functions/*.js, run under Node.js 20.19+ (GIPITY_NODE or
                     `node`); secrets and env from DIR/gipity.local.json; what
                     the functions print is shown here
  --app GUID         the app GUID the project answers for (default p_local)
  --test-controls    answer the test controls under /__emulator/ (JSON, CORS
                     like the API): POST reset, expire-tokens,
                     expire-player-tokens, token-ttl {\"seconds\"},
                     auto {\"decision\":\"approve|deny|close|none\",\"user\"?,\"delayMs\"?},
                     fault {\"target\",\"fault\",\"times\"?}, clear-faults;
                     GET counters, calls?app=&function=, console?app=&function=,
                     requests?path=
  -h, --help         print this help";

/// Parsed command line.
#[derive(Debug)]
struct Options {
    port: u16,
    host: IpAddr,
    token_ttl: Option<Duration>,
    serve: Option<PathBuf>,
    manifest: Option<PathBuf>,
    project: Option<PathBuf>,
    app: Option<String>,
    test_controls: bool,
}

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Run(Options),
    Help,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options {
        port: 8787,
        host: IpAddr::from([127, 0, 0, 1]),
        token_ttl: None,
        serve: None,
        manifest: None,
        project: None,
        app: None,
        test_controls: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        if flag == "--test-controls" {
            if inline.is_some() {
                return Err("`--test-controls` takes no value".to_owned());
            }
            options.test_controls = true;
            continue;
        }
        if !matches!(
            flag.as_str(),
            "--port" | "--host" | "--token-ttl" | "--serve" | "--manifest" | "--project" | "--app"
        ) {
            return Err(format!("unknown argument `{arg}`"));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(format!("`{flag}` needs a value")),
        };
        match flag.as_str() {
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| format!("`--port {value}`: expected a port number (0-65535)"))?;
            }
            "--host" => {
                options.host = value
                    .parse()
                    .map_err(|_| format!("`--host {value}`: expected an IP address"))?;
            }
            "--token-ttl" => {
                let secs: u64 = value
                    .parse()
                    .map_err(|_| format!("`--token-ttl {value}`: expected whole seconds"))?;
                options.token_ttl = Some(Duration::from_secs(secs));
            }
            "--project" => {
                let dir = PathBuf::from(&value);
                if !dir.is_dir() {
                    return Err(format!("`--project {value}`: not a directory"));
                }
                options.project = Some(dir);
            }
            "--app" => {
                if gipity_shared::check_function_name(&value).is_err() {
                    return Err(format!(
                        "`--app {value}`: expected a project GUID such as `p_abc123`"
                    ));
                }
                options.app = Some(value);
            }
            "--manifest" => {
                let path = PathBuf::from(&value);
                if !path.is_file() {
                    return Err(format!("`--manifest {value}`: not a file"));
                }
                options.manifest = Some(path);
            }
            _ => {
                let dir = PathBuf::from(&value);
                if !dir.is_dir() {
                    return Err(format!("`--serve {value}`: not a directory"));
                }
                options.serve = Some(dir);
            }
        }
    }
    Ok(Command::Run(options))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder()
        .host(options.host)
        .port(options.port)
        .demo(true)
        .test_controls(options.test_controls);
    if let Some(ttl) = options.token_ttl {
        builder = builder.token_ttl(ttl);
    }
    if let Some(dir) = options.serve {
        builder = builder.serve_dir(dir);
    }
    if let Some(path) = &options.manifest {
        // Read here too, so that a bad manifest is not reported as a failure to listen.
        if let Err(e) = gipity_manifest::Manifest::from_path(path) {
            eprintln!("error: the manifest: {e}");
            return ExitCode::FAILURE;
        }
        builder = builder.manifest(path);
    }
    if let Some(dir) = &options.project {
        builder = builder.project(dir).print_console(true);
        if let Some(app) = &options.app {
            builder = builder.project_app(app);
        }
    }
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(e) if options.project.is_some() && e.kind() != std::io::ErrorKind::AddrInUse => {
            eprintln!("error: cannot serve the project: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!(
                "error: cannot listen on {}:{}: {e}",
                options.host, options.port
            );
            return ExitCode::FAILURE;
        }
    };
    println!("gipity-emulator listening on {}", emulator.base_url());
    println!("demo app: {DEMO_APP}");
    if let Some(path) = &options.manifest {
        println!("manifest: {}", path.display());
    }
    if let (Some(dir), Some(app)) = (&options.project, emulator.project_app()) {
        println!("project: {} as app {app}", dir.display());
    }
    if options.test_controls {
        println!("test controls: {}/__emulator/", emulator.base_url());
    }
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_options() {
        let Ok(Command::Run(options)) =
            run(&["--port", "9000", "--host=0.0.0.0", "--token-ttl", "5"])
        else {
            panic!("expected options");
        };
        assert_eq!(options.port, 9000);
        assert_eq!(options.host, IpAddr::from([0, 0, 0, 0]));
        assert_eq!(options.token_ttl, Some(Duration::from_secs(5)));
        assert!(!options.test_controls);
        let Ok(Command::Run(options)) = run(&["--test-controls", "--port", "1"]) else {
            panic!("expected options");
        };
        assert!(options.test_controls);
        assert_eq!(options.port, 1);
        assert!(matches!(run(&["--help"]), Ok(Command::Help)));
        assert!(matches!(run(&[]), Ok(Command::Run(o)) if o.port == 8787));
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(run(&["--port"]).is_err());
        assert!(run(&["--port", "70000"]).is_err());
        assert!(run(&["--host", "localhost"]).is_err());
        assert!(run(&["--token-ttl", "-1"]).is_err());
        assert!(run(&["--serve", "/definitely/not/here"]).is_err());
        assert!(run(&["--frobnicate"]).is_err());
        assert!(run(&["--test-controls=yes"]).is_err());
        assert!(run(&["stray"]).is_err());
    }
}
