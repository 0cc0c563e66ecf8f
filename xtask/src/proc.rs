//! Child processes that must not outlive the task, and waiting for their ports.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A background process, killed when dropped (also when the task fails half-way).
pub struct Background {
    name: String,
    child: Child,
}

impl Background {
    /// Starts `command`, and waits until something listens on `addr`.
    pub fn start(name: &str, command: &mut Command, addr: SocketAddr) -> Result<Self, String> {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Err(format!(
                "{name}: {addr} is already in use; stop whatever listens there and run again"
            ));
        }
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .map_err(|error| format!("{name}: could not start: {error}"))?;
        let mut process = Self {
            name: name.to_owned(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = process.child.try_wait() {
                return Err(format!(
                    "{name} exited before listening on {addr} ({status})"
                ));
            }
            if Instant::now() > deadline {
                return Err(format!("{name} did not listen on {addr} within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(process)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Err(error) = self.child.kill() {
            eprintln!("xtask: could not stop {}: {error}", self.name);
        }
        let _ = self.child.wait();
    }
}
