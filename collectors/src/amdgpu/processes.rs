//! Which processes use the GPU, and how much: `/proc/PID/fd` links to `/dev/dri/*` and
//! `/dev/kfd`, then `/proc/PID/fdinfo/FD` of the DRM ones.
//!
//! Reading another user's fds needs ptrace access (root), so without root those processes are
//! counted as hidden rather than failing the sample.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::time::{ClockId, clock_gettime};

use super::discover::Card;
use super::fdinfo::{self, DrmClient};
use super::text::{read_small_text, read_trimmed};
use crate::model::{GpuProcess, GpuProcesses};
use crate::sysfs::{ReadErrorKind, list_dir};

/// Walking every fd of every process is the costly part (thousands of readlinks on a desktop),
/// and GPU clients come and go rarely, so the walk runs this often; the fdinfo of the clients
/// it found is read on every sample.
const SCAN_EVERY: Duration = Duration::from_secs(5);

/// The longest command line kept, in characters.
const COMMAND_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientFd {
    pid: u32,
    fdinfo: PathBuf,
}

/// What the walk learns of a process with DRM fds; names rarely change, so they are read then.
#[derive(Debug, Clone, Default)]
struct Identity {
    name: String,
    command: Option<String>,
    uses_kfd: bool,
}

#[derive(Default)]
pub struct ProcessScanner {
    /// DRM fds found by the last walk, by pid order.
    drm_fds: Vec<ClientFd>,
    identities: HashMap<u32, Identity>,
    hidden: u32,
    scanned_at: Option<Instant>,
}

impl ProcessScanner {
    pub fn sample(
        &mut self,
        procfs_root: &Path,
        sysfs_root: &Path,
        cards: &[Card],
        now: Instant,
    ) -> GpuProcesses {
        if self.scanned_at.is_none_or(|t| now.duration_since(t) >= SCAN_EVERY) {
            self.walk(procfs_root, sysfs_root);
            self.scanned_at = Some(now);
        }
        let mut seen_clients = HashSet::new();
        let mut by_process: BTreeMap<(u32, Option<String>), GpuProcess> = BTreeMap::new();
        for fd in &self.drm_fds {
            // The fd may be closed by now, or the process gone: skip it until the next walk.
            let Ok(text) = read_small_text(&fd.fdinfo) else { continue };
            let Some(client) = fdinfo::parse(&text).filter(|c| c.driver == "amdgpu") else {
                continue;
            };
            // dup'ed and inherited fds share one client: count it once, for the first pid.
            if let Some(id) = client.client_id
                && !seen_clients.insert((client.pdev.clone(), id))
            {
                continue;
            }
            let entry = by_process
                .entry((fd.pid, client.pdev.clone()))
                .or_insert_with(|| self.new_process(fd.pid, &client, cards));
            add_client(entry, &client);
        }
        let read_mono_ns = clock_gettime(ClockId::CLOCK_MONOTONIC).ok().and_then(|t| {
            u64::try_from(t.tv_sec())
                .ok()?
                .checked_mul(1_000_000_000)?
                .checked_add(u64::try_from(t.tv_nsec()).ok()?)
        });
        let mut clients: Vec<GpuProcess> = by_process
            .into_values()
            .map(|mut p| {
                // The kernel prints only non-zero engines, so no engine lines means idle, except
                // for ROCm processes, whose work fdinfo does not see at all.
                p.engine_time_visible = !p.uses_kfd || !p.engine_ns.is_empty();
                p
            })
            .collect();
        clients.sort_by(|a, b| b.gpu_memory_bytes.cmp(&a.gpu_memory_bytes).then(a.pid.cmp(&b.pid)));
        GpuProcesses { clients, hidden_processes: self.hidden, read_mono_ns }
    }

    /// Lists every process's fds and remembers the DRM ones, and who uses KFD.
    fn walk(&mut self, procfs_root: &Path, sysfs_root: &Path) {
        self.drm_fds.clear();
        self.identities.clear();
        self.hidden = 0;
        let is_pid = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
        // ROCm processes also appear here (world-readable), even when their fds are not.
        let mut kfd_pids: HashSet<u32> = list_dir(&sysfs_root.join("class/kfd/kfd/proc"), is_pid)
            .unwrap_or_default()
            .iter()
            .filter_map(|(name, _)| name.parse().ok())
            .collect();
        let Ok(pids) = list_dir(procfs_root, is_pid) else { return };
        let mut drm_pids = Vec::new();
        for (name, dir) in pids {
            let Ok(pid) = name.parse::<u32>() else { continue };
            let fds = match list_dir(&dir.join("fd"), |_| true) {
                Ok(fds) => fds,
                Err(e) => {
                    if let ReadErrorKind::Io(io) = &e.kind
                        && matches!(io.kind(), io::ErrorKind::PermissionDenied)
                    {
                        self.hidden += 1;
                    }
                    continue; // gone since the listing, or a kernel thread
                }
            };
            for (fd, link) in fds {
                let Ok(target) = std::fs::read_link(&link) else { continue };
                let target = target.to_string_lossy();
                if target == "/dev/kfd" {
                    kfd_pids.insert(pid);
                } else if target.starts_with("/dev/dri/renderD")
                    || target.starts_with("/dev/dri/card")
                {
                    self.drm_fds.push(ClientFd { pid, fdinfo: dir.join("fdinfo").join(fd) });
                    drm_pids.push((pid, dir.clone()));
                }
            }
        }
        for (pid, dir) in drm_pids {
            self.identities.entry(pid).or_insert_with(|| Identity {
                name: read_trimmed(&dir.join("comm")).unwrap_or_else(|_| "?".into()),
                command: read_small_text(&dir.join("cmdline")).ok().and_then(|c| command_line(&c)),
                uses_kfd: kfd_pids.contains(&pid),
            });
        }
    }

