//! The `wangge` binary: everything it does is in [`wangge::cli`].

fn main() -> std::process::ExitCode {
    wangge::cli::main()
}
