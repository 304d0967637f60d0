//! File work from async code without stalling the runtime's other tasks.

/// Runs `work` (file reads and writes) where blocking is allowed: on the multi-threaded
/// runtime the tool runs on, the worker hands its other tasks to another thread first
/// (`block_in_place`); elsewhere (a single-threaded test runtime, no runtime) it just runs.
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
