//! The card's text attributes: memory pools, busy percentages, performance level, and the
//! `pp_dpm_*` clock level lists.

use std::io::{self, Read};
use std::path::Path;

use crate::model::{DpmClock, DpmClocks, GpuMemory};
use crate::sysfs::{ReadError, ReadErrorKind, parse_u64};

/// sysfs and procfs hand a small file over whole in one `read()` (sysfs attributes are at most a
/// page; fdinfo, meminfo and cmdline fill the buffer as far as they go), so a read that does not
/// fill the buffer is the whole file and the usual second read, to see the end, is skipped. That
/// halves the system calls of a sample. A file that fills the buffer is read on to its end.
pub fn read_small(path: &Path) -> Result<Vec<u8>, ReadError> {
    const PAGE: usize = 4096;
    const MAX_BYTES: u64 = 1 << 20;
    let io_err = |e| ReadError { path: path.to_path_buf(), kind: ReadErrorKind::Io(e) };
    let mut file = std::fs::File::open(path).map_err(io_err)?;
    let mut page = [0u8; PAGE];
    let n = loop {
        match file.read(&mut page) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => break other.map_err(io_err)?,
        }
    };
    let mut bytes = page[..n].to_vec();
    if n == PAGE {
        file.take(MAX_BYTES).read_to_end(&mut bytes).map_err(io_err)?;
    }
    Ok(bytes)
}

/// [`read_small`] as (lossy) UTF-8 text.
pub fn read_small_text(path: &Path) -> Result<String, ReadError> {
    read_small(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A one-value attribute without its trailing newline and spaces.
pub fn read_trimmed(path: &Path) -> Result<String, ReadError> {
    Ok(read_small_text(path)?.trim_end().to_string())
}

/// Collects what went wrong with files that exist. A missing file is the kernel saying "not
/// supported on this ASIC" and is simply `None`.
pub struct Problems<'a>(pub &'a mut Vec<String>);

impl Problems<'_> {
    pub fn keep<T>(&mut self, result: Result<T, ReadError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                self.0.push(e.to_string());
                None
            }
        }
    }

    pub fn push(&mut self, problem: String) {
        self.0.push(problem);
    }
}

/// Reads a decimal or `0x` hex number; an empty file is its own, clear error.
pub fn read_number(path: &Path) -> Result<u64, ReadError> {
    let text = read_trimmed(path)?;
    if text.is_empty() {
        return Err(ReadError::parse(path, "empty file"));
    }
    parse_u64(&text).ok_or_else(|| ReadError::parse(path, format!("not a number: {text:?}")))
}

/// Reads a one-word attribute such as `power_dpm_force_performance_level`.
pub fn read_word(path: &Path) -> Result<String, ReadError> {
    let text = read_trimmed(path)?;
    if text.is_empty() {
        return Err(ReadError::parse(path, "empty file"));
    }
    Ok(text)
}

/// TTM's page limit is 4 KiB pages whatever the CPU's page size.
const TTM_PAGE_BYTES: u64 = 4096;

/// TTM's cap on GTT (`pages_limit` of in-tree `ttm`, or `amdttm` of AMD's out-of-tree DKMS
/// driver), in bytes. A module parameter: read with the slowly changing files.
pub fn ttm_limit_bytes(sysfs_root: &Path, problems: &mut Problems) -> Option<u64> {
    ["module/ttm/parameters/pages_limit", "module/amdttm/parameters/pages_limit"]
        .iter()
        .find_map(|rel| problems.keep(read_number(&sysfs_root.join(rel))))
        .map(|pages| pages.saturating_mul(TTM_PAGE_BYTES))
}

/// VRAM and GTT pools, and what GTT can really hold under the TTM cap.
pub fn memory(device_dir: &Path, ttm_limit: Option<u64>, problems: &mut Problems) -> GpuMemory {
    let mut number = |file: &str| problems.keep(read_number(&device_dir.join(file)));
    let gtt_total = number("mem_info_gtt_total");
    GpuMemory {
        vram_total_bytes: number("mem_info_vram_total"),
        vram_used_bytes: number("mem_info_vram_used"),
        gtt_total_bytes: gtt_total,
        gtt_used_bytes: number("mem_info_gtt_used"),
        ttm_limit_bytes: ttm_limit,
        gtt_allocatable_bytes: match (gtt_total, ttm_limit) {
            (Some(total), Some(limit)) => Some(total.min(limit)),
            (total, None) => total,
            (None, Some(_)) => None,
        },
    }
}

/// A `*_busy_percent` file.
pub fn busy_percent(path: &Path, problems: &mut Problems) -> Option<f64> {
    problems.keep(read_number(path)).map(|v| (v as f64).min(100.0))
}

/// The four clock domains worth showing on an APU.
pub fn dpm_clocks(device_dir: &Path, problems: &mut Problems) -> DpmClocks {
    let mut read = |file: &str, fine_grained: bool| {
        let path = device_dir.join(file);
        let text = problems.keep(read_trimmed(&path))?;
        match parse_dpm(&text, fine_grained) {
            Ok(clock) => Some(clock),
            Err(why) => {
                problems.push(format!("{}: {why}", path.display()));
                None
            }
        }
    };
    DpmClocks {
        sclk: read("pp_dpm_sclk", true),
        mclk: read("pp_dpm_mclk", false),
        fclk: read("pp_dpm_fclk", false),
        socclk: read("pp_dpm_socclk", false),
    }
}

