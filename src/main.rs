// See Cargo.toml: mimalloc is faster than the system allocator for a compile's
// many small, short-lived allocations on several threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tenantc::cli::main()
}
