//! `dev-health-license`: the Dev Health license tool. Offline subcommands (keygen, issue, verify,
//! inspect, jwks, entitlements, session) live in `cli/`, one module each; the server is `serve`.

mod cli;

use dev_health_license_server::serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Issue, verify and inspect Dev Health licenses; resolve entitlements; run the license server.
#[derive(Debug, Parser)]
#[command(name = "dev-health-license", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each variant's arguments and `run` live in the module of the same name.
#[derive(Debug, Subcommand)]
enum Command {
    /// Generate an Ed25519 signing key: seed file (0600) and public JWK.
    Keygen(cli::keygen::Args),
    /// Sign a license and print the token.
    Issue(cli::issue::Args),
    /// Verify a license; exit 0 when it is active or in grace, 1 otherwise.
    Verify(cli::verify::Args),
    /// Show a token's header and claims WITHOUT verifying it.
    Inspect(cli::inspect::Args),
    /// Print a JWKS document of public keys.
    Jwks(cli::jwks::Args),
    /// Resolve an org's tier, features and limits and print the entitlements JSON.
    Entitlements(cli::entitlements::Args),
    /// Mint a user session token signed by the development session key (development only).
    Session(cli::session::Args),
    /// Run the license server: webhooks, entitlements, licenses, JWKS.
    Serve(serve::ServeArgs),
    /// Reconcile with Stripe (configuration as for `serve`).
    #[command(subcommand)]
    Stripe(StripeCommand),
}

/// `dev-health-license stripe ...`.
#[derive(Debug, Subcommand)]
enum StripeCommand {
    /// Bring every org to the state its Stripe subscriptions imply (what lost webhooks missed).
    Sync(serve::SyncArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Keygen(args) => cli::keygen::run(args),
        Command::Issue(args) => cli::issue::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Inspect(args) => cli::inspect::run(args),
        Command::Jwks(args) => cli::jwks::run(args),
        Command::Entitlements(args) => cli::entitlements::run(args),
        Command::Session(args) => cli::session::run(args),
        Command::Stripe(StripeCommand::Sync(args)) => serve::run_stripe_sync(args),
        Command::Serve(args) => serve::run(args),
    }
}
