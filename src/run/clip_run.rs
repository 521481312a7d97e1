//! A CLIP run (SPEC S6): builds the text side from the data's class names (captions, vocabulary,
//! text tower), trains both towers, saves the text tower and vocabulary beside the image model,
//! and measures zero-shot accuracy per held-out template set and image-text retrieval.

use burn::module::Module;
use burn::tensor::Device;

use super::files::{RunFiles, write_atomic};
use super::prepare::PreparedData;
use crate::clip::captions::prompts;
use crate::clip::{
    CaptionSource, ClassWords, Clip, TRAIN_TEMPLATES, Vocabulary, ZERO_SHOT_TEMPLATES, class_words,
    retrieval_recall, zero_shot_accuracy,
};
use crate::model::Sequential;
use crate::recipe::Recipe;
use crate::train::{FitConfig, FitOutcome, Observer, fit_clip, save_record};
use crate::{Error, Result};

/// The file of the text tower's weights in a CLIP run folder.
pub const TEXT_TOWER: &str = "text_encoder.bpk";
/// The file of the text tower's vocabulary in a CLIP run folder.
pub const VOCABULARY: &str = "vocabulary.json";
/// Test images of the retrieval measure (each with one caption).
const RETRIEVAL_IMAGES: usize = 1000;

/// The trained towers and the text side they were trained with.
pub(crate) struct ClipParts {
    clip: Clip,
    words: Vec<ClassWords>,
    vocab: Vocabulary,
}

/// Each class's words, from the data's class names (label numbers when it has none).
fn words_of(data: &PreparedData) -> Vec<ClassWords> {
    let names = match &data.train.class_names {
        Some(names) => names.clone(),
        None => (0..data.train.num_classes().unwrap_or(0))
            .map(|c| c.to_string())
            .collect(),
    };
    class_words(&names)
}

/// Trains `image` as CLIP's image tower with a new text tower.
pub(crate) fn train_clip(
    image: Sequential,
    (text_units, temperature): (usize, f64),
    recipe: &Recipe,
    data: &PreparedData,
    cfg: &FitConfig,
    device: &Device,
    observer: &mut dyn Observer,
) -> Result<(FitOutcome, ClipParts)> {
    let words = words_of(data);
    if words.len() < 2 {
        return Err(Error::invalid(
            "method",
            "CLIP tells classes apart by their captions: the data needs class labels of at least two classes",
        ));
    }
    let training_texts: Vec<String> = words
        .iter()
        .flat_map(|w| prompts(TRAIN_TEMPLATES, w))
        .collect();
    let vocab = Vocabulary::from_texts(training_texts.iter().map(String::as_str));
    let shapes = recipe.model.check(&data.train.sample_shape)?;
    let dims = shapes.last().map_or(0, |s| s.iter().product());
    let clip = Clip::new(image, dims, vocab.len(), text_units, temperature, device)?;
    let source = CaptionSource {
        words: &words,
        vocab: &vocab,
    };
    let (clip, history) = fit_clip(
        clip,
        &data.train,
        data.val.as_ref(),
        &source,
        cfg,
        device,
        observer,
    )?;
    let outcome = FitOutcome {
        model: clip.image.clone(),
        history,
        stopped_at: None,
    };
    Ok((outcome, ClipParts { clip, words, vocab }))
}

