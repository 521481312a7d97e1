//! `manabi shift RECIPE`: is the new data shifted from the reference, and how?

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use manabi::recipe::ShiftRecipe;
use manabi::run::{ShiftReport, shift_recipe};

use super::Common;

#[derive(Args, Debug)]
pub struct ShiftArgs {
    /// A shift recipe (`[reference]`, `[new]`, `[shift]`), e.g. recipes/domain/shift_mnist_usps.toml.
    recipe: PathBuf,
    /// Output folder (default: runs/<recipe name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seed of the draws (default: the recipe's).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: ShiftArgs) -> Result<()> {
    let mut recipe = ShiftRecipe::load(&args.recipe)?;
    if let Some(seed) = args.seed {
        recipe.seed = seed;
    }
    let device = args.common.device()?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&recipe.name));
    let report = shift_recipe(&recipe, &out, args.common.data_dir.as_deref(), &device)?;
    print!("{}", describe(&report));
    Ok(())
}

/// `= 1.2e-5`, or `< 1e-16` below what a double's tail resolves.
fn p_value(p: f64) -> String {
    match p < 1e-16 {
        true => "< 1e-16".into(),
        false => format!("= {p:.2e}"),
    }
}

/// The report as a person reads it.
fn describe(r: &ShiftReport) -> String {
    let verdict = |shifted: bool| {
        if shifted {
            "SHIFTED"
        } else {
            "no shift detected"
        }
    };
    let mut s = format!(
        "reference: {} samples, new: {} samples; compared on {}\n",
        r.sizes[0], r.sizes[1], r.features
    );
    s += &format!(
        "covariate shift: {} (alpha {})\n  domain classifier AUC {:.3} [95% {:.3}, {:.3}], p {} ({} held-out samples per side)\n  MMD^2 {:.5}, permutation p = {:.4} ({} samples per side, {} permutations)\n",
        verdict(r.covariate_shift),
        r.alpha,
        r.domain_auc.auc,
        r.domain_auc.interval[0],
        r.domain_auc.interval[1],
        p_value(r.domain_auc.p_value),
        r.domain_auc.held_out,
        r.mmd.mmd2,
        r.mmd.p_value,
        r.mmd.samples,
        r.mmd.permutations
    );
    if let Some(l) = &r.label_shift {
        let row = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        s += &format!(
            "label shift (BBSE):\n  reference priors  {}\n  estimated priors  {}\n  prediction shares {}\n  true priors       {}\n  largest error {:.3}\n",
            row(&l.reference_priors),
            row(&l.estimated_priors),
            row(&l.predicted_shares),
            row(&l.true_priors),
            l.max_error
        );
    }
    if let Some(c) = &r.concept_shift {
        s += &format!(
            "concept shift: {}\n  accuracy on the reference {:.4}, {:.4} expected under the estimated priors, on {} labelled new samples {:.4}; drop [95% {:.3}, {:.3}]\n",
            verdict(c.shifted),
            c.reference_accuracy,
            c.expected_accuracy,
            c.labelled,
            c.new_accuracy,
            c.drop_interval[0],
            c.drop_interval[1]
        );
    }
    s += &format!(
        "wrote {}/shift.json and shift_features.png\n",
        r.dir.display()
    );
    s
}
