//! `manabi summary RECIPE`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{Common, load_recipe};

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// Recipe file (TOML); the default recipe when omitted.
    recipe: Option<PathBuf>,
    /// Input shape without the batch axis (e.g. 1,28,28); read from the dataset otherwise.
    #[arg(long, value_delimiter = ',')]
    input_shape: Option<Vec<usize>>,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: SummaryArgs) -> Result<()> {
    let recipe = load_recipe(args.recipe.as_ref())?;
    let shape = match args.input_shape {
        Some(s) => s,
        None => input_shape(&recipe, args.common.data_dir.as_deref())?,
    };
    println!("{}", recipe.model.summary(&recipe.name, &shape)?);
    Ok(())
}

/// The model's input shape: known for the built-in sets (unless PCA changes it), otherwise
/// read from the prepared data.
fn input_shape(
    recipe: &manabi::recipe::Recipe,
    data_dir: Option<&std::path::Path>,
) -> Result<Vec<usize>> {
    use manabi::data::{DatasetName, PreprocessConfig};
    let has_pca = recipe
        .data
        .preprocess
        .iter()
        .any(|p| matches!(p, PreprocessConfig::Pca { .. }));
    let known = match recipe.data.dataset {
        Some(DatasetName::Mnist | DatasetName::FashionMnist) => Some(vec![1, 28, 28]),
        Some(DatasetName::Usps) => Some(vec![1, 16, 16]),
        Some(DatasetName::Digits) => Some(vec![1, 8, 8]),
        Some(DatasetName::Diabetes) => Some(vec![10]),
        Some(DatasetName::Imdb) | None => recipe.data.text.as_ref().map(|t| vec![t.maxlen]),
    };
    match known {
        Some(shape) if !has_pca => Ok(shape),
        _ => Ok(manabi::run::prepare_data(&recipe.data, data_dir)?
            .train
            .sample_shape),
    }
}
