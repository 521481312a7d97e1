//! Class subsets of a labelled dataset: keep some classes (renumbered), or a few labelled
//! samples per class (the "few labels" of transfer and semi-supervised experiments).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::split::stratified_subset;
use super::{Dataset, Targets};
use crate::{Error, Result};

/// The labels and class count of `data`, or an error naming `key` for regression targets.
fn class_labels<'a>(data: &'a Dataset, key: &str, what: &str) -> Result<(&'a [u32], usize)> {
    match &data.targets {
        Targets::Classes {
            labels,
            num_classes,
        } => Ok((labels, *num_classes)),
        Targets::Regression { .. } => Err(Error::invalid(
            key,
            format!("{what} has regression targets; `{key}` needs class labels"),
        )),
    }
}

/// The samples of `classes` only, relabelled `classes[k] -> k` (so `[5, 6, 7, 8, 9]` becomes
/// `0..5`); class names follow. `what` names the data in errors.
pub fn keep_classes(data: &Dataset, classes: &[u32], what: &str) -> Result<Dataset> {
    let (labels, num_classes) = class_labels(data, "data.classes", what)?;
    let mut new_label = vec![None; num_classes];
    for (k, &c) in classes.iter().enumerate() {
        let slot = new_label.get_mut(c as usize).ok_or_else(|| {
            Error::invalid(
                "data.classes",
                format!("class {c} does not exist ({what} has classes 0..{num_classes})"),
            )
        })?;
        if slot.replace(k as u32).is_some() {
            return Err(Error::invalid(
                "data.classes",
                format!("class {c} is listed twice"),
            ));
        }
    }
    let keep: Vec<usize> = (0..labels.len())
        .filter(|&i| new_label[labels[i] as usize].is_some())
        .collect();
    let mut out = data.subset(&keep);
    out.targets = Targets::Classes {
        labels: keep
            .iter()
            .map(|&i| new_label[labels[i] as usize].expect("kept"))
            .collect(),
        num_classes: classes.len(),
    };
    out.class_names = data.class_names.as_ref().map(|names| {
        classes
            .iter()
            .map(|&c| {
                names
                    .get(c as usize)
                    .cloned()
                    .unwrap_or_else(|| c.to_string())
            })
            .collect()
    });
    Ok(out)
}

/// `per_class` samples of every class, drawn with `seed` (data order kept). Every class must
/// have that many.
pub fn per_class_sample(data: &Dataset, per_class: usize, seed: u64) -> Result<Dataset> {
    Ok(data.subset(&per_class_indices(data, per_class, seed)?))
}

/// The indices (ascending) of `per_class` samples of every class, drawn with `seed`: the
/// labelled part of a few-label or semi-supervised run. Errors when a class has fewer.
pub fn per_class_indices(data: &Dataset, per_class: usize, seed: u64) -> Result<Vec<usize>> {
    let (labels, num_classes) = class_labels(data, "data.train_per_class", "the training data")?;
    let mut counts = vec![0usize; num_classes];
    for &l in labels {
        counts[l as usize] += 1;
    }
    if let Some((c, &n)) = counts.iter().enumerate().find(|(_, n)| **n < per_class) {
        return Err(Error::invalid(
            "data.train_per_class",
            format!("class {c} has only {n} training samples, fewer than {per_class}"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(stratified_subset(labels, per_class, &mut rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize, classes: usize) -> Dataset {
        let mut d = Dataset::new(
            (0..n).map(|i| i as f32).collect(),
            vec![1],
            Targets::Classes {
                labels: (0..n).map(|i| (i % classes) as u32).collect(),
                num_classes: classes,
            },
        )
        .unwrap();
        d.class_names = Some((0..classes).map(|c| format!("c{c}")).collect());
        d
    }

    #[test]
    fn keeps_and_renumbers_the_chosen_classes() {
        let d = keep_classes(&ramp(10, 4), &[3, 1], "train").unwrap();
        assert_eq!(d.features, vec![1.0, 3.0, 5.0, 7.0, 9.0]);
        assert_eq!(
            d.targets,
            Targets::Classes {
                labels: vec![1, 0, 1, 0, 1],
                num_classes: 2
            }
        );
        assert_eq!(d.class_names, Some(vec!["c3".into(), "c1".into()]));
    }

    #[test]
    fn bad_class_lists_are_named() {
        let err = keep_classes(&ramp(10, 4), &[1, 4], "train").unwrap_err();
        assert!(err.to_string().contains("class 4 does not exist"), "{err}");
        let err = keep_classes(&ramp(10, 4), &[1, 1], "train").unwrap_err();
        assert!(err.to_string().contains("listed twice"), "{err}");
    }

    #[test]
    fn samples_exactly_per_class_and_follows_the_seed() {
        let data = ramp(40, 4);
        let a = per_class_sample(&data, 3, 1).unwrap();
        let Targets::Classes { labels, .. } = &a.targets else {
            unreachable!()
        };
        for c in 0..4 {
            assert_eq!(labels.iter().filter(|&&l| l == c).count(), 3);
        }
        assert_eq!(a, per_class_sample(&data, 3, 1).unwrap());
        assert_ne!(a.features, per_class_sample(&data, 3, 2).unwrap().features);
        let err = per_class_sample(&data, 11, 1).unwrap_err();
        assert!(err.to_string().contains("only 10"), "{err}");
    }
}
