//! How many threads the reference decoder uses, and making candle agree.
//!
//! Default: every logical CPU but one, so the machine stays responsive and the monitor itself
//! keeps a core (a decoder that competes for every core collapses; see
//! shared/specs/candle-decoder.md, pitfall 4).
//!
//! Our kernels run on our own pool of exactly that many threads. candle's quantized matmul
//! (used only for types we have no kernel for, such as Q4_K and Q6_K) runs on candle's pool,
//! which candle sizes once per process from CANDLE_NUM_THREADS (else RAYON_NUM_THREADS, else
//! the physical core count) at its first use. Setting an environment variable inside a running
//! Rust 2024 program is `unsafe`, which this workspace forbids, so when the variables do not
//! already say `n`, halo-top re-executes itself with them set (same pid, same arguments).

use std::ffi::OsString;

pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Re-executes this process with CANDLE_NUM_THREADS and RAYON_NUM_THREADS set to `n` unless
/// they already are. Returns only if no re-execution was needed, or with the error of `exec`.
pub fn pin_candle_threads(n: usize) -> std::io::Result<()> {
    let want = OsString::from(n.to_string());
    let set = |k: &str| std::env::var_os(k).as_ref() == Some(&want);
    if set("CANDLE_NUM_THREADS") && set("RAYON_NUM_THREADS") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let exe = std::env::current_exe()?;
        let err = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("CANDLE_NUM_THREADS", &want)
            .env("RAYON_NUM_THREADS", &want)
            .exec();
        Err(err)
    }
    #[cfg(not(unix))]
    Ok(())
}
