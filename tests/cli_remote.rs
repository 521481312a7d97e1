//! `manabi serve` and `--device remote://HOST:PORT` on loopback: a server process with the CPU
//! backend behind it, a client that trains through it, the same results as local training, and
//! a clear error with the last checkpoint intact when the server dies mid-run.
#![cfg(feature = "remote")]

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor};
use common::{assert_clean_error, manabi, stderr};

/// A `manabi serve` child on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    address: String,
    /// The server's stdout, kept open while it runs.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_manabi"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("MANABI_REMOTE_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        let address = first
            .trim()
            .strip_prefix("manabi server listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_string();
        Self {
            child,
            address,
            _stdout: stdout,
        }
    }

    fn device(&self) -> String {
        format!("remote://{}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The default digits recipe, shortened.
fn train_args<'a>(out: &'a str, device: &'a str, epochs: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--out",
        out,
        "--device",
        device,
        "--set",
        epochs,
        "--set",
        "training.checkpoint_steps=5",
    ]
}

/// The history's rows without the wall-time column.
fn history(run: &Path) -> Vec<Vec<f64>> {
    let text = fs::read_to_string(run.join("history.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            l.split(',')
                .zip(&header)
                .filter(|(_, h)| !h.contains("time") && !h.contains("second"))
                .map(|(v, _)| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect()
}

#[test]
fn training_through_a_loopback_server_matches_local_training() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let device = server.device();
    let remote = manabi(
        dir.path(),
        &train_args("remote", &device, "training.epochs=2"),
    );
    assert!(remote.status.success(), "{}", stderr(&remote));
    let local = manabi(dir.path(), &train_args("local", "cpu", "training.epochs=2"));
    assert!(local.status.success(), "{}", stderr(&local));
    let (r, l) = (
        history(&dir.path().join("remote")),
        history(&dir.path().join("local")),
    );
    assert_eq!(r.len(), 2);
    for (re, le) in r.iter().zip(&l) {
        for (a, b) in re.iter().zip(le) {
            // Same seed, same Flex arithmetic; the local run may take manabi's own kernels.
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{re:?} vs {le:?}");
        }
    }
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let device = format!("remote://127.0.0.1:{port}");
    let o = manabi(dir.path(), &train_args("r", &device, "training.epochs=1"));
    assert_clean_error(&o, &["cannot reach a manabi server", "manabi serve"]);
    assert!(!dir.path().join("r").exists(), "no run folder is left");
}

#[test]
fn a_server_that_dies_mid_run_stops_the_run_with_its_checkpoint_intact() {
    let mut server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let device = server.device();
    let mut child = Command::new(env!("CARGO_BIN_EXE_manabi"))
        .args(train_args("run", &device, "training.epochs=200"))
        .current_dir(dir.path())
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let state = dir.path().join("run/checkpoint/state.json");
    let started = Instant::now();
    while !state.is_file() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the client hangs after the server died");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains(&server.address) && err.contains("--resume"),
        "{err}"
    );
    assert!(!err.contains("stack backtrace"), "{err}");
    assert!(!dir.path().join("run/metrics.json").exists());
    let saved: serde_json::Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    assert!(saved["global_step"].as_u64().unwrap() >= 5, "{saved}");
    // The checkpoint the server left behind resumes on the local CPU.
    let mut args = train_args("run", "cpu", "training.epochs=200");
    args.push("--resume");
    let o = manabi(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming"), "{}", stderr(&o));
}

/// One autodiff step: the loss and the weight's gradient.
fn step(device: &Device) -> (Vec<f32>, Vec<f32>) {
    let x = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device);
    let w = Tensor::<2>::from_floats([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], device).require_grad();
    let y = x.matmul(w.clone()).tanh().sum();
    let grads = y.backward();
    let g = w.grad(&grads).unwrap();
    (
        y.into_data().try_to_vec::<f32>().unwrap(),
        g.into_data().try_to_vec::<f32>().unwrap(),
    )
}

/// In one process, with a token: Burn's server starts its logging here, so this test lives
/// apart from the library's unit tests.
#[test]
fn a_loopback_server_computes_what_flex_computes() {
    let server =
        manabi::remote::Server::bind("127.0.0.1:0", Device::flex(), Some("secret".into())).unwrap();
    let address = server.address().unwrap().to_string();
    std::thread::spawn(move || server.serve());
    let remote = manabi::remote::connect(&address, Some("secret"))
        .unwrap()
        .autodiff();
    assert_eq!(step(&remote), step(&Device::flex().autodiff()));
    let wrong = manabi::remote::connect(&address, Some("guess")).map(|d| {
        // A refused session may only fail on first use.
        std::panic::catch_unwind(|| step(&d.autodiff())).is_ok()
    });
    assert!(!matches!(wrong, Ok(true)), "a wrong token is refused");
}
