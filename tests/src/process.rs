//! A test host in a process of its own (the `mpcw-test-host` binary), for tests that kill it or
//! measure it.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

/// A host process, killed when dropped (also when an assertion fails first).
pub struct HostProcess(Child);

impl HostProcess {
    /// Start `exe` (the test binary's `env!("CARGO_BIN_EXE_mpcw-test-host")`) with `args` and
    /// wait for its `listening <url>` line; the process and its URL.
    pub fn spawn<I, S>(exe: &str, args: I) -> (Self, String)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(exe)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the test host starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("its standard output"))
            .read_line(&mut line)
            .expect("its first line");
        let process = Self(child);
        let url = line
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim()
            .to_owned();
        (process, url)
    }

    /// SIGKILL, and wait until it is gone.
    pub fn kill(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }

    /// Resident memory of the process, bytes (0 once it is gone).
    pub fn rss(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