/// Parses a `pp_dpm_*` file: lines `N: <MHz>Mhz` with a `*` on the current level.
///
/// Quirks (kernel `smu_v14_0_0_emit_clk_levels` and friends):
/// - a line ends `"Mhz \n"` or `"Mhz *\n"`, so there is a space before the star or newline;
/// - discrete clocks (mclk, fclk, socclk) may star 0, 1 or several lines (the star marks every
///   level equal to the current clock, and the top level can be listed twice), and older
///   kernels list mclk in descending order;
/// - a fine-grained clock (sclk on APUs) prints min, a middle line, max: the middle line is the
///   current clock when it is strictly between min and max, and otherwise a placeholder (1100)
///   without a star, which is not a level.
pub fn parse_dpm(text: &str, fine_grained: bool) -> Result<DpmClock, String> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let level = parse_level(line)
            .ok_or_else(|| format!("line {} {line:?} is not a DPM level", n + 1))?;
        lines.push(level);
    }
    if lines.is_empty() {
        return Err("empty file".into());
    }
    let current = lines.iter().find(|(_, starred)| *starred).map(|(mhz, _)| *mhz);
    let placeholder = fine_grained && lines.len() == 3 && !lines[1].1;
    let mut levels: Vec<u32> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !(placeholder && *i == 1))
        .map(|(_, (mhz, _))| *mhz)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    Ok(DpmClock {
        min_mhz: levels.first().copied(),
        max_mhz: levels.last().copied(),
        levels_mhz: levels,
        current_mhz: current,
    })
}

/// `"2: 2900Mhz *"` → (2900, true).
fn parse_level(line: &str) -> Option<(u32, bool)> {
    let (index, rest) = line.split_once(':')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim();
    let (rest, starred) = match rest.strip_suffix('*') {
        Some(r) => (r.trim_end(), true),
        None => (rest, false),
    };
    let digits = rest.strip_suffix("Mhz").or_else(|| rest.strip_suffix("MHz"))?;
    Some((digits.trim().parse().ok()?, starred))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dpm(text: &str, fine: bool) -> DpmClock {
        parse_dpm(text, fine).unwrap()
    }

    #[test]
    fn sclk_placeholder_and_star() {
        let idle = dpm("0: 600Mhz *\n1: 1100Mhz \n2: 2900Mhz \n", true);
        assert_eq!(
            (idle.levels_mhz.as_slice(), idle.current_mhz),
            ([600, 2900].as_slice(), Some(600))
        );
        let between = dpm("0: 600Mhz \n1: 2787Mhz *\n2: 2900Mhz \n", true);
        assert_eq!(between.current_mhz, Some(2787));
        assert_eq!(between.levels_mhz, [600, 2787, 2900]);
        // Performance level `high`: min is raised to max, the middle line is the placeholder.
        let high = dpm("0: 2900Mhz \n1: 1100Mhz \n2: 2900Mhz *\n", true);
        assert_eq!(
            (high.min_mhz, high.max_mhz, high.current_mhz),
            (Some(2900), Some(2900), Some(2900))
        );
        assert_eq!(high.levels_mhz, [2900]);
    }

    #[test]
    fn discrete_clocks_with_zero_one_or_two_stars_in_any_order() {
        let none = dpm("0: 400Mhz \n1: 800Mhz \n2: 937Mhz \n", false);
        assert_eq!((none.current_mhz, none.max_mhz), (None, Some(937)));
        let two = dpm(
            "0: 600Mhz \n1: 736Mhz \n2: 883Mhz \n3: 981Mhz \n4: 1104Mhz \n5: 1261Mhz \n6: 1472Mhz *\n7: 1472Mhz *\n",
            false,
        );
        assert_eq!((two.current_mhz, two.levels_mhz.len()), (Some(1472), 7));
        let descending = dpm("0: 937Mhz *\n1: 800Mhz \n2: 400Mhz \n", false);
        assert_eq!(descending.levels_mhz, [400, 800, 937]);
        assert_eq!(descending.current_mhz, Some(937));
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        assert_eq!(
            parse_dpm("0: 600Mhz *\n1: fast\n", false).unwrap_err(),
            "line 2 \"1: fast\" is not a DPM level"
        );
        assert_eq!(parse_dpm("\n", false).unwrap_err(), "empty file");
        assert!(parse_dpm("600Mhz\n", false).is_err());
        assert!(parse_dpm("0: -5Mhz\n", false).is_err());
        assert!(parse_dpm("0: 99999999999Mhz\n", false).is_err());
    }

    #[test]
    fn small_reads_read_big_files_to_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fdinfo");
        let big: String = (0..2000).map(|i| format!("k{i}:\t{i}\n")).collect();
        assert!(big.len() > 4096);
        std::fs::write(&path, &big).unwrap();
        assert_eq!(read_small_text(&path).unwrap(), big);
        std::fs::write(&path, "42\n").unwrap();
        assert_eq!(read_small(&path).unwrap(), b"42\n");
    }

    #[test]
    fn numbers_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mem_info_gtt_used");
        std::fs::write(&path, "\n").unwrap();
        assert!(
            read_number(&path).unwrap_err().to_string().ends_with("mem_info_gtt_used: empty file")
        );
        std::fs::write(&path, "0x1002\n").unwrap();
        assert_eq!(read_number(&path).unwrap(), 0x1002);
        std::fs::write(&path, "lots\n").unwrap();
        assert!(read_number(&path).unwrap_err().to_string().contains("not a number: \"lots\""));
    }
}
