//! `manabi augment-preview RECIPE`: a PNG grid of the first training images of a recipe's data
//! and a few draws of each `[augment]` view, to see what the model will be shown.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use manabi::plot::{Picture, plot_image_grid};
use manabi::recipe::Recipe;
use manabi::run::prepare_data;

use super::Common;

#[derive(Args, Debug)]
pub struct AugmentPreviewArgs {
    /// Recipe file with an [augment] section.
    recipe: PathBuf,
    /// PNG file to write.
    #[arg(long, default_value = "augment_preview.png")]
    out: PathBuf,
    /// Training images shown (one per row).
    #[arg(long, default_value_t = 8)]
    images: usize,
    /// Draws of each view per image.
    #[arg(long, default_value_t = 3)]
    draws: usize,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: AugmentPreviewArgs) -> Result<()> {
    let recipe = Recipe::load(&args.recipe)?;
    let Some(section) = &recipe.augment else {
        bail!(
            "{} has no [augment] section: add [[augment.views]] with ops = [...]",
            args.recipe.display()
        );
    };
    if args.images == 0 || args.draws == 0 {
        bail!("--images and --draws must be at least 1");
    }
    let data = prepare_data(&recipe.data, args.common.data_dir.as_deref())?;
    section.check_shape(&data.train.sample_shape, data.text.is_some())?;
    if data.train.sample_shape.len() != 3 {
        bail!("augment-preview draws images; the data of this recipe are token sequences");
    }
    let shape = [
        data.train.sample_shape[0],
        data.train.sample_shape[1],
        data.train.sample_shape[2],
    ];
    let n = args.images.min(data.train.len());
    let originals: Vec<f32> = (0..n)
        .flat_map(|i| data.train.sample(i).iter().copied())
        .collect();
    // views[v][d] holds draw d of view v for all n images.
    let views: Vec<Vec<Vec<f32>>> = section
        .views
        .iter()
        .enumerate()
        .map(|(v, pipeline)| {
            (0..args.draws)
                .map(|d| {
                    pipeline.apply_batch(&originals, shape, recipe.seed ^ ((v * 1000 + d) as u64))
                })
                .collect()
        })
        .collect();
    let len = shape.iter().product::<usize>();
    let rows: Vec<Vec<Picture>> = (0..n)
        .map(|i| {
            let mut row = vec![Picture {
                shape,
                values: &originals[i * len..(i + 1) * len],
            }];
            for draws in &views {
                for draw in draws {
                    row.push(Picture {
                        shape,
                        values: &draw[i * len..(i + 1) * len],
                    });
                }
            }
            row
        })
        .collect();
    let mut columns = vec!["original".to_string()];
    for v in 0..views.len() {
        for d in 0..args.draws {
            columns.push(format!("view {} #{}", v + 1, d + 1));
        }
    }
    let title = format!("{}: augmented views", recipe.name);
    plot_image_grid(&rows, &columns, &args.out, &title)?;
    println!(
        "wrote {} images x ({} views x {} draws) to {}",
        n,
        views.len(),
        args.draws,
        args.out.display()
    );
    Ok(())
}
