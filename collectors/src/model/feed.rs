/// Where the snapshots on screen come from. The live hub and replay publish the same snapshots;
/// only this tells them apart, for the status line.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedMode {
    Live,
    Replay(ReplayState),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayState {
    pub speed: f64,
    pub paused: bool,
    /// Session time of the snapshot on screen, and of the last one in the file (0: unknown).
    pub position_ms: u64,
    pub duration_ms: u64,
    /// The file has been played to its end.
    pub ended: bool,
    /// A problem found while reading the file (a corrupt line), shown instead of stopping.
    pub error: Option<String>,
}
