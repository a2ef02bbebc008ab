//! The guide's code, compiled and checked.
//!
//! Every Rust block of the README and of the guide (`docs/*.md`) is a doc-test of this
//! crate: `cargo test -p sio-docs` compiles each one, and runs those not marked `no_run`.
//! A block that shows a file of the repository (any `ignore`d block, and every block in a
//! language other than Rust, shell or a client's JavaScript or Python) is introduced by a
//! `<!-- file: PATH -->` line, and a test (`tests.rs`) checks that its lines are in that
//! file, in order, so a copied `Cargo.toml` or `wrangler.toml` cannot drift from the
//! tested one.

macro_rules! pages {
    ($($name:ident = $path:literal;)*) => {
        $(
            #[cfg(doctest)]
            #[doc = include_str!($path)]
            pub struct $name;
        )*
        /// Every page whose blocks are checked, by path from the repository's root.
        #[cfg(test)]
        const PAGES: &[&str] = &[$($path),*];
    };
}

pages! {
    Readme = "../README.md";
    Guide = "README.md";
    GettingStarted = "getting-started.md";
    Api = "api.md";
    Native = "native.md";
    Cloudflare = "cloudflare.md";
    Aws = "aws.md";
    MigratingFromNode = "migrating-from-node.md";
    Troubleshooting = "troubleshooting.md";
    Testing = "testing.md";
}

#[cfg(test)]
mod tests;
