//! `mpcw-web-bindgen <nodejs|web> <module.wasm> <out-dir>`: the JavaScript bindings of the
//! device party's WebAssembly, for Node.js (CommonJS) or for browsers and mini-programs (an ES
//! module), as `wasm-bindgen --target <target> --remove-name-section
//! --remove-producers-section` writes them. It is the generator the `wasm-bindgen` command
//! wraps, built with the workspace: no separate tool to install, and its version is the one
//! `Cargo.lock` pins for the crate the module was compiled with.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use wasm_bindgen_cli_support::Bindgen;

/// Which JavaScript the bindings are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Node.js: a CommonJS module that reads the WebAssembly next to it.
    Nodejs,
    /// Browsers and mini-programs: an ES module whose `init` takes the WebAssembly.
    Web,
}

impl Target {
    fn parse(name: &str) -> Result<Self> {
        match name {
            "nodejs" => Ok(Self::Nodejs),
            "web" => Ok(Self::Web),
            other => bail!("unknown target {other:?}: nodejs or web"),
        }
    }
}

/// The command line: target, input module, output folder.
#[derive(Debug)]
struct Args {
    target: Target,
    input: PathBuf,
    out_dir: PathBuf,
}

fn parse_args(args: &[String]) -> Result<Args> {
    match args {
        [target, input, out_dir] => Ok(Args {
            target: Target::parse(target)?,
            input: input.into(),
            out_dir: out_dir.into(),
        }),
        _ => bail!("usage: mpcw-web-bindgen <nodejs|web> <module.wasm> <out-dir>"),
    }
}

fn generate(args: &Args) -> Result<()> {
    let mut bindgen = Bindgen::new();
    match args.target {
        Target::Nodejs => bindgen.nodejs(true)?,
        Target::Web => bindgen.web(true)?,
    };
    bindgen
        .input_path(&args.input)
        .typescript(true)
        .demangle(true)
        .remove_name_section(true)
        .remove_producers_section(true)
        // As the command does: the web module's `init()` without an argument loads the
        // WebAssembly next to it (the web signer relies on it; the mini-programs replace it).
        .omit_default_module_path(false)
        .generate(&args.out_dir)
        .with_context(|| {
            format!(
                "writing the bindings of {} into {}",
                args.input.display(),
                args.out_dir.display()
            )
        })
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    generate(&parse_args(&args)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_command_line_takes_a_known_target_a_module_and_a_folder() {
        let args = parse_args(&strings(&["web", "a.wasm", "out"])).unwrap();
        assert_eq!(args.target, Target::Web);
        assert_eq!(args.input, PathBuf::from("a.wasm"));
        assert_eq!(args.out_dir, PathBuf::from("out"));
        assert_eq!(
            parse_args(&strings(&["nodejs", "a.wasm", "out"]))
                .unwrap()
                .target,
            Target::Nodejs
        );
        assert!(parse_args(&strings(&["bundler", "a.wasm", "out"])).is_err());
        assert!(parse_args(&strings(&["web", "a.wasm"])).is_err());
    }

    #[test]
    fn a_module_that_is_not_webassembly_is_an_error() {
        let dir = std::env::temp_dir().join(format!("mpcw-web-bindgen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("not.wasm");
        std::fs::write(&input, b"not webassembly").unwrap();
        let args = Args {
            target: Target::Web,
            input,
            out_dir: dir.join("out"),
        };
        assert!(generate(&args).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