    fn new_process(&self, pid: u32, client: &DrmClient, cards: &[Card]) -> GpuProcess {
        let identity = self.identities.get(&pid).cloned().unwrap_or_default();
        let card = cards
            .iter()
            .find(|c| c.identity.pci_bdf.is_some() && c.identity.pci_bdf == client.pdev);
        GpuProcess {
            pid,
            name: identity.name,
            command: identity.command,
            card: card.map(|c| c.name.clone()),
            pci_bdf: client.pdev.clone(),
            uses_kfd: identity.uses_kfd,
            ..GpuProcess::default()
        }
    }
}

fn add_client(process: &mut GpuProcess, client: &DrmClient) {
    let add = |sum: Option<u64>, more: Option<u64>| match (sum, more) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    process.client_ids.extend(client.client_id);
    process.vram_bytes = add(process.vram_bytes, client.total_bytes("vram"));
    process.gtt_bytes = add(process.gtt_bytes, client.total_bytes("gtt"));
    process.gpu_memory_bytes = add(process.vram_bytes, process.gtt_bytes);
    process.evicted_vram_bytes = add(process.evicted_vram_bytes, client.evicted_vram_bytes);
    for (name, region) in
        client.regions.iter().filter(|(_, r)| r.total_bytes.is_some_and(|t| t > 0))
    {
        let sum = process.regions.entry(name.clone()).or_default();
        sum.total_bytes = add(sum.total_bytes, region.total_bytes);
        sum.shared_bytes = add(sum.shared_bytes, region.shared_bytes);
        sum.resident_bytes = add(sum.resident_bytes, region.resident_bytes);
        sum.purgeable_bytes = add(sum.purgeable_bytes, region.purgeable_bytes);
    }
    for (engine, ns) in &client.engine_ns {
        *process.engine_ns.entry(engine.clone()).or_insert(0) += ns;
    }
}

/// `cmdline` is NUL-separated (with no trailing newline); shown with spaces, shortened.
fn command_line(raw: &str) -> Option<String> {
    let joined = raw.split('\0').filter(|a| !a.is_empty()).collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        return None;
    }
    Some(match joined.char_indices().nth(COMMAND_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amdgpu::discover::discover;
    use crate::amdgpu::testing::{fixture_procfs, fixture_sysfs};

    fn scan(scenario: &str) -> GpuProcesses {
        let sysfs = fixture_sysfs(scenario);
        let cards = discover(&sysfs).unwrap();
        ProcessScanner::default().sample(&fixture_procfs(scenario), &sysfs, &cards, Instant::now())
    }

    #[test]
    fn finds_llama_server_and_its_gtt_once_for_two_fds() {
        let p = scan("strix-halo-load");
        let names: Vec<_> = p.clients.iter().map(|c| (c.pid, c.name.as_str())).collect();
        // i915's client (pid 2077) is not ours; Xwayland uses /dev/dri/card1.
        assert_eq!(names, [(4242, "llama-server"), (1830, "gnome-shell"), (1502, "Xwayland")]);
        let llama = &p.clients[0];
        assert_eq!(llama.client_ids, [196_416], "fds 7 and 8 share one client");
        assert_eq!(llama.gtt_bytes, Some(29_971_892 * 1024));
        assert_eq!(llama.vram_bytes, Some(395_148 * 1024));
        assert_eq!(llama.gpu_memory_bytes, Some((29_971_892 + 395_148) * 1024));
        assert_eq!(llama.regions.keys().collect::<Vec<_>>(), ["gtt", "vram"], "regions in use");
        assert_eq!(llama.regions["gtt"].purgeable_bytes, Some(2816 * 1024));
        let shell = &p.clients[1];
        assert_eq!(shell.regions["gtt"].shared_bytes, Some(23_040 * 1024));
        assert_eq!(llama.card.as_deref(), Some("card1"));
        assert_eq!(llama.engine_ns.get("compute"), Some(&25_285_118_630));
        assert!(llama.engine_time_visible && !llama.uses_kfd);
        assert_eq!(
            llama.command.as_deref(),
            Some("llama-server -m /models/gpt-oss-120b-mxfp4.gguf -ngl 999")
        );
        assert_eq!(p.hidden_processes, 0);
        assert!(p.read_mono_ns.is_some());
    }

    #[test]
    fn rocm_processes_have_memory_but_no_visible_engine_time() {
        let p = scan("strix-halo-uma64g");
        let ollama = p.clients.iter().find(|c| c.name == "ollama").unwrap();
        assert!(ollama.uses_kfd);
        assert!(!ollama.engine_time_visible);
        assert_eq!(ollama.gtt_bytes, Some(64 << 20));
        assert_eq!(ollama.vram_bytes, Some(12 << 30));
        let llama = p.clients.iter().find(|c| c.name == "llama-server").unwrap();
        assert_eq!(llama.vram_bytes, Some(29_971_892 * 1024), "UMA-first: the model is in VRAM");
    }

    #[test]
    fn command_lines() {
        assert_eq!(command_line("a\0b c\0").as_deref(), Some("a b c"));
        assert_eq!(command_line(""), None);
        let long = "x".repeat(300);
        assert_eq!(command_line(&long).unwrap().chars().count(), COMMAND_CHARS + 1);
    }
}
