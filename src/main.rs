// See Cargo.toml: mimalloc is faster than the system allocator for a compile's
// many small, short-lived allocations on several threads.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tenantc::cli::main()
}
