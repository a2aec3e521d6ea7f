fn main() -> std::process::ExitCode {
    tenantc::cli::main()
}