/// Saves the text side into the run folder and measures the towers on the test images: zero-shot
/// accuracy per held-out template set (`zero_shot_<set>_accuracy`), retrieval recall@1/5 both
/// ways among 1,000 test images with held-out captions, and the learned scale.
pub(crate) fn finish_clip(
    parts: &ClipParts,
    files: &RunFiles,
    data: &PreparedData,
    seed: u64,
    device: &Device,
) -> Result<Vec<(String, f64)>> {
    let clip = parts.clip.clone().valid();
    let path = files.dir.join(TEXT_TOWER);
    let tmp = path.with_extension("bpk.tmp");
    save_record(&clip.text, &tmp)?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("renaming", &tmp, e))?;
    let vocab = serde_json::to_vec_pretty(&parts.vocab).expect("a vocabulary serialises");
    write_atomic(&files.dir.join(VOCABULARY), &vocab)?;

    let source = CaptionSource {
        words: &parts.words,
        vocab: &parts.vocab,
    };
    let mut metrics = vec![("clip_scale".to_string(), clip.scale())];
    for (name, templates) in ZERO_SHOT_TEMPLATES {
        let acc = zero_shot_accuracy(&clip, &data.test, &source, templates, device)?;
        metrics.push((format!("zero_shot_{name}_accuracy"), acc));
    }
    let acc = zero_shot_accuracy(&clip, &data.test, &source, TRAIN_TEMPLATES, device)?;
    metrics.push(("zero_shot_training_templates_accuracy".to_string(), acc));
    let held_out: Vec<&str> = ZERO_SHOT_TEMPLATES
        .iter()
        .flat_map(|(_, t)| t.iter().copied())
        .collect();
    let recall = retrieval_recall(
        &clip,
        &data.test,
        &source,
        &held_out,
        (RETRIEVAL_IMAGES, seed),
        &[1, 5],
        device,
    )?;
    for (k, i2t, t2i) in recall {
        metrics.push((format!("image_to_text_recall_at_{k}"), i2t));
        metrics.push((format!("text_to_image_recall_at_{k}"), t2i));
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{RunOptions, train_recipe};
    use crate::train::Silent;

    const RECIPE: &str = r#"
name = "clip_test"
seed = 3
[data]
dataset = "digits"
classes = [0, 1, 2, 3, 4]
validation_split = 0.2
preprocess = [{ kind = "scale", divide_by = 16.0 }]
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 32
activation = "relu"
[[model.layers]]
type = "dense"
units = 16
[optimizer]
kind = "adam"
lr = 0.003
[training]
loss = "sparse_categorical_crossentropy"
epochs = 6
batch_size = 32
checkpoint_steps = 0
[method]
kind = "clip"
text_units = 16
"#;

    #[test]
    fn clip_learns_zero_shot_digits_and_saves_the_text_side() {
        let dir = tempfile::tempdir().unwrap();
        let recipe = Recipe::parse(RECIPE, "clip.toml").unwrap();
        let opts = RunOptions {
            data_dir: None,
            out: dir.path().join("c"),
            resume: false,
        };
        let report = train_recipe(&recipe, &opts, &Device::flex(), &mut Silent).unwrap();
        let get = |name: &str| {
            report
                .test
                .metrics
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no {name} in {:?}", report.test.metrics))
                .1
        };
        let loss = report.history.series("loss").unwrap();
        assert!(loss[5] < loss[0], "{loss:?}");
        let monitor = report.history.series("val_zero_shot_accuracy").unwrap();
        assert!(monitor[5] > 0.6, "{monitor:?}");
        // Five classes: chance is 0.2.
        for set in ["name_only", "unseen_photo", "unseen_category"] {
            let acc = get(&format!("zero_shot_{set}_accuracy"));
            assert!(acc > 0.6, "{set}: {acc}");
        }
        assert!(get("image_to_text_recall_at_1") > 0.6);
        assert!(get("text_to_image_recall_at_1") > 0.6);
        for file in [TEXT_TOWER, VOCABULARY, "model.bpk"] {
            assert!(dir.path().join("c").join(file).exists(), "{file}");
        }
        let vocab: Vocabulary =
            serde_json::from_slice(&std::fs::read(dir.path().join("c").join(VOCABULARY)).unwrap())
                .unwrap();
        assert!(vocab.words.contains_key("seven") || vocab.words.contains_key("three"));
        assert!(
            !vocab.words.contains_key("close-up"),
            "held-out prompt words stay out"
        );

        let bad = RECIPE
            .replace("temperature", "x")
            .replace("text_units = 16", "temperature = 0.0");
        let err = Recipe::parse(&bad, "r").unwrap_err().to_string();
        assert!(err.contains("method.temperature"), "{err}");
    }
}
