//! Helpers shared by the end-to-end tests: the real binary, and a private tmux server.
#![allow(dead_code)]

pub mod llama_bin;
pub mod serve;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn halo_top() -> Command {
    Command::new(env!("CARGO_BIN_EXE_halo-top"))
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run halo-top");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A tmux server of our own (its own socket), so tests never touch a user's sessions and are
/// cleaned up even when an assertion fails.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a detached `width`×`height` session running a login-less shell, so
    /// that what is left on the screen after the command exits can be inspected.
    pub fn start(name: &str, width: u16, height: u16) -> Tmux {
        let socket = format!("halo-top-test-{}-{name}", std::process::id());
        let tmux = Tmux { socket };
        let status = tmux
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .args([
                "env",
                "-i",
                "PATH=/usr/bin:/bin",
                "TERM=xterm-256color",
                "PS1=$ ",
                "bash",
                "--norc",
                "--noprofile",
            ])
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).env_remove("TMUX");
        c
    }

    /// Types `text` and presses Enter.
    pub fn type_line(&self, text: &str) {
        self.send(&["-l", text]);
        self.send(&["Enter"]);
    }

    pub fn send(&self, keys: &[&str]) {
        let status =
            self.cmd().args(["send-keys", "-t", "t"]).args(keys).status().expect("tmux send-keys");
        assert!(status.success());
    }

    /// Gives the terminal a new size, as a person resizing the window would.
    pub fn resize(&self, width: u16, height: u16) {
        let status = self
            .cmd()
            .args(["resize-window", "-t", "t", "-x", &width.to_string(), "-y", &height.to_string()])
            .status()
            .expect("tmux resize-window");
        assert!(status.success());
    }

    pub fn capture(&self) -> String {
        let out =
            self.cmd().args(["capture-pane", "-p", "-t", "t"]).output().expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `check`, and returns it; panics with the last screen.
    pub fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture();
            if check(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

pub fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}
